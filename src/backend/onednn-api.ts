/** The native oneDNN backend's public API and the fused batch norm (part of senet-lab/backend). */

export {
  type FusedBatchNormResult,
  fusedBatchNorm,
  fusedBatchNormStats,
} from "./fused-batchnorm.js";
export {
  FusedBatchNormalization,
  type FusedBatchNormalizationLayerArgs,
  fusedBatchNormalization,
} from "./fused-batchnorm-layer.js";
export {
  buildNative,
  type KernelCounts,
  NATIVE_KERNEL_NAMES,
  type NativeBuildStatus,
  nativeBuildStatus,
  nativeKernelCounts,
  ONEDNN_BACKEND,
  OnednnBackend,
  registerOnednnBackend,
  resetNativeKernelCounts,
} from "./onednn.js";
