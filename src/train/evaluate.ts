/** Evaluation of a model on a dataset split: loss, top-1, top-5, optionally with flip TTA. */
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/dataset.js";
import { accumulate, emptyTotals, finishEval } from "./loss.js";

/**
 * Top-1/top-5/loss of `split`. With `flip`, the logits are the mean over each image and its
 * mirror (flip test-time augmentation), which is reported apart from the plain figures.
 */
export async function evaluate(
  model: tf.LayersModel,
  ds: Dataset,
  split: "val" | "test",
  batchSize: number,
  flip = false,
) {
  const totals = emptyTotals();
  for (const b of ds.batches(split, batchSize)) {
    try {
      const logits = tf.tidy(() => {
        const plain = model.apply(b.x, { training: false }) as tf.Tensor;
        if (!flip) return plain;
        const mirrored = model.apply(tf.reverse(b.x, 2), { training: false }) as tf.Tensor;
        return tf.mul(tf.add(plain, mirrored), 0.5);
      });
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      accumulate(totals, data, b.labels, ds.numClasses);
    } finally {
      b.x.dispose();
      b.y.dispose();
    }
  }
  return { ...finishEval(totals), nonFinite: totals.nonFinite };
}
