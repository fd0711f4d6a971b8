/**
 * Streams a split as float batches without ever holding the dataset as float tensors: the
 * pixels stay uint8 in JS and each batch's normalised, augmented float32 tensor is built on
 * demand (the caller disposes it). Augmentation is the CIFAR recipe: zero-pad, random crop
 * back to size, optional horizontal flip; padding is applied to raw pixels before
 * normalisation, as torchvision's RandomCrop + Normalize do.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng, range } from "./rng.js";
import type { ImageSplit } from "./types.js";

/** One batch, ready for a training or evaluation step. */
export interface Batch {
  /** Normalised images, [size, H, W, C] float32; the caller disposes it. */
  x: tf.Tensor4D;
  /** Labels as int32 class indices, [size]; the caller disposes it. */
  y: tf.Tensor1D;
  /** The same labels on the JS side (for metrics without a download). */
  labels: Uint8Array;
  /** Images in this batch (the last batch of an epoch may be smaller). */
  size: number;
}

/** How a split is turned into batches. */
export interface BatchOptions {
  /** Images per batch. */
  batchSize: number;
  /** Shuffle order with this seed (undefined: dataset order, as evaluation uses). */
  shuffleSeed?: number;
  /** Pad + random crop (and flip when `hflip`), drawn from `augmentSeed`. */
  augment?: boolean;
  /** Seed of the augmentation draws (required when augment is on). */
  augmentSeed?: number;
  /** Zero padding in pixels per side before cropping. */
  cropPad?: number;
  /** Flip half of the images left-right. */
  hflip?: boolean;
  /**
   * Batches to skip first (a run resumed mid-epoch): their augmentation draws are replayed
   * without building pixels, so batch `startBatch` is exactly the one an uninterrupted epoch
   * yields there. Default 0.
   */
  startBatch?: number;
}

/** Per-channel lookup tables mapping a byte to its normalised float value. */
export function normalisationTables(mean: number[], std: number[]): Float32Array[] {
  return mean.map((m, c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = (v / 255 - m) / std[c]!;
    return t;
  });
}

/** Number of batches `count` images make (the last one may be partial). */
export function batchCount(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/**
 * Yields the batches of `split`. The order and augmentation are pure functions of the seeds, so
 * a resumed epoch sees exactly the batches an uninterrupted one would.
 */
export function* iterateBatches(
  split: ImageSplit,
  shape: readonly [number, number, number],
  tables: Float32Array[],
  opts: BatchOptions,
): Generator<Batch> {
  const [h, w, ch] = shape;
  const per = h * w * ch;
  const order = range(split.count);
  if (opts.shuffleSeed !== undefined) new Rng(opts.shuffleSeed).shuffle(order);
  const aug = opts.augment ? new Rng(opts.augmentSeed ?? 0) : undefined;
  const pad = opts.cropPad ?? 0;
  const first = Math.min(split.count, (opts.startBatch ?? 0) * opts.batchSize);
  if (aug) {
    // Each augmented image draws two crop offsets, and one flip coin when hflip is on.
    const draws = first * (opts.hflip ? 3 : 2);
    for (let i = 0; i < draws; i++) aug.next();
  }
  for (let start = first; start < split.count; start += opts.batchSize) {
    const size = Math.min(opts.batchSize, split.count - start);
    const buf = new Float32Array(size * per);
    const labels = new Uint8Array(size);
    for (let b = 0; b < size; b++) {
      const idx = order[start + b]!;
      labels[b] = split.labels[idx]!;
      const src = idx * per;
      const dst = b * per;
      if (!aug) {
        const img = split.images;
        for (let k = 0, o = dst, s = src; k < h * w; k++) {
          for (let c = 0; c < ch; c++, o++, s++) buf[o] = tables[c]![img[s]!]!;
        }
        continue;
      }
      // Crop offsets in the padded image, then optional flip; outside the image is pixel 0.
      const dy = aug.int(2 * pad + 1) - pad;
      const dx = aug.int(2 * pad + 1) - pad;
      const flip = opts.hflip ? aug.next() < 0.5 : false;
      for (let y = 0; y < h; y++) {
        const sy = y + dy;
        for (let x = 0; x < w; x++) {
          const sx = (flip ? w - 1 - x : x) + dx;
          const o = dst + (y * w + x) * ch;
          const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
          const s = src + (sy * w + sx) * ch;
          for (let c = 0; c < ch; c++) {
            buf[o + c] = tables[c]![inside ? split.images[s + c]! : 0]!;
          }
        }
      }
    }
    const y = new Int32Array(size);
    for (let b = 0; b < size; b++) y[b] = labels[b]!;
    yield {
      x: tf.tensor4d(buf, [size, h, w, ch], "float32"),
      y: tf.tensor1d(y, "int32"),
      labels,
      size,
    };
  }
}
