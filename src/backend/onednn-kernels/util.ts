/** Helpers shared by the native kernels: zero-copy access to the cpu backend's storage. */
import os from "node:os";
import type { backend_util, TensorInfo } from "@tensorflow/tfjs";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { ACTIVATION_CODES, type ConvGeometry, type OnednnAddon } from "../onednn-addon.js";

export type { ConvGeometry } from "../onednn-addon.js";

/** The backend a native kernel receives: the cpu backend's storage plus the addon. */
export type NativeBackend = MathBackendCPU & { readonly addon: OnednnAddon };

/**
 * A native kernel: returns the output, or undefined when this case is not handled natively
 * (layout, activation or broadcasting it does not cover); the cpu kernel then runs instead.
 */
export type NativeKernelFunc = (args: {
  inputs: Record<string, TensorInfo | undefined | null>;
  backend: NativeBackend;
  attrs?: Record<string, unknown>;
}) => TensorInfo | undefined;

/** The Float32Array stored for a float32 tensor, without copying; undefined otherwise. */
export function f32(
  backend: NativeBackend,
  t: TensorInfo | undefined | null,
): Float32Array | undefined {
  if (t?.dtype !== "float32") return undefined;
  const values = backend.data.get(t.dataId)?.values;
  return values instanceof Float32Array ? values : undefined;
}

/**
 * Where the addon's precision code for convolutions lives: 0 multiplies in f32, 1 in bf16
 * (inputs rounded, outputs and gradients f32). A global-registry slot, not a module variable:
 * the tslab kernel can hold two copies of this module, and setPrecision in the notebook's copy
 * must reach the kernels the other copy registered.
 */
const PRECISION_SLOT = Symbol.for("senet-lab.conv-precision");
const slots = globalThis as unknown as Record<symbol, 0 | 1 | undefined>;

/** Sets the precision code every native convolution passes to the addon (0 f32, 1 bf16); setPrecision (src/backend/precision.ts) checks the CPU first. */
export function setConvPrecisionCode(code: 0 | 1): void {
  slots[PRECISION_SLOT] = code;
}

/** The precision code native convolutions run at now. */
export function convPrecisionCode(): 0 | 1 {
  return slots[PRECISION_SLOT] ?? 0;
}

const weightIds = new WeakMap<Float32Array, number>();
let nextWeightId = 1;

/** Arrays under this many floats are plain `new Float32Array` (V8's own heap handles them). */
const MIN_POOLED = 1024;
/**
 * Most bytes the free lists may hold: a quarter of the machine's memory, between 1 and 8 GiB.
 * A training step's freed activations must fit, or every step allocates afresh (page faults on
 * first touch, V8 collections driven by external memory): with the former fixed 1 GiB, batch
 * 256 SE-ResNet-20 training (≈ 2 GiB of outputs per step) ran at half the batch-64 speed.
 */
let MAX_POOLED_BYTES = Math.min(8 * 2 ** 30, Math.max(2 ** 30, Math.floor(os.totalmem() / 4)));

/**
 * Sets the most bytes the output pool may hold (a machine short of memory, or a test of
 * eviction); arrays of the least recently used sizes are freed at once to meet it.
 */
export function setOutputPoolCap(bytes: number): void {
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw new RangeError(`output pool cap must be a non-negative number of bytes; got ${bytes}`);
  }
  MAX_POOLED_BYTES = bytes;
  evictOldest(0);
}

/** Buffers alloc() made: only these are ever recycled. */
const owned = new WeakSet<ArrayBuffer>();
/** Owned buffers now stored under a tensor's dataId. */
const attached = new WeakSet<ArrayBuffer>();
/** Owned buffers something else may still hold (read out, viewed, or shared by two tensors). */
const escaped = new WeakSet<ArrayBuffer>();
/** Free arrays by length; the Map's order is the order sizes were last used (oldest first). */
const freeLists = new Map<number, Float32Array[]>();
let pooledBytes = 0;
const poolStats = { allocated: 0, reused: 0, recycled: 0, escaped: 0, evicted: 0 };

/**
 * Counts of the output pool since load: new arrays, reused ones, returned ones, escaped ones,
 * ones evicted to make room; and the bytes pooled now, against the cap.
 */
export function outputPoolStats(): Readonly<typeof poolStats> & {
  pooledBytes: number;
  capBytes: number;
} {
  return { ...poolStats, pooledBytes, capBytes: MAX_POOLED_BYTES };
}

/**
 * An output array of n floats, uninitialised: every native kernel writes all of its outputs.
 * Large ones come from the free lists that the backend's disposeData fills: a training step
 * frees and reallocates the same activation sizes every step, and fresh ArrayBuffers cost an
 * allocation plus, every 64 MB of them, a V8 garbage collection (42 per SE-ResNet-20 step).
 */
