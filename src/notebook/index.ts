/** Notebook execution and the results index. */
export * from "./progress.js";
export * from "./reproduce.js";
export * from "./retrain.js";
export * from "./run.js";
export * from "./training.js";
export * from "./trust.js";
