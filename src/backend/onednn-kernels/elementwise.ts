/**
 * Native elementwise ops, reductions and data movement on float32 tensors of rank <= 6:
 * Add/Sub/Mul/RealDiv/Maximum/Minimum with broadcasting (of the second operand, or of either
 * for commutative ops), Relu/Sigmoid/Tanh/Exp/Step, Sum/Mean/Max/Min over any axes, Slice, PadV2.
 * Tensors under MIN_NATIVE_SIZE elements stay in JS, where a call costs less than the hop.
 */
import * as tf from "@tensorflow/tfjs";
import { BINARY_OPS, ELTWISE_OPS, REDUCE_OPS } from "../onednn-addon.js";
import { alloc, contiguousBlock, f32, type NativeKernelFunc, output, sizeOf } from "./util.js";

/** Below this many output elements (input elements for reductions) the cpu kernel runs. */
export const MIN_NATIVE_SIZE = 4096;

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Merges adjacent axes that broadcast alike ([N,H,W,C] * [N,1,1,C] -> [N,HW,C] * [N,1,C]):
 * oneDNN's jit binary kernels take few, plain dimensions; 4-D plain shapes ran a slower path.
 */
export function collapseBroadcast(a: number[], b: number[]): [number[], number[]] {
  const ad: number[] = [];
  const bd: number[] = [];
  let last: boolean | undefined;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 1) continue;
    const bc = b[i] === 1;
    if (last !== undefined && bc === last) {
      ad[ad.length - 1] *= a[i];
      bd[bd.length - 1] *= b[i];
    } else {
      ad.push(a[i]);
      bd.push(b[i]);
    }
    last = bc;
  }
  return ad.length === 0 ? [[1], [1]] : [ad, bd];
}

function binary(op: number, commutative: boolean): NativeKernelFunc {
  return ({ inputs, backend }) => {
    const { a, b } = inputs;
    const av = f32(backend, a);
    const bv = f32(backend, b);
    if (!a || !b || !av || !bv) return undefined;
    let outShape: number[];
    try {
      outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    } catch {
      return undefined; // the cpu kernel raises tfjs's own error
    }
    const n = sizeOf(outShape);
    if (n < MIN_NATIVE_SIZE || outShape.length > 6) return undefined;
    const pad = (s: number[]) => [...new Array(outShape.length - s.length).fill(1), ...s];
    let first = { v: av, dims: pad(a.shape) };
    let second = { v: bv, dims: pad(b.shape) };
    if (!same(first.dims, outShape)) {
      if (!commutative || !same(second.dims, outShape)) return undefined;
      [first, second] = [second, first];
    }
    const c = alloc(n);
    const [ad, bd] = collapseBroadcast(first.dims, second.dims);
    backend.addon.binary(first.v, second.v, c, ad, bd, op);
    return output(backend, outShape, c);
  };
}

function unary(op: number): NativeKernelFunc {
  return ({ inputs, backend }) => {
    const { x } = inputs;
    const xv = f32(backend, x);
    if (!x || !xv || xv.length < MIN_NATIVE_SIZE) return undefined;
    const y = alloc(xv.length);
    backend.addon.eltwise(xv, y, op);
    return output(backend, x.shape, y);
  };
}

function reduce(op: number, axisAttr: string): NativeKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const xv = f32(backend, x);
    if (!x || !xv || xv.length < MIN_NATIVE_SIZE || x.shape.length > 6) return undefined;
    const axes = tf.util.parseAxisParam(attrs?.[axisAttr] as number | number[], x.shape);
    if (axes.length === 0) return undefined;
    // Only one contiguous block of reduced axes (size-1 axes count as either): x as [P, Q, S].
    const block = contiguousBlock(x.shape, axes);
    if (!block) return undefined;
    const [P, Q, S] = block;
    const yDims = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const y = alloc(P * S);
    backend.addon.reduce(xv, y, [P, Q, S], op);
    const outShape = attrs?.keepDims ? yDims : x.shape.filter((_, i) => !axes.includes(i));
    return output(backend, outShape, y);
  };
}

/** Slice: a strided region copy. */
export const slice: NativeKernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  if (!x || !xv || x.shape.length === 0 || x.shape.length > 6) return undefined;
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as tf.Tensor,
    attrs?.begin as number | number[],
    attrs?.size as number | number[],
  );
  const n = sizeOf(size);
  if (n < MIN_NATIVE_SIZE) return undefined;
  const y = alloc(n);
  backend.addon.copyRegion(xv, y, x.shape, size, size, begin, new Array(size.length).fill(0));
  return output(backend, size, y);
};

