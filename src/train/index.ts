/** Training: experiment configs, the SGD loop with checkpoints and resume, reading runs back. */
export * from "./checkpoint.js";
export * from "./config.js";
export * from "./env.js";
export * from "./evaluate.js";
export * from "./loss.js";
export { ATTENTION_KEY_READERS, attentionReads, MODEL_KEYS } from "./model-adapter.js";
export * from "./progress.js";
export * from "./run.js";
export * from "./run-folder.js";
export * from "./schedule.js";
export * from "./seed.js";
export * from "./sgd.js";
