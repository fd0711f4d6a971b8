/** The benchmark of issue #5: tfjs backends against PyTorch, training and inference. */
export * from "./kernel-profile.js";
export * from "./leak-check.js";
export * from "./measure.js";
export * from "./options.js";
export * from "./plan.js";
export * from "./protocol.js";
export * from "./report.js";
export * from "./run.js";
export * from "./session.js";
export * from "./stats.js";
export * from "./train-step.js";
