/**
 * The "onednn" tfjs backend class: the cpu backend's storage with the native addon attached,
 * and a way to ask whether it is the active backend (native gradients use it).
 */
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { OnednnAddon } from "./onednn-addon.js";
import type { NativeBackend } from "./onednn-kernels/util.js";
import { noteEscaped, noteStored, recycle } from "./onednn-kernels/util.js";

/** Name under which tfjs knows the backend. */
export const ONEDNN_BACKEND = "onednn";

/**
 * A brand every OnednnBackend carries, in the global symbol registry: a process can hold two
 * copies of this module (the tslab kernel loads the package's sources once for the notebook's
 * imports and again for the library's own), and an instance made by one copy is not
 * `instanceof` the other copy's class; the brand is the same for both.
 */
const BRAND = Symbol.for("senet-lab.onednn-backend");

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
    Object.defineProperty(this, BRAND, { value: true });
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

/** The active backend as a native one, or undefined when "onednn" is not active. */
export function activeOnednnBackend(): NativeBackend | undefined {
  const b = tf.engine().backend as unknown as Record<symbol, unknown> | undefined;
  return tf.getBackend() === ONEDNN_BACKEND && b?.[BRAND] === true
    ? (b as unknown as NativeBackend)
    : undefined;
}
