/** The in-memory shapes every dataset loader produces (raw uint8 pixels, never float tensors), and the dataset names. */

import { DatasetError } from "../errors.js";

/** Every dataset name. */
export const DATASET_NAMES = [
  "fashion-mnist",
  "fashion-mnist-mini",
  "mnist",
  "cifar10",
  "cifar100",
  "synthetic",
] as const;
/** A dataset name. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Images and labels of one split, kept as bytes (NHWC, row-major) so memory stays 1 byte/pixel. */
export interface ImageSplit {
  /** Pixels, N×H×W×C uint8, row-major (NHWC). */
  images: Uint8Array;
  /** Class index per image. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
}

/** What a format loader returns: the dataset's own train and test splits. */
export interface RawDataset {
  /** Training images as published. */
  train: ImageSplit;
  /** Test images as published. */
  test: ImageSplit;
  /** Image shape [height, width, channels]. */
  shape: [number, number, number];
  /** Number of classes. */
  numClasses: number;
  /** Where the data came from (a folder, "embedded:...", or "synthetic"), recorded with results. */
  source: string;
}

/** Builds an ImageSplit, checking that the byte counts agree. */
export function makeSplit(
  images: Uint8Array,
  labels: Uint8Array,
  shape: readonly [number, number, number],
): ImageSplit {
  const per = shape[0] * shape[1] * shape[2];
  if (images.length !== labels.length * per) {
    throw new DatasetError(
      `images hold ${images.length} bytes but ${labels.length} labels × ${per} bytes/image = ${labels.length * per}`,
    );
  }
  return { images, labels, count: labels.length };
}

/** Copies the images and labels at `indices` into a new split. */
export function selectSplit(
  split: ImageSplit,
  indices: ArrayLike<number>,
  shape: readonly [number, number, number],
): ImageSplit {
  const per = shape[0] * shape[1] * shape[2];
  const images = new Uint8Array(indices.length * per);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    images.set(split.images.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = split.labels[i]!;
  }
  return { images, labels, count: indices.length };
}
