/**
 * The sweep's only door into the training loop. Everything the sweep needs from src/train/ is
 * named here once, so the pool, the worker and the validation share one contract.
 */

export type { RunSummary } from "../train/index.js";
export { readRun, resolveExperimentConfig, runExperiment } from "../train/index.js";
