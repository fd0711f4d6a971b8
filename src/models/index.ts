/** The model zoo: configs, presets, builders and the layers they add (grouped conv, option-A shortcut). */
export * from "./attention.js";
export * from "./blocks.js";
export * from "./config.js";
export * from "./grouped-conv.js";
export * from "./head.js";
export * from "./init.js";
export * from "./mobilenet.js";
export * from "./pad-shortcut.js";
export * from "./plan.js";
export * from "./presets.js";
export * from "./resnet.js";
export * from "./resnet-cifar.js";
export * from "./resnext.js";
