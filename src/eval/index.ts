/** ImageNet-style evaluation: top-1 / top-5 of a classifier on an image folder (see evaluate.ts). */
export * from "./evaluate.js";
export * from "./progress.js";
export * from "./weights.js";
