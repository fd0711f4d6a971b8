/**
 * The "onednn" tfjs backend: the cpu backend's storage and kernels, with the heavy kernels
 * (convolutions and their gradients, depthwise convolutions, matmul, pooling) replaced by
 * oneDNN primitives from the native addon. Tensors stay in the cpu backend's Float32Arrays;
 * the addon reads inputs and writes fresh outputs in place, with no copies. Cases a native
 * kernel does not cover (NCHW, prelu, partial batch broadcasting) run the cpu kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { LoadedBackend } from "./index.js";
import { registerNativeGradients } from "./native-grads.js";
import { loadAddon, type OnednnAddon } from "./onednn-addon.js";
import { NATIVE_KERNELS, type NativeBackend } from "./onednn-kernels/index.js";
import { noteEscaped, noteStored, recycle } from "./onednn-kernels/util.js";
import { registerStridedSliceGradient } from "./strided-slice-grad.js";

export {
  ADDON_PATH,
  BUILD_STATUS_PATH,
  buildNative,
  type NativeBuildStatus,
  nativeBuildStatus,
  type OnednnAddon,
} from "./onednn-addon.js";

/** Name under which tfjs knows the backend. */
export const ONEDNN_BACKEND = "onednn";

type DataId = object;
type Values = Parameters<MathBackendCPU["write"]>[0];

/**
 * The cpu backend with the addon attached, so native kernels can reach it, and with its
 * storage hooks feeding the output pool (onednn-kernels/util.ts): an array goes back to the
 * pool when its tensor is disposed, unless it was read out or is shared, which these hooks see.
 */
export class OnednnBackend extends MathBackendCPU {
  /** The loaded native addon. */
  readonly addon: OnednnAddon;
  constructor(addon: OnednnAddon) {
    super();
    this.addon = addon;
  }

  /** Stores values under a new dataId (every kernel output and tf.tensor() comes through here). */
  override write(values: Values, shape: number[], dtype: tf.DataType): DataId {
    noteStored(values);
    return super.write(values, shape, dtype);
  }

  /** Stores values moved in from another backend under an existing dataId. */
  override move(
    dataId: DataId,
    values: Values,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    noteStored(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  /** Hands a tensor's values out (dataSync, data, bufferSync): they may now live anywhere. */
  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const v = super.readSync(dataId);
    noteEscaped(this.data.get(dataId)?.values);
    return v;
  }

  /** Drops a reference; when the data goes, its array returns to the pool. */
  override disposeData(dataId: DataId, force?: boolean): boolean {
    const values = this.data.get(dataId)?.values;
    const gone = super.disposeData(dataId, force);
    if (gone && values !== undefined && !this.data.has(dataId)) recycle(values);
    return gone;
  }
}

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
  if (cpuKernels.length === 0) throw new Error("the tfjs cpu backend's kernels are not registered");
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
  kernelsRegistered = true;
}

/**
 * Registers the "onednn" tfjs backend (idempotent) with `threads` OpenMP threads, or throws
 * with the reason it cannot load (addon not built, libdnnl missing at run time).
 */
export async function registerOnednnBackend(threads: number): Promise<LoadedBackend> {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`threads must be a positive integer; got ${threads}`);
  }
  const addon = loadAddon();
  const inEffect = addon.setThreads(threads);
  registerKernels();
  // tfjs has no StridedSlice gradient; the zoo's option-A shortcut needs one (idempotent).
  registerStridedSliceGradient();
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

/** The active backend as a native one, or undefined when "onednn" is not active. */
export function activeOnednnBackend(): NativeBackend | undefined {
  const b = tf.engine().backend as unknown;
  return tf.getBackend() === ONEDNN_BACKEND && b instanceof OnednnBackend
    ? (b as unknown as NativeBackend)
    : undefined;
}