export function alloc(n: number): Float32Array {
  if (n < MIN_POOLED) return new Float32Array(n);
  const reused = touch(n).pop();
  if (reused) {
    pooledBytes -= n * 4;
    poolStats.reused++;
    return reused;
  }
  const buf = Buffer.allocUnsafeSlow(n * 4);
  const a = new Float32Array(buf.buffer, buf.byteOffset, n);
  owned.add(a.buffer as ArrayBuffer);
  poolStats.allocated++;
  return a;
}

function isWhole(v: Float32Array): boolean {
  return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
}

/**
 * Called when the backend stores `values` under a new dataId. A buffer stored twice, or stored
 * as a view (a cpu kernel's subarray of its input), may outlive its first tensor: never recycle it.
 */
export function noteStored(values: unknown): void {
  if (!(values instanceof Float32Array)) return;
  const b = values.buffer as ArrayBuffer;
  if (!owned.has(b) || escaped.has(b)) return;
  if (attached.has(b) || !isWhole(values)) {
    escaped.add(b);
    poolStats.escaped++;
  } else {
    attached.add(b);
  }
}

/** Called when the backend hands `values` out (dataSync, data, bufferSync): never recycle it. */
export function noteEscaped(values: unknown): void {
  if (!(values instanceof Float32Array) && !ArrayBuffer.isView(values)) return;
  const b = (values as Float32Array).buffer as ArrayBuffer;
  if (owned.has(b) && !escaped.has(b)) {
    escaped.add(b);
    poolStats.escaped++;
  }
}

/** Called when the tensor holding `values` is gone: return the array to the free lists. */
export function recycle(values: unknown): void {
  if (!(values instanceof Float32Array)) return;
  const b = values.buffer as ArrayBuffer;
  if (!owned.has(b) || escaped.has(b) || !attached.has(b) || !isWhole(values)) return;
  attached.delete(b);
  if (pooledBytes + values.byteLength > MAX_POOLED_BYTES) evictOldest(values.byteLength);
  if (pooledBytes + values.byteLength > MAX_POOLED_BYTES) return;
  weightIds.delete(values); // new contents: the addon's reordered copy no longer applies
  touch(values.length).push(values);
  pooledBytes += values.byteLength;
  poolStats.recycled++;
}

/** The free list of length n, marked as the most recently used size. */
function touch(n: number): Float32Array[] {
  const list = freeLists.get(n) ?? [];
  freeLists.delete(n);
  freeLists.set(n, list);
  return list;
}

/**
 * Frees pooled arrays of the least recently used sizes until `bytes` more fit under the cap.
 * Sizes a workload stopped using (a batch-256 sweep before batch-1 inference) would otherwise
 * fill the pool for good, and every array of the new workload would be allocated afresh: that
 * made batch-1 ResNet-50 inference after large-batch training 3× slower (150 vs 54 ms).
 */
function evictOldest(bytes: number): void {
  for (const [n, list] of freeLists) {
    while (list.length > 0 && pooledBytes + bytes > MAX_POOLED_BYTES) {
      list.pop();
      pooledBytes -= n * 4;
      poolStats.evicted++;
    }
    if (list.length === 0) freeLists.delete(n);
    if (pooledBytes + bytes <= MAX_POOLED_BYTES) return;
  }
}

/** Empties the free lists (the GC takes the arrays). */
export function clearOutputPool(): void {
  freeLists.clear();
  pooledBytes = 0;
}

/**
 * A process-unique id for a filter array, so the addon can keep its reordered copy: tfjs never
 * writes into a tensor's array after creating it (a variable update brings a new array), so
 * the same array object always holds the same values. Ids are never reused.
 */
export function weightIdOf(values: Float32Array): number {
  let id = weightIds.get(values);
  if (id === undefined) {
    id = nextWeightId++;
    weightIds.set(values, id);
  }
  return id;
}

/**
 * The id under which the addon keeps a bf16 copy of an activation or gradient array (its
 * weightIdOf id) when convolutions run in bf16; 0 at f32, where nothing is rounded.
 */
export function roundedIdOf(values: Float32Array): number {
  return convPrecisionCode() === 1 ? weightIdOf(values) : 0;
}

/**
 * dx of a convolution (plain, grouped or depthwise: `geometry` says which) from dy and the
 * filter, at the current precision; the shared tail of Conv2DBackpropInput and its depthwise twin.
 */
export function convBackwardData(
  backend: NativeBackend,
  dyv: Float32Array,
  wv: Float32Array,
  inputShape: number[],
  geometry: ConvGeometry,
): TensorInfo {
  const dx = alloc(sizeOf(inputShape));
  backend.addon.conv2dBackwardData(
    dyv,
    wv,
    dx,
    geometry,
    weightIdOf(wv),
    convPrecisionCode(),
    roundedIdOf(dyv),
  );
  return output(backend, inputShape, dx);
}

