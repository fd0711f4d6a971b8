/** Pretrained weights: safetensors and PyTorch checkpoints in, safetensors out, under the layouts of torchvision, timm, the Caffe SENets and PytorchInsight. */
export * from "./convert.js";
export * from "./errors.js";
export * from "./export.js";
export * from "./import.js";
export * from "./key-maps.js";
export * from "./pth.js";
export * from "./published.js";
export * from "./safetensors.js";
