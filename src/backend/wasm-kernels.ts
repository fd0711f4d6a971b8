/**
 * Gradient kernels the wasm backend lacks (issue #5): Conv2DBackpropFilter and the depthwise
 * gradients, built from XNNPACK's forward convolutions and the wasm matMul (conv-grads.ts). Its
 * own Conv2DBackpropInput is a scalar loop, so it is replaced by the forward-conv formulation too,
 * and its MaxPoolGrad is wrong for inputs with more than one channel, so that is replaced as well.
 */
import { installTrainingKernel, TRAINING_KERNEL_NAMES } from "./training-kernels.js";

/** Registers Conv2DBackpropFilter, a faster Conv2DBackpropInput, depthwise grads and MaxPoolGrad. */
export function registerWasmTrainingKernels(): void {
  for (const name of TRAINING_KERNEL_NAMES) installTrainingKernel(name, "wasm");
}
