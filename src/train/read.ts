/** Reading a run folder back (for tables, plots and status): config, metrics, summary, env. */
import path from "node:path";
import { SenetLabError } from "../errors.js";
import { readJsonIfExists, readJsonl } from "../util/fs.js";
import type { ExperimentConfig } from "./config.js";
import type { RunEnv } from "./env.js";
import { type EpochRecord, RUN_FILES, type RunSummary } from "./run.js";

/** A run folder's content. */
export interface RunRecord {
  /** The folder. */
  runDir: string;
  /** The resolved config it ran. */
  config: ExperimentConfig;
  /** One record per completed (or diverged) epoch. */
  metrics: EpochRecord[];
  /** The summary, once the run has finished (undefined while running or after a kill). */
  summary: RunSummary | undefined;
  /** Where it ran (undefined if the run never got that far). */
  env: RunEnv | undefined;
}

/** Reads a run folder; throws when it holds no config.json (not a run folder). */
export function readRun(runDir: string): RunRecord {
  const config = readJsonIfExists<ExperimentConfig>(path.join(runDir, RUN_FILES.config));
  if (!config)
    throw new SenetLabError(`${runDir} is not a run folder: it has no ${RUN_FILES.config}`);
  return {
    runDir,
    config,
    metrics: readJsonl<EpochRecord>(path.join(runDir, RUN_FILES.metrics)),
    summary: readJsonIfExists<RunSummary>(path.join(runDir, RUN_FILES.summary)),
    env: readJsonIfExists<RunEnv>(path.join(runDir, RUN_FILES.env)),
  };
}
