/**
 * How many images a dataset holds, known without parsing it: from the IDX headers of the MNIST
 * layout (the first bytes of a gzipped file are inflated, nothing more), from file sizes for
 * CIFAR (fixed-size records; a gzip's length trailer), from constants for the synthetic set.
 * This lets a sweep check every run's trainSubset, valFraction and batchSize against the data
 * once, before any worker starts, with the same words a single run uses (checkDatasetLimits).
 */
import fs from "node:fs";
import path from "node:path";
import { constants, gunzipSync } from "node:zlib";
import { ConfigError, DatasetError, quote } from "../errors.js";
import { CIFAR_VARIANTS, type CifarVariant } from "./cifar.js";
import { findMnistFile, MNIST_FILES } from "./mnist-format.js";
import { type DatasetName, locateDataset } from "./registry.js";
import { SYNTHETIC } from "./synthetic.js";

/** Image counts of a dataset's published splits, and where they were read. */
export interface DatasetCounts {
  /** Images of the published training split (before the validation split). */
  train: number;
  /** Images of the test split. */
  test: number;
  /** The folder read ("synthetic" for the generated set). */
  source: string;
}

/** The first `n` bytes of a file, inflated when it is gzipped; a DatasetError names the file. */
function headBytes(file: string, n: number): Uint8Array {
  const fd = fs.openSync(file, "r");
  let raw: Buffer;
  try {
    raw = Buffer.alloc(64 * 1024);
    raw = raw.subarray(0, fs.readSync(fd, raw, 0, raw.length, 0));
  } finally {
    fs.closeSync(fd);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      // A gzip cut short on purpose: inflate what is there, without waiting for its end.
      raw = gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (err) {
      throw new DatasetError(`${file} is not a valid gzip file: ${(err as Error).message}`);
    }
  }
  return raw.subarray(0, n);
}

/** The item count in an IDX file's header (its first dimension). */
function idxCount(file: string): number {
  const head = headBytes(file, 8);
  if (head.length < 8) throw new DatasetError(`${file}: too short for an IDX header`);
  return new DataView(head.buffer, head.byteOffset, 8).getUint32(4);
}

/** Uncompressed bytes of a file: its size, or a gzip's ISIZE trailer (size mod 2^32). */
function plainSize(file: string): number {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, "r");
  try {
    const b = Buffer.alloc(4);
    fs.readSync(fd, b, 0, 2, 0);
    if (size < 6 || b[0] !== 0x1f || b[1] !== 0x8b) return size;
    fs.readSync(fd, b, 0, 4, size - 4);
    return b.readUInt32LE(0);
  } finally {
    fs.closeSync(fd);
  }
}

function mnistCounts(dir: string): DatasetCounts {
  const count = (stem: string) => {
    const f = findMnistFile(dir, stem);
    if (!f) throw new DatasetError(`${dir} lacks ${stem}[.gz]`);
    return idxCount(f);
  };
  return {
    train: count(MNIST_FILES.trainLabels),
    test: count(MNIST_FILES.testLabels),
    source: dir,
  };
}

function cifarCounts(dir: string, v: CifarVariant): DatasetCounts {
  const rec = v.labelBytes + 32 * 32 * 3;
  const count = (files: string[]) =>
    files.reduce((n, f) => n + Math.floor(plainSize(path.join(dir, f)) / rec), 0);
  return { train: count(v.trainFiles), test: count(v.testFiles), source: dir };
}

/** How each dataset's counts are read (exhaustive: a new dataset must say how). */
const COUNTERS: Record<DatasetName, (dir: string) => DatasetCounts> = {
  "fashion-mnist": mnistCounts,
  "fashion-mnist-mini": mnistCounts,
  mnist: mnistCounts,
  cifar10: (d) => cifarCounts(d, CIFAR_VARIANTS.cifar10),
  cifar100: (d) => cifarCounts(d, CIFAR_VARIANTS.cifar100),
  synthetic: () => ({
    train: SYNTHETIC.trainCount,
    test: SYNTHETIC.testCount,
    source: "synthetic",
  }),
};

/**
 * The image counts of dataset `name` (found as loadDataset finds it: a DatasetError when it is
 * missing), read from headers and sizes in milliseconds, without parsing the images.
 */
export function datasetCounts(name: DatasetName, dataDir?: string | null): DatasetCounts {
  const dir = locateDataset(name, dataDir ?? null);
  return COUNTERS[name](dir ?? "");
}

/** The training keys checkDatasetLimits reads (a resolved experiment config has them all). */
export interface DatasetLimitKeys {
  /** Dataset name. */
  dataset: DatasetName;
  /** Fraction held out for validation. */
  valFraction: number;
  /** Images to train on, or null for all. */
  trainSubset: number | null;
  /** Images per training step. */
  batchSize: number;
}

/**
 * Every way `config` asks more of the data than `counts` holds, one message each (empty: none):
 * a trainSubset above the images left after the validation split, a valFraction that leaves no
 * training image or holds out none (it rounds to 0 images), a batchSize above the training
 * images (each epoch would be one step). Each message names the value and the dataset's sizes.
 */
export function datasetLimitProblems(config: DatasetLimitKeys, counts: DatasetCounts): string[] {
  const { dataset, valFraction, trainSubset, batchSize } = config;
  const n = counts.train;
  const nVal = Math.round(n * valFraction);
  const left = n - nVal;
  const problems: string[] = [];
  const of = `the ${n} training images of ${quote(dataset)}`;
  if (valFraction > 0 && nVal === 0) {
    problems.push(
      `valFraction ${valFraction} holds out 0 of ${of} (rounded), so there is no validation split; use valFraction 0 to say so, or at least ${Math.ceil((0.5 / n) * 1e6) / 1e6}`,
    );
  }
  if (left < 1) {
    problems.push(
      `valFraction ${valFraction} holds out ${nVal} of ${of}, leaving none to train on; lower it`,
    );
    return problems;
  }
  if (trainSubset !== null && trainSubset > left) {
    problems.push(
      `trainSubset ${trainSubset} is larger than the ${left} training images of ${quote(dataset)} left after the validation split (${n} images, valFraction ${valFraction} holds out ${nVal}); use trainSubset <= ${left}`,
    );
    return problems;
  }
  const train = trainSubset ?? left;
  if (batchSize > train) {
    problems.push(
      `batchSize ${batchSize} is larger than the ${train} training images of ${quote(dataset)}${trainSubset !== null ? ` (trainSubset ${trainSubset})` : ""}: every epoch would be a single step of ${train} images; use batchSize <= ${train}`,
    );
  }
  return problems;
}

/** Throws a ConfigError naming the first of datasetLimitProblems, before any image is parsed. */
export function checkDatasetLimits(config: DatasetLimitKeys, counts: DatasetCounts): void {
  const problems = datasetLimitProblems(config, counts);
  if (problems.length > 0) throw new ConfigError(problems.join("; "));
}
