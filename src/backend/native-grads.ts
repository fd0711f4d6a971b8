/**
 * Gradients that tfjs builds from several full-size kernels, done in one native pass when the
 * onednn backend is active: Relu (tfjs: Step, then Multiply), Sigmoid (Sub with the scalar first,
 * which has no native kernel, then two Multiplies; SGE's full-size gate), and Mean and Sum over
 * one contiguous block of axes (tfjs: Multiply by a tensor of ones, then RealDiv for Mean), the SE
 * squeeze and SGE's group statistics, and Multiply with one operand broadcast over a block of
 * axes (tfjs: two Multiplies and a Sum), the SE scale and SGE's gate. On any
 * other backend, or a case the native pass does not cover, tfjs's own gradient runs unchanged.
 * tfjs keeps one gradient per kernel name for all backends, hence the wrap-and-delegate.
 */
import * as tf from "@tensorflow/tfjs";
import { InternalError } from "../errors.js";
import { activeOnednnBackend } from "./onednn-backend.js";
import type { NativeBackend } from "./onednn-kernels/index.js";
import { alloc, contiguousBlock, f32 } from "./onednn-kernels/util.js";

/** Below this many elements tfjs's gradient runs (a native call costs more than it saves). */
const MIN_NATIVE_SIZE = 4096;

const stats = { native: 0, delegated: 0 };

/** How many wrapped gradients ran natively and how many went to tfjs's own (tests, profiles). */
export function nativeGradStats(): Readonly<typeof stats> {
  return { ...stats };
}

type GradFunc = tf.GradConfig["gradFunc"];

/**
 * A one-pass elementwise gradient from one saved tensor (Relu's input, Sigmoid's output) and dy,
 * via the addon function `pass`; undefined for small or non-native tensors.
 */
function pointwiseGrad(pass: "reluGrad" | "sigmoidGrad") {
  return (nb: NativeBackend, dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor | undefined => {
    const s = saved[0];
    const sv = s && f32(nb, s);
    const dyv = f32(nb, dy);
    if (!s || !sv || !dyv || sv.length !== dyv.length || sv.length < MIN_NATIVE_SIZE) {
      return undefined;
    }
    const dx = alloc(sv.length);
    nb.addon[pass](sv, dyv, dx);
    return tf.tensor(dx, s.shape, "float32");
  };
}

/** The gradient of a reduction over one block of axes: dy broadcast back, times 1/Q or 1. */
function reductionGrad(mean: boolean) {
  return (
    nb: NativeBackend,
    dy: tf.Tensor,
    saved: tf.Tensor[],
    attrs: tf.NamedAttrMap,
  ): tf.Tensor | undefined => {
    const x = saved[0];
    const dyv = f32(nb, dy);
    if (x?.dtype !== "float32" || !dyv || x.size < MIN_NATIVE_SIZE) return undefined;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const block = contiguousBlock(x.shape, axes);
    if (!block || block[0] * block[2] !== dyv.length) return undefined;
    const dx = alloc(x.size);
    nb.addon.expand(dyv, dx, block, mean ? 1 / block[1] : 1);
    return tf.tensor(dx, x.shape, "float32");
  };
}

/** A native gradient: the input gradients by input name, or undefined to let tfjs's run. */
type NativeGrad = (
  nb: NativeBackend,
  dy: tf.Tensor,
  saved: tf.Tensor[],
  attrs: tf.NamedAttrMap,
) => Record<string, tf.Tensor> | undefined;

/** A single-input native gradient as a NativeGrad (its input is named x). */
function ofX(
  f: (
    nb: NativeBackend,
    dy: tf.Tensor,
    saved: tf.Tensor[],
    attrs: tf.NamedAttrMap,
  ) => tf.Tensor | undefined,
): NativeGrad {
  return (nb, dy, saved, attrs) => {
    const dx = f(nb, dy, saved, attrs);
    return dx ? { x: dx } : undefined;
  };
}

function wrap(name: string, native: NativeGrad): void {
  const original = tf.getGradient(name);
  if (!original) throw new InternalError(`tfjs has no gradient for ${name} to wrap`);
  const tfjs: GradFunc = original.gradFunc;
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const nb = activeOnednnBackend();
      if (nb && !Array.isArray(dy)) {
        const grads = native(nb, dy, saved, attrs);
        if (grads) {
          stats.native++;
          return Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, () => t]));
        }
      }
      stats.delegated++;
      return tfjs(dy, saved, attrs);
    },
  });
}

/**
 * Multiply's gradient when one operand is full-size and the other broadcasts over one
 * contiguous block of axes ([N,H,W,C] · [N,1,1,C], the SE scale; [..., G, C/G] · [..., G, 1],
 * SGE's gate): both input gradients in one native pass.
 */
const mulGrad: NativeGrad = (nb, dy, saved) => {
  const [a, b] = saved;
  if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32") return undefined;
  if (dy.size < MIN_NATIVE_SIZE || a.rank !== b.rank || a.rank !== dy.rank) return undefined;
  const aFull = a.shape.every((d, i) => d === dy.shape[i]);
  const bFull = b.shape.every((d, i) => d === dy.shape[i]);
  if (aFull === bFull) return undefined; // same shapes, or both broadcast: tfjs's gradient
  const [full, small] = aFull ? [a, b] : [b, a];
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (small.shape[i] === dy.shape[i]) continue;
    if (small.shape[i] !== 1) return undefined;
    axes.push(i);
  }
  const block = contiguousBlock(full.shape, axes);
  const dyv = f32(nb, dy);
  const fv = f32(nb, full);
  const sv = f32(nb, small);
  if (!block || !dyv || !fv || !sv || sv.length !== block[0] * block[2]) return undefined;
  const dFull = alloc(fv.length);
  const dSmall = alloc(sv.length);
  nb.addon.mulGrad(dyv, fv, sv, dFull, dSmall, block);
  const gFull = tf.tensor(dFull, full.shape, "float32");
  const gSmall = tf.tensor(dSmall, small.shape, "float32");
  return aFull ? { a: gFull, b: gSmall } : { a: gSmall, b: gFull };
};

let registered = false;

/** Wraps tfjs's Relu, Sigmoid, Mean, Sum and broadcast-Multiply gradients with native one-pass forms (idempotent). */
export function registerNativeGradients(): void {
  if (registered) return;
  wrap("Relu", ofX(pointwiseGrad("reluGrad")));
  wrap("Sigmoid", ofX(pointwiseGrad("sigmoidGrad")));
  wrap("Mean", ofX(reductionGrad(true)));
  wrap("Sum", ofX(reductionGrad(false)));
  wrap("Multiply", mulGrad);
  registered = true;
}
