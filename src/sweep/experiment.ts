/**
 * The sweep's only door into the training loop. Everything the sweep needs from src/train/ is
 * named here once, so the pool, the worker and the validation share one contract.
 */

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
