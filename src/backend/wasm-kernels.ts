/**
 * Training kernels for the wasm backend (issue #5). It lacks Conv2DBackpropFilter and the
 * depthwise gradients; those are built from XNNPACK's forward convolutions (conv-grads.ts). Its
 * Conv2DBackpropInput is a scalar loop, replaced by the forward-conv formulation; its
 * MaxPoolGrad is wrong for inputs with more than one channel (pool-grads.ts); and its Tile,
 * Sum and Mean over the batch/spatial axes are generic index loops that took ~30% of a
 * ResNet-20 step, rewritten over broadcasting and XNNPACK pooling (broadcast-kernels.ts).
 */
import { installTrainingKernel, TRAINING_KERNEL_NAMES } from "./training-kernels.js";

/** Registers every kernel of TRAINING_KERNEL_NAMES for wasm. */
export function registerWasmTrainingKernels(): void {
  for (const name of TRAINING_KERNEL_NAMES) installTrainingKernel(name, "wasm");
}
