/**
 * The "onednn" tfjs backend: the cpu backend's storage and kernels, with the heavy kernels
 * (convolutions and their gradients, depthwise convolutions, matmul, pooling) replaced by
 * oneDNN primitives from the native addon. Tensors stay in the cpu backend's Float32Arrays;
 * the addon reads inputs and writes fresh outputs in place, with no copies. Cases a native
 * kernel does not cover (NCHW, prelu, partial batch broadcasting) run the cpu kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, InternalError, quote } from "../errors.js";
import { registerNativeGradients } from "./native-grads.js";
import { loadAddon } from "./onednn-addon.js";
import { ONEDNN_BACKEND, OnednnBackend } from "./onednn-backend.js";
import { NATIVE_KERNELS } from "./onednn-kernels/index.js";
import { trainingKernelConfigs } from "./onednn-kernels/training.js";
import type { LoadedBackend } from "./types.js";

export {
  ADDON_PATH,
  BUILD_STATUS_PATH,
  buildNative,
  type NativeBuildStatus,
  nativeBuildStatus,
  type OnednnAddon,
} from "./onednn-addon.js";
export { activeOnednnBackend, ONEDNN_BACKEND, OnednnBackend } from "./onednn-backend.js";

/** How often each native kernel ran natively and how often it fell back to the cpu kernel. */
export type KernelCounts = Record<string, { native: number; fallback: number }>;

const counts: KernelCounts = {};

/** Per-kernel native/fallback call counts since load (or the last reset). */
export function nativeKernelCounts(): KernelCounts {
  return structuredClone(counts);
}

/** Zeroes the native/fallback call counts. */
export function resetNativeKernelCounts(): void {
  for (const c of Object.values(counts)) {
    c.native = 0;
    c.fallback = 0;
  }
}

/** Names of the kernels that have a native implementation. */
export const NATIVE_KERNEL_NAMES: readonly string[] = Object.keys(NATIVE_KERNELS);

let kernelsRegistered = false;

function registerKernels(): void {
  if (kernelsRegistered) return;
  const cpuKernels = tf.getKernelsForBackend("cpu");
  if (cpuKernels.length === 0)
    throw new InternalError("the tfjs cpu backend's kernels are not registered");
  for (const cfg of cpuKernels) {
    const native = NATIVE_KERNELS[cfg.kernelName];
    if (!native) {
      tf.registerKernel({ ...cfg, backendName: ONEDNN_BACKEND });
      continue;
    }
    const c = { native: 0, fallback: 0 };
    counts[cfg.kernelName] = c;
    const cpuFunc = cfg.kernelFunc;
    tf.registerKernel({
      ...cfg,
      backendName: ONEDNN_BACKEND,
      kernelFunc: (args) => {
        const out = native(args as unknown as Parameters<typeof native>[0]);
        if (out) {
          c.native++;
          return out;
        }
        c.fallback++;
        return cpuFunc(args);
      },
    });
  }
  // Our training kernels (src/ops): the SGD step, training batch norm, moving statistics.
  for (const cfg of trainingKernelConfigs(ONEDNN_BACKEND)) tf.registerKernel(cfg);
  kernelsRegistered = true;
}

/**
 * Registers the "onednn" tfjs backend (idempotent) with `threads` OpenMP threads, or throws
 * with the reason it cannot load (addon not built, libdnnl missing at run time).
 */
export async function registerOnednnBackend(threads: number): Promise<LoadedBackend> {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ConfigError(`threads must be a positive integer; got ${quote(threads)}`);
  }
  const addon = loadAddon();
  const inEffect = addon.setThreads(threads);
  registerKernels();
  registerNativeGradients();
  if (!tf.findBackendFactory(ONEDNN_BACKEND)) {
    // Priority 0: never chosen implicitly; initBackend selects it by name.
    tf.registerBackend(ONEDNN_BACKEND, () => new OnednnBackend(addon), 0);
  }
  return {
    tfBackend: ONEDNN_BACKEND,
    detail: `${addon.version()}, ${inEffect} thread${inEffect === 1 ? "" : "s"}, native ${NATIVE_KERNEL_NAMES.length} kernels + fused batch norm`,
  };
}
