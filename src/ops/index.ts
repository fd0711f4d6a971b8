/**
 * Our own ops: the kernels training needs beyond tfjs's (one SGD step per weight, training
 * batch norm and its gradient, the moving-statistic update) and the gradients tfjs lacks
 * (StridedSlice). Each op runs a registered kernel when the active backend has one and tf ops
 * otherwise, so every backend trains and the layers above never touch a backend's storage.
 */
import { registerBatchNormGradient } from "./batch-norm-train.js";
import { registerStridedSliceGradient } from "./strided-slice-grad.js";

export {
  type FusedBatchNormResult,
  fusedBatchNorm,
  fusedBatchNormStats,
} from "./batch-norm-train.js";
export { hasKernel } from "./dispatch.js";
export * from "./kernel-names.js";
export { movingAverage } from "./moving-average.js";
export { type SgdUpdateResult, sgdUpdate } from "./sgd-update.js";
export {
  fusedSpatialGroupEnhance,
  fusedSpatialGroupEnhanceStats,
  registerSpatialGroupEnhanceGradient,
} from "./spatial-group-enhance.js";
export {
  fusedSqueezeExcite,
  fusedSqueezeExciteStats,
  registerSqueezeExciteGradient,
} from "./squeeze-excite.js";
export { stridedSliceGrad } from "./strided-slice-grad.js";

/** Gradients every backend needs beyond tfjs's own, registered by registerExtraGradients. */
export const EXTRA_GRADIENT_NAMES = ["StridedSlice", "SenetBatchNormTrain"] as const;

/**
 * Registers the gradients of EXTRA_GRADIENT_NAMES with tfjs (idempotent). Gradients are global
 * in tfjs, not per backend; initBackend calls this for whichever backend it loads, so none can
 * miss one (the tensorflow loader once did: CIFAR ResNets' option-A shortcut could not train).
 */
export function registerExtraGradients(): void {
  registerStridedSliceGradient();
  registerBatchNormGradient();
}
