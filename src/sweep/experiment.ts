/**
 * The sweep's only door into the training loop. Everything the sweep needs from src/train/ is
 * named here once, so the pool, the worker and the validation share one contract.
 */

import { type ExperimentConfig, resolveExperimentConfig } from "../train/index.js";
import type { SweepRun } from "./expand.js";

export type { RunSummary } from "../train/index.js";
export {
  ATTENTION_KEY_READERS,
  isCompleteConfig,
  readRun,
  resolveExperimentConfig,
  runExperiment,
  unreadKeyReason,
  unreadKeys,
} from "../train/index.js";

/** Each run's parse, by run object (a run expanded again is parsed again: a new edge). */
const PARSED = new WeakMap<SweepRun, ExperimentConfig>();

/**
 * A sweep run's resolved config, parsed the first time it is asked for and remembered for that
 * run object: the spec's validation, the data limits, the existing folders, reuse and the
 * training loop then share one parse per run.
 */
export function runConfig(run: SweepRun): ExperimentConfig {
  let config = PARSED.get(run);
  if (!config) {
    config = resolveExperimentConfig(run.config);
    PARSED.set(run, config);
  }
  return config;
}