/** dw of a convolution from x and dy, at the current precision (Conv2DBackpropFilter and twin). */
export function convBackwardFilter(
  backend: NativeBackend,
  xv: Float32Array,
  dyv: Float32Array,
  filterShape: number[],
  geometry: ConvGeometry,
): TensorInfo {
  const dw = alloc(sizeOf(filterShape));
  backend.addon.conv2dBackwardWeights(
    xv,
    dyv,
    dw,
    null,
    geometry,
    convPrecisionCode(),
    roundedIdOf(xv),
    roundedIdOf(dyv),
  );
  return output(backend, filterShape, dw);
}

/** Wraps a freshly written Float32Array as a tensor of the backend (no copy). */
export function output(backend: NativeBackend, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, "float32", values);
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The addon's code for a tfjs fused activation, or undefined when it has none (prelu). */
export function activationCode(activation: unknown): number | undefined {
  const a = activation == null ? "linear" : String(activation);
  return (ACTIVATION_CODES as Record<string, number>)[a];
}

/** Output size oneDNN derives from input, kernel, stride and pads. */
function dnnlOut(
  size: number,
  k: number,
  dilation: number,
  stride: number,
  p0: number,
  p1: number,
) {
  return Math.floor((size + p0 + p1 - ((k - 1) * dilation + 1)) / stride) + 1;
}

/**
 * The one conv-geometry helper, for conv, depthwise conv and pooling: the named geometry of a
 * tfjs Conv2DInfo, or undefined when oneDNN cannot run it as tfjs means it (channels-first,
 * negative padding, or an output size that tfjs's rounding mode makes differ from oneDNN's).
 * Pooling (`pool`) also needs dilation 1 and padding smaller than the window.
 */
export function convGeometry(
  info: backend_util.Conv2DInfo,
  groups: number,
  pool = false,
): ConvGeometry | undefined {
  if (info.dataFormat !== "channelsLast") return undefined;
  const p = info.padInfo;
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0) return undefined;
  if (pool) {
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
    // oneDNN requires padding smaller than the window.
    if (p.top >= info.filterHeight || p.bottom >= info.filterHeight) return undefined;
    if (p.left >= info.filterWidth || p.right >= info.filterWidth) return undefined;
  }
  const oh = dnnlOut(
    info.inHeight,
    info.filterHeight,
    info.dilationHeight,
    info.strideHeight,
    p.top,
    p.bottom,
  );
  const ow = dnnlOut(
    info.inWidth,
    info.filterWidth,
    info.dilationWidth,
    info.strideWidth,
    p.left,
    p.right,
  );
  if (oh !== info.outHeight || ow !== info.outWidth) return undefined;
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    outChannels: pool ? info.inChannels : info.outChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: p.top,
    padLeft: p.left,
    padBottom: p.bottom,
    padRight: p.right,
    groups: pool ? 1 : groups,
  };
}

/**
 * The native call shared by Conv2D/FusedConv2D and the depthwise kernels (groups live in
 * `geometry`). Undefined when an input is not float32 or the bias does not match the output
 * channels, so the caller falls back to the cpu kernel.
 */
export function convForward(
  backend: NativeBackend,
  info: backend_util.Conv2DInfo,
  geometry: ConvGeometry | undefined,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | null | undefined,
  act: number,
  leakyreluAlpha: unknown,
): TensorInfo | undefined {
  const xv = f32(backend, x);
  const wv = f32(backend, filter);
  if (!geometry || !xv || !wv) return undefined;
  let bv: Float32Array | null = null;
  if (bias) {
    const b = f32(backend, bias);
    if (
      !b ||
      b.length !== info.outChannels ||
      bias.shape[bias.shape.length - 1] !== info.outChannels
    ) {
      return undefined;
    }
    bv = b;
  }
  const y = alloc(sizeOf(info.outShape));
  backend.addon.conv2dForward(
    xv,
    wv,
    bv,
    y,
    geometry,
    act,
    Number(leakyreluAlpha ?? 0.2),
    weightIdOf(wv),
    convPrecisionCode(),
    roundedIdOf(xv),
  );
  return output(backend, info.outShape, y);
}

/**
 * [P, Q, S] when `axes` of `shape` form one contiguous block (size-1 axes count as either): the
 * shape the addon's reduce and expand take; null when the reduced axes are split.
 */
export function contiguousBlock(shape: number[], axes: number[]): [number, number, number] | null {
  const reduced = shape.map((d, i) => axes.includes(i) && d !== 1);
  const first = reduced.indexOf(true);
  const last = reduced.lastIndexOf(true);
  if (first < 0) return [sizeOf(shape), 1, 1]; // only size-1 axes: a copy
  for (let i = first; i <= last; i++) if (!reduced[i] && shape[i] !== 1) return null;
  return [
    sizeOf(shape.slice(0, first)),
    sizeOf(shape.slice(first, last + 1)),
    sizeOf(shape.slice(last + 1)),
  ];
}
