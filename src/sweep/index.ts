/** Resumable parallel sweeps: specs, expansion into runs, claims, the worker pool, status. */
export * from "./expand.js";
export * from "./layout.js";
export * from "./lock.js";
export * from "./resolve.js";
export * from "./run-one.js";
export * from "./run-sweep.js";
export * from "./spec.js";
export * from "./status.js";
