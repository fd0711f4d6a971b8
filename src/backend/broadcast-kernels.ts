/**
 * Sum, Mean and Tile rewritten over the backends' fast ops (issue #5, item 4). Profiling a
 * ResNet-20 training step on wasm put Tile (batch-norm gradients tile the per-channel factors
 * to the activation's shape) at ~20% and Sum/Mean over the batch and spatial axes at ~8%: both
 * are generic index loops there. Here:
 *
 * - a reduction over one contiguous block of axes followed by kept axes (batch-norm statistics
 *   over N·H·W, global pooling over H·W) is one average pooling (XNNPACK); a matrix product
 *   with ones measured slower, as XNNPACK repacks the fresh right-hand matrix every call; other
 *   axis sets (and non-float inputs) use the original kernel;
 * - Tile is a broadcasting add of the input, with a length-1 axis before each of its axes, to
 *   zeros of the repetition counts, then a reshape.
 */
import * as tf from "@tensorflow/tfjs";

/** Normalises, sorts and de-duplicates axes; returns null if they are not one contiguous block. */
function contiguousAxes(
  axis: number | number[] | null | undefined,
  rank: number,
): [number, number] | null {
  // tf.sum(x) passes axis null: every axis.
  const raw = axis == null ? [...Array(rank).keys()] : Array.isArray(axis) ? axis : [axis];
  const list = raw.map((a) => (a < 0 ? a + rank : a));
  const sorted = [...new Set(list)].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]! + 1) return null;
  return [sorted[0]!, sorted[sorted.length - 1]! + 1];
}

/**
 * Sum or mean of a float32 tensor over a contiguous block of axes that is followed by at least
 * one kept axis, as one average pooling: x → [outer, mid, 1, inner], window mid × 1 (XNNPACK's
 * pooling streams over the kept axis with SIMD). Returns null for other cases (the caller falls
 * back): axes not contiguous, nothing kept after them (the original kernel is contiguous then).
 */
export function reduceByAvgPool(
  x: tf.Tensor,
  axis: number | number[] | null,
  keepDims: boolean,
  mean: boolean,
): tf.Tensor | null {
  const rank = x.rank;
  if (rank === 0) return null;
  const block = contiguousAxes(axis, rank);
  if (!block) return null;
  const [a, b] = block;
  const shape = x.shape;
  const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
  const outer = size(shape.slice(0, a));
  const mid = size(shape.slice(a, b));
  const inner = size(shape.slice(b));
  if (mid <= 1 || inner <= 1) return null;
  const outShape = keepDims
    ? shape.map((d, i) => (i >= a && i < b ? 1 : d))
    : [...shape.slice(0, a), ...shape.slice(b)];
  return tf.tidy(() => {
    const pooled = tf.avgPool(
      tf.reshape(x, [outer, mid, 1, inner]) as tf.Tensor4D,
      [mid, 1],
      1,
      "valid",
    );
    return tf.reshape(mean ? pooled : tf.mul(pooled, mid), outShape);
  });
}

/** tf.tile as one broadcasting add (see the module comment). */
export function tileByBroadcast(x: tf.Tensor, reps: number[]): tf.Tensor {
  return tf.tidy(() => {
    const xs: number[] = [];
    const zs: number[] = [];
    for (let i = 0; i < x.rank; i++) {
      const r = reps[i]!;
      const d = x.shape[i]!;
      if (r !== 1) {
        xs.push(1);
        zs.push(r);
      }
      if (d !== 1 || r === 1) {
        xs.push(d);
        zs.push(1);
      }
    }
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    const zeros = tf.zeros(zs, x.dtype);
    return tf.reshape(tf.add(tf.reshape(x, xs), zeros), outShape);
  });
}
