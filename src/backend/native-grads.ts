/**
 * Gradients that tfjs builds from several full-size kernels, done in one native pass when the
 * onednn backend is active: Relu (tfjs: Step, then Multiply), Sigmoid (Sub with the scalar first,
 * which has no native kernel, then two Multiplies; SGE's full-size gate), and Mean and Sum over
 * one contiguous block of axes (tfjs: Multiply by a tensor of ones, then RealDiv for Mean), the SE
 * squeeze and SGE's group statistics. On any
 * other backend, or a case the native pass does not cover, tfjs's own gradient runs unchanged.
 * tfjs keeps one gradient per kernel name for all backends, hence the wrap-and-delegate.
 */
import * as tf from "@tensorflow/tfjs";
import { activeOnednnBackend } from "./onednn.js";
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

function reluGrad(nb: NativeBackend, dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor | undefined {
  const x = saved[0];
  const xv = x && f32(nb, x);
  const dyv = f32(nb, dy);
  if (!x || !xv || !dyv || xv.length !== dyv.length || xv.length < MIN_NATIVE_SIZE) {
    return undefined;
  }
  const dx = alloc(xv.length);
  nb.addon.reluGrad(xv, dyv, dx);
  return tf.tensor(dx, x.shape, "float32");
}

function sigmoidGrad(nb: NativeBackend, dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor | undefined {
  const y = saved[0];
  const yv = y && f32(nb, y);
  const dyv = f32(nb, dy);
  if (!y || !yv || !dyv || yv.length !== dyv.length || yv.length < MIN_NATIVE_SIZE) {
    return undefined;
  }
  const dx = alloc(yv.length);
  nb.addon.sigmoidGrad(yv, dyv, dx);
  return tf.tensor(dx, y.shape, "float32");
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

function wrap(
  name: string,
  native: (
    nb: NativeBackend,
    dy: tf.Tensor,
    saved: tf.Tensor[],
    attrs: tf.NamedAttrMap,
  ) => tf.Tensor | undefined,
): void {
  const original = tf.getGradient(name);
  if (!original) throw new Error(`tfjs has no gradient for ${name} to wrap`);
  const tfjs: GradFunc = original.gradFunc;
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const nb = activeOnednnBackend();
      if (nb && !Array.isArray(dy)) {
        const dx = native(nb, dy, saved, attrs);
        if (dx) {
          stats.native++;
          return { x: () => dx };
        }
      }
      stats.delegated++;
      return tfjs(dy, saved, attrs);
    },
  });
}

let registered = false;

/** Wraps tfjs's Relu, Sigmoid, Mean and Sum gradients with native one-pass forms (idempotent). */
export function registerNativeGradients(): void {
  if (registered) return;
  wrap("Relu", reluGrad);
  wrap("Sigmoid", sigmoidGrad);
  wrap("Mean", reductionGrad(true));
  wrap("Sum", reductionGrad(false));
  registered = true;
}