/** StridedSlice with positive strides (the option-A shortcut's subsampling): one strided copy. */
export const stridedSlice: NativeKernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  if (!x || !xv || x.shape.length === 0 || x.shape.length > 6) return undefined;
  const info = tf.slice_util.sliceInfo(
    x.shape,
    attrs?.begin as number[],
    attrs?.end as number[],
    attrs?.strides as number[],
    Number(attrs?.beginMask ?? 0),
    Number(attrs?.endMask ?? 0),
    Number(attrs?.ellipsisMask ?? 0),
    Number(attrs?.newAxisMask ?? 0),
    Number(attrs?.shrinkAxisMask ?? 0),
  );
  const r = x.shape.length;
  if (info.begin.length !== r || info.end.length !== r || info.strides.length !== r)
    return undefined;
  // The index box in x's rank (shrunk axes keep size 1); the output is it reshaped.
  const region = tf.slice_util.computeOutShape(info.begin, info.end, info.strides);
  if (sizeOf(region) !== sizeOf(info.finalShape)) return undefined;
  if (info.strides.some((s) => s <= 0) || sizeOf(region) < MIN_NATIVE_SIZE) return undefined;
  const xStrides = tf.util.computeStrides(x.shape).concat(1);
  const outStrides = tf.util.computeStrides(region).concat(1);
  let offset = 0;
  for (let i = 0; i < r; i++) offset += info.begin[i] * xStrides[i];
  const y = alloc(sizeOf(region));
  backend.addon.stridedCopy(
    xv,
    y,
    region,
    xStrides.map((s, i) => s * info.strides[i]),
    offset,
    outStrides,
    0,
  );
  return output(backend, info.finalShape, y);
};

/** PadV2: fill with the constant, then copy x into the interior. */
export const padV2: NativeKernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  const paddings = attrs?.paddings as [number, number][] | undefined;
  if (!x || !xv || !paddings || x.shape.length === 0 || x.shape.length > 6) return undefined;
  if (paddings.length !== x.shape.length || xv.length === 0) return undefined;
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const n = sizeOf(outShape);
  if (n < MIN_NATIVE_SIZE) return undefined;
  const y = alloc(n);
  y.fill(Number(attrs?.constantValue ?? 0));
  backend.addon.copyRegion(
    xv,
    y,
    x.shape,
    outShape,
    x.shape,
    new Array(x.shape.length).fill(0),
    paddings.map((p) => p[0]),
  );
  return output(backend, outShape, y);
};

/** Step (x > 0 ? 1 : alpha), the mask in tfjs's Relu gradient. */
export const step: NativeKernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  if (!x || !xv || xv.length < MIN_NATIVE_SIZE) return undefined;
  const y = alloc(xv.length);
  backend.addon.step(xv, y, Number(attrs?.alpha ?? 0));
  return output(backend, x.shape, y);
};

/** Add, with broadcasting. */
export const add = binary(BINARY_OPS.add, true);
/** Sub (broadcasting of b only). */
export const sub = binary(BINARY_OPS.sub, false);
/** Multiply, with broadcasting. */
export const multiply = binary(BINARY_OPS.mul, true);
/** RealDiv (broadcasting of b only). */
export const realDiv = binary(BINARY_OPS.div, false);
/** Maximum, with broadcasting. */
export const maximum = binary(BINARY_OPS.max, true);
/** Minimum, with broadcasting. */
export const minimum = binary(BINARY_OPS.min, true);
/** Relu. */
export const relu = unary(ELTWISE_OPS.relu);
/** Sigmoid. */
export const sigmoid = unary(ELTWISE_OPS.sigmoid);
/** Tanh. */
export const tanh = unary(ELTWISE_OPS.tanh);
/** Exp. */
export const exp = unary(ELTWISE_OPS.exp);
/** Square (SGE's variance). */
export const square = unary(ELTWISE_OPS.square);
/** Sum over axes. */
export const sum = reduce(REDUCE_OPS.sum, "axis");
/** Mean over axes. */
export const mean = reduce(REDUCE_OPS.mean, "axis");
/** Max over axes. */
export const max = reduce(REDUCE_OPS.max, "reductionIndices");
/** Min over axes. */
export const min = reduce(REDUCE_OPS.min, "axis");
