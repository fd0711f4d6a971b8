/** Datasets: names, loaders, splits and batch streaming (see dataset.ts); image folders and the ImageNet eval transform. */
export * from "./batches.js";
export * from "./cifar.js";
export * from "./counts.js";
export * from "./dataset.js";
export * from "./get.js";
export * from "./idx.js";
export * from "./image-folder.js";
export * from "./mnist-format.js";
export * from "./preprocess.js";
export * from "./registry.js";
export * from "./rng.js";
export * from "./sources.js";
export * from "./synthetic.js";
export * from "./types.js";
