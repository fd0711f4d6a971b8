/**
 * Top-1 / top-5 accuracy of a classifier on an image-folder dataset, streamed: images are
 * decoded and preprocessed one batch ahead of the model (the next batch's files decode on
 * libuv's threads while the current batch runs), so memory holds two batches, never the set.
 */
import * as tf from "@tensorflow/tfjs";
import type { ImageEntry } from "../data/image-folder.js";
import {
  loadEvalCrop,
  normaliseInto,
  type PreprocessOptions,
  type ResolvedPreprocess,
  resolvePreprocess,
} from "../data/preprocess.js";
import { ConfigError, DatasetError, quote } from "../errors.js";

/** What evaluateClassifier reads: the images with their labels (an ImageFolderDataset fits). */
export interface EvalData {
  /** Every image and its class index, in evaluation order. */
  entries: readonly ImageEntry[];
  /** Classes the labels index into (checked against the model's outputs). */
  numClasses: number;
}

/** Progress after each batch. */
export interface EvalProgress {
  /** Images scored so far. */
  done: number;
  /** Images to score in all. */
  total: number;
  /** Top-1 hits so far. */
  correct1: number;
  /** Top-5 hits so far. */
  correct5: number;
  /** Seconds since the first batch started decoding. */
  seconds: number;
}

/** Options of evaluateClassifier; every field has a default. */
export interface EvaluateOptions {
  /** Images per model call. Default 32. */
  batchSize?: number;
  /** Score only this many images, spread evenly over the list (every class shows up when limit ≥ classes); null: all. */
  limit?: number | null;
  /** The transform; imgSize defaults to the model's input height. */
  preprocess?: PreprocessOptions;
  /** Called after every batch (progress bars). */
  onProgress?: (p: EvalProgress) => void;
}

/** The scores of one evaluation. */
export interface EvalResult {
  /** Fraction of images whose true class has the highest logit (first index on ties, as argmax). */
  top1: number;
  /** Fraction whose true class is among the five highest (k = classes when fewer than 5). */
  top5: number;
  /** k of the top-5 score: 5, or the model's classes when it has fewer. */
  topK: number;
  /** Top-1 hits. */
  correct1: number;
  /** Top-5 hits. */
  correct5: number;
  /** Images scored. */
  n: number;
  /** Images in the dataset (n < total when limited). */
  total: number;
  /** Wall-clock seconds of the whole loop: reading, decoding, preprocessing and the model. */
  seconds: number;
  /** n / seconds: end-to-end throughput. */
  imagesPerSec: number;
  /** Seconds inside the model's forward passes alone. */
  modelSeconds: number;
  /** Batch size used. */
  batchSize: number;
  /** The transform applied, every default filled. */
  preprocess: ResolvedPreprocess;
}

/** Indices of `limit` entries spread evenly over `total` (all of them when limit is null or ≥ total). */
export function spreadIndices(total: number, limit: number | null): number[] {
  const n = limit === null ? total : Math.min(limit, total);
  return Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
}

/**
 * The rank of `label` among `logits` as a stable descending sort would place it: how many
 * classes score higher, plus how many score the same with a lower index. Rank 0 is argmax.
 */
export function labelRank(logits: ArrayLike<number>, offset: number, k: number, label: number) {
  const t = logits[offset + label]!;
  let rank = 0;
  for (let j = 0; j < k; j++) {
    const v = logits[offset + j]!;
    if (v > t || (v === t && j < label)) rank++;
  }
  return rank;
}

/** The model's [height, width, channels] and output classes; ConfigError when it is not an NHWC classifier. */
export function classifierShape(model: tf.LayersModel): {
  input: [number | null, number | null, number | null];
  classes: number;
} {
  const inShape = model.inputs[0]?.shape;
  const outShape = model.outputs[0]?.shape;
  if (model.inputs.length !== 1 || !inShape || inShape.length !== 4) {
    throw new ConfigError(
      `model ${quote(model.name)} must take one NHWC image input; its inputs are ${quote(model.inputs.map((i) => i.shape))}`,
    );
  }
  if (model.outputs.length !== 1 || !outShape || outShape.length !== 2 || !outShape[1]) {
    throw new ConfigError(
      `model ${quote(model.name)} must output one [batch, classes] tensor; its outputs are ${quote(model.outputs.map((o) => o.shape))}`,
    );
  }
  return {
    input: [inShape[1] ?? null, inShape[2] ?? null, inShape[3] ?? null],
    classes: outShape[1],
  };
}

