/**
 * A batch-norm layer's moving-statistic update, moving − (moving − batch)·(1 − momentum), as
 * tfjs-layers computes it: one MOVING_AVERAGE kernel where the backend has it (a loop over C
 * values instead of three kernel calls per statistic), three tf ops elsewhere; the same float32
 * rounding either way.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, runKernel } from "./dispatch.js";
import { MOVING_AVERAGE, type MovingAverageAttrs } from "./kernel-names.js";

/** The updated moving statistic (a new tensor shaped like `moving`). */
export function movingAverage(moving: tf.Tensor, batch: tf.Tensor, momentum: number): tf.Tensor {
  if (
    hasKernel(MOVING_AVERAGE) &&
    moving.dtype === "float32" &&
    batch.dtype === "float32" &&
    moving.size === batch.size
  ) {
    const attrs: MovingAverageAttrs = { momentum };
    return runKernel(MOVING_AVERAGE, { moving, batch }, attrs)[0]!;
  }
  return tf.sub(moving, tf.mul(tf.sub(moving, batch), 1 - momentum));
}
