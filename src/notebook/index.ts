/** Notebook execution and the results index. */
export * from "./reproduce.js";
export * from "./run.js";
export * from "./trust.js";
