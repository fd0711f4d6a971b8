/**
 * The training objective and the evaluation metrics. Training uses softmax cross-entropy with
 * optional label smoothing (targets (1−ε)·onehot + ε/K, as torch's CrossEntropyLoss); evaluation
 * reports plain cross-entropy, top-1 and top-5 computed in JS from the downloaded logits.
 */
import * as tf from "@tensorflow/tfjs";

/** Mean softmax cross-entropy of `logits` [B, K] against int32 `labels` [B], label-smoothed by ε. */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1]!;
    const logp = tf.logSoftmax(logits as tf.Tensor2D);
    let target: tf.Tensor = tf.oneHot(labels, k).toFloat();
    if (smoothing > 0) target = tf.add(tf.mul(target, 1 - smoothing), smoothing / k);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logp), 1))) as tf.Scalar;
  });
}

/** Sums over a set of examples, turned into means by `finishEval`. */
export interface EvalTotals {
  /** Examples seen. */
  count: number;
  /** Sum of per-example cross-entropy (no smoothing). */
  lossSum: number;
  /** Examples whose label is the top prediction. */
  top1: number;
  /** Examples whose label is among the top min(5, K) predictions. */
  top5: number;
  /** True when any logit was NaN or ±Inf. */
  nonFinite: boolean;
}

/** Empty totals. */
export function emptyTotals(): EvalTotals {
  return { count: 0, lossSum: 0, top1: 0, top5: 0, nonFinite: false };
}

/** Adds a batch of logits (row-major [B, K]) with their labels to `t`. */
export function accumulate(
  t: EvalTotals,
  logits: Float32Array,
  labels: Uint8Array,
  k: number,
): void {
  const topK = Math.min(5, k);
  for (let b = 0; b < labels.length; b++) {
    const row = b * k;
    const y = labels[b]!;
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = logits[row + j]!;
      if (!Number.isFinite(v)) t.nonFinite = true;
      if (v > max) max = v;
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[row + j]! - max);
    t.lossSum += Math.log(sum) + max - logits[row + y]!;
    // Rank of the true class: classes strictly above it, ties broken by lower index first.
    const ly = logits[row + y]!;
    let above = 0;
    for (let j = 0; j < k; j++) {
      const v = logits[row + j]!;
      if (v > ly || (v === ly && j < y)) above++;
    }
    if (above === 0) t.top1++;
    if (above < topK) t.top5++;
    t.count++;
  }
}

/** Means of the totals: loss, top-1 and top-5 accuracy (fractions); null fields when empty. */
export function finishEval(t: EvalTotals): {
  loss: number | null;
  top1: number | null;
  top5: number | null;
} {
  if (t.count === 0) return { loss: null, top1: null, top5: null };
  return { loss: t.lossSum / t.count, top1: t.top1 / t.count, top5: t.top5 / t.count };
}