/**
 * Scores `model` on `data`: top-1 and top-5 accuracy plus throughput. Everything that can be
 * checked without decoding (batch size, limit, preprocessing options, the model's input size and
 * channels against the crop, its classes against the labels) is checked first.
 */
export async function evaluateClassifier(
  model: tf.LayersModel,
  data: EvalData,
  options: EvaluateOptions = {},
): Promise<EvalResult> {
  const batchSize = options.batchSize ?? 32;
  const limit = options.limit ?? null;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ConfigError(`batchSize must be a positive integer; got ${quote(batchSize)}`);
  }
  if (limit !== null && !(Number.isInteger(limit) && limit > 0)) {
    throw new ConfigError(`limit must be a positive integer or null; got ${quote(limit)}`);
  }
  const shape = classifierShape(model);
  const p = resolvePreprocess({
    ...options.preprocess,
    imgSize: options.preprocess?.imgSize ?? shape.input[0] ?? 224,
  });
  const [h, w, c] = shape.input;
  if (
    (h !== null && h !== p.imgSize) ||
    (w !== null && w !== p.imgSize) ||
    (c !== null && c !== 3)
  ) {
    throw new ConfigError(
      `model ${quote(model.name)} takes ${shape.input.map((d) => d ?? "any").join("×")} inputs but the crop is ${p.imgSize}×${p.imgSize}×3; set imgSize to ${h ?? w}`,
    );
  }
  if (data.entries.length === 0) throw new DatasetError("the dataset holds no image");
  const maxLabel = data.entries.reduce((m, e) => Math.max(m, e.label), -1);
  if (maxLabel >= shape.classes) {
    throw new ConfigError(
      `the labels go up to class ${maxLabel} (${data.numClasses} classes in the data) but model ${quote(model.name)} has ${shape.classes} outputs`,
    );
  }
  const k5 = Math.min(5, shape.classes);
  const picked = spreadIndices(data.entries.length, limit).map((i) => data.entries[i]!);
  const n = picked.length;
  const per = p.imgSize * p.imgSize * 3;

  /** Starts decoding batch `b` (files decode in parallel on libuv's pool). */
  const prepare = (b: number): Promise<{ x: Float32Array; labels: number[] }> => {
    const items = picked.slice(b * batchSize, (b + 1) * batchSize);
    const ready = Promise.all(items.map((e) => loadEvalCrop(e.file, p))).then((crops) => {
      const x = new Float32Array(items.length * per);
      crops.forEach((crop, i) => {
        normaliseInto(crop, x, i * per, p.mean, p.std);
      });
      return { x, labels: items.map((e) => e.label) };
    });
    // A failure surfaces where the batch is awaited; this only keeps Node from calling it
    // unhandled while the model runs on the batch before.
    ready.catch(() => undefined);
    return ready;
  };

  const batches = Math.ceil(n / batchSize);
  const t0 = performance.now();
  let modelMs = 0;
  let done = 0;
  let correct1 = 0;
  let correct5 = 0;
  let next = prepare(0);
  for (let b = 0; b < batches; b++) {
    const { x, labels } = await next;
    // Queue the next batch's decoding before running the model on this one.
    if (b + 1 < batches) next = prepare(b + 1);
    const m0 = performance.now();
    const logits = tf.tidy(() => {
      const input = tf.tensor4d(x, [labels.length, p.imgSize, p.imgSize, 3]);
      return model.predict(input) as tf.Tensor;
    });
    const values = await logits.data();
    logits.dispose();
    modelMs += performance.now() - m0;
    for (let i = 0; i < labels.length; i++) {
      const rank = labelRank(values, i * shape.classes, shape.classes, labels[i]!);
      if (rank === 0) correct1++;
      if (rank < k5) correct5++;
    }
    done += labels.length;
    options.onProgress?.({
      done,
      total: n,
      correct1,
      correct5,
      seconds: (performance.now() - t0) / 1000,
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    top1: correct1 / n,
    top5: correct5 / n,
    topK: k5,
    correct1,
    correct5,
    n,
    total: data.entries.length,
    seconds,
    imagesPerSec: n / seconds,
    modelSeconds: modelMs / 1000,
    batchSize,
    preprocess: p,
  };
}
