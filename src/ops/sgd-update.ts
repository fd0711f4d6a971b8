/**
 * One SGD-with-momentum step of one weight, as torch.optim.SGD computes it (dampening 0):
 * g ← ∇ + wd·w; b ← μ·b + g; d ← g + μ·b (Nesterov) or b; w ← w − lr·d. One kernel call
 * (SGD_UPDATE) where the backend has it, six tf ops elsewhere, the same float32 arithmetic.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, runKernel } from "./dispatch.js";
import { SGD_UPDATE, type SgdUpdateAttrs } from "./kernel-names.js";

/** The updated weight and momentum buffer (null when momentum is 0). */
export interface SgdUpdateResult {
  /** w after the step. */
  w: tf.Tensor;
  /** b after the step, or null without momentum. */
  b: tf.Tensor | null;
}

/** The tf-ops form of the step (every backend without the kernel). */
function sgdUpdateOps(
  w: tf.Tensor,
  g: tf.Tensor,
  b: tf.Tensor | null,
  a: SgdUpdateAttrs,
): SgdUpdateResult {
  let grad = g;
  if (a.weightDecay > 0) grad = tf.add(grad, tf.mul(tf.scalar(a.weightDecay), w));
  let d = grad;
  let nb: tf.Tensor | null = null;
  if (b && a.momentum > 0) {
    const mu = tf.scalar(a.momentum);
    nb = tf.add(tf.mul(mu, b), grad);
    d = a.nesterov ? tf.add(grad, tf.mul(mu, nb)) : nb;
  }
  return { w: tf.sub(w, tf.mul(tf.scalar(a.lr), d)), b: nb };
}

/**
 * The step for weight `w` with gradient `g` and momentum buffer `b` (null without momentum).
 * Returns new tensors; the caller assigns them to its variables.
 */
export function sgdUpdate(
  w: tf.Tensor,
  g: tf.Tensor,
  b: tf.Tensor | null,
  attrs: SgdUpdateAttrs,
): SgdUpdateResult {
  const native =
    hasKernel(SGD_UPDATE) &&
    w.dtype === "float32" &&
    g.dtype === "float32" &&
    g.size === w.size &&
    (!b || b.size === w.size);
  if (!native) return sgdUpdateOps(w, g, b, attrs);
  const inputs: Record<string, tf.Tensor> = b ? { w, g, b } : { w, g };
  const [wOut, bOut] = runKernel(SGD_UPDATE, inputs, attrs);
  return { w: wOut!, b: b ? bOut! : null };
}
