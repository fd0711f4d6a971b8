/** Resumable parallel sweeps: specs, expansion into runs, claims, the worker pool and its calibrated shape, SLURM arrays, status. */
export * from "./calibrate.js";
export * from "./expand.js";
export * from "./layout.js";
export * from "./lock.js";
export * from "./pool-shape.js";
export * from "./resolve.js";
export * from "./reuse.js";
export * from "./run-one.js";
export * from "./run-sweep.js";
export * from "./run-task.js";
export * from "./slurm-queue.js";
export * from "./slurm-script.js";
export * from "./slurm-submit.js";
export * from "./spec.js";
export * from "./status.js";
