/** The native oneDNN backend's public API (part of senet-lab/backend). */

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
export { outputPoolStats, setOutputPoolCap } from "./onednn-kernels/util.js";
export {
  type Bf16Support,
  bf16Support,
  checkPrecision,
  getPrecision,
  PRECISIONS,
  type Precision,
  setPrecision,
} from "./precision.js";
