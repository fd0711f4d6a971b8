/**
 * `loadDataset`: one call from a name to ready-to-stream train/val/test splits. The validation
 * split is carved from the training images by a seeded shuffle, an optional training subset is
 * taken from what remains, and the per-channel normalisation statistics come from the training
 * images actually used (never from val or test).
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, quote } from "../errors.js";
import { type Batch, batchCount, iterateBatches, normalisationTables } from "./batches.js";
import { DATASET_NAMES, DATASETS, type DatasetName, locateDataset } from "./registry.js";
import { mixSeed, Rng, range } from "./rng.js";
import { type ImageSplit, type RawDataset, selectSplit } from "./types.js";

/** Options of loadDataset; every field has a default. */
export interface LoadDatasetOptions {
  /** Folder holding the files (or a parent of the usual subfolder); default: SENET_LAB_DATA_DIR, then system folders. */
  dataDir?: string | null;
  /** Seed of the train/val split and the subset draw. Default 0. */
  seed?: number;
  /** Fraction of the training images held out as validation, in [0, 1). Default 0.1. */
  valFraction?: number;
  /** Use only this many training images (after the val split); null: all. Default null. */
  trainSubset?: number | null;
  /** Augment training batches (pad + random crop, flip if hflip). Default true. */
  augment?: boolean;
  /** Random horizontal flips; default per dataset (on for Fashion-MNIST and CIFAR, off for digits and synthetic). */
  hflip?: boolean;
  /** Zero padding per side before the random crop; default per dataset (4 for CIFAR, 2 for 28×28). */
  cropPad?: number;
}

/** Which split to stream. */
export type SplitName = "train" | "val" | "test";

/** A loaded dataset: uint8 splits plus what is needed to stream normalised batches. */
export interface Dataset {
  /** Its name. */
  name: DatasetName;
  /** Where the files came from. */
  source: string;
  /** Image shape [H, W, C]. */
  shape: [number, number, number];
  /** Number of classes. */
  numClasses: number;
  /** Training images (after the val split and subset). */
  train: ImageSplit;
  /** Validation images carved from the training set (count 0 when valFraction is 0). */
  val: ImageSplit;
  /** The published test set. */
  test: ImageSplit;
  /** Per-channel mean of the training pixels in [0, 1]. */
  mean: number[];
  /** Per-channel standard deviation of the training pixels in [0, 1]. */
  std: number[];
  /** The options in effect, every default filled. */
  options: Required<LoadDatasetOptions>;
  /**
   * Batches of one split; training batches are shuffled and augmented per (seed, epoch), and
   * `startBatch` skips the first ones exactly (a run resumed mid-epoch sees the same batches).
   */
  batches(
    split: SplitName,
    batchSize: number,
    epoch?: number,
    startBatch?: number,
  ): Generator<Batch>;
  /** How many batches `batches` yields for a split. */
  batchCount(split: SplitName, batchSize: number): number;
}

/** Validates a dataset name, erroring with the list of valid ones. */
export function checkDatasetName(name: unknown): DatasetName {
  if (typeof name === "string" && (DATASET_NAMES as readonly string[]).includes(name)) {
    return name as DatasetName;
  }
  throw new ConfigError(
    `dataset must be one of ${DATASET_NAMES.map((n) => JSON.stringify(n)).join(", ")}; got ${quote(name)}`,
  );
}

/** Fills and validates loadDataset options (cheap: no file is read). */
export function resolveDatasetOptions(
  name: DatasetName,
  o: LoadDatasetOptions = {},
): Required<LoadDatasetOptions> {
  const spec = DATASETS[name];
  const r: Required<LoadDatasetOptions> = {
    dataDir: o.dataDir ?? null,
    seed: o.seed ?? 0,
    valFraction: o.valFraction ?? 0.1,
    trainSubset: o.trainSubset ?? null,
    augment: o.augment ?? true,
    hflip: o.hflip ?? spec.hflip,
    cropPad: o.cropPad ?? spec.cropPad,
  };
  if (!Number.isInteger(r.seed))
    throw new ConfigError(`seed must be an integer; got ${quote(r.seed)}`);
  if (typeof r.valFraction !== "number" || !(r.valFraction >= 0 && r.valFraction < 1)) {
    throw new ConfigError(`valFraction must be a number in [0, 1); got ${quote(r.valFraction)}`);
  }
  if (r.trainSubset !== null && !(Number.isInteger(r.trainSubset) && r.trainSubset > 0)) {
    throw new ConfigError(
      `trainSubset must be a positive integer or null; got ${quote(r.trainSubset)}`,
    );
  }
  if (
    !Number.isInteger(r.cropPad) ||
    r.cropPad < 0 ||
    r.cropPad >= Math.min(spec.shape[0], spec.shape[1])
  ) {
    throw new ConfigError(
      `cropPad must be an integer in [0, ${Math.min(spec.shape[0], spec.shape[1]) - 1}] for ${name}; got ${quote(r.cropPad)}`,
    );
  }
  for (const k of ["augment", "hflip"] as const) {
    if (typeof r[k] !== "boolean")
      throw new ConfigError(`${k} must be a boolean; got ${quote(r[k])}`);
  }
  if (r.dataDir !== null && typeof r.dataDir !== "string") {
    throw new ConfigError(`dataDir must be a string or null; got ${quote(r.dataDir)}`);
  }
  return r;
}

/** Per-channel mean and (population) standard deviation of a split's pixels, in [0, 1]. */
export function channelStats(
  split: ImageSplit,
  channels: number,
): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  const img = split.images;
  for (let i = 0; i < img.length; i++) {
    const v = img[i]!;
    const c = i % channels;
    sum[c] += v;
    sq[c] += v * v;
  }
  const n = img.length / channels;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const m = sum[c]! / n;
    const variance = Math.max(sq[c]! / n - m * m, 0);
    mean.push(m / 255);
    std.push(Math.max(Math.sqrt(variance) / 255, 1e-6));
  }
  return { mean, std };
}

/** Seeds of the per-epoch streams, so order and augmentation depend only on (seed, epoch). */
export function epochSeeds(seed: number, epoch: number): { shuffle: number; augment: number } {
  return { shuffle: mixSeed(seed, 0x5a1e, epoch), augment: mixSeed(seed, 0xa06, epoch) };
}

/** Parsed files by dataset and folder, so a worker that trains run after run parses them once. */
const RAW_CACHE = new Map<string, { stamp: string; raw: RawDataset }>();

/** What identifies a folder's contents cheaply: the names, sizes and mtimes of its files. */
function folderStamp(dir: string): string {
  if (dir === "" || !fs.existsSync(dir)) return "";
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => {
      const st = fs.statSync(path.join(dir, f));
      return `${f}:${st.size}:${st.mtimeMs}`;
    })
    .join("|");
}

/**
 * The raw dataset of `name` in `dir`, parsed once per process (datasets are read-only here:
 * splits copy what they select). A folder whose files changed since is parsed again.
 */
function loadRawCached(name: string, dir: string, load: () => RawDataset): RawDataset {
  const key = `${name}\0${dir}`;
  const stamp = folderStamp(dir);
  const hit = RAW_CACHE.get(key);
  if (hit && hit.stamp === stamp) return hit.raw;
  const raw = load();
  RAW_CACHE.set(key, { stamp, raw });
  return raw;
}

/**
 * Loads a dataset by name, checking every file before returning (a truncated or wrong-format
 * file is a DatasetError naming it), and splits it deterministically by `seed`.
 */
export function loadDataset(
  name: string = "fashion-mnist",
  options: LoadDatasetOptions = {},
): Dataset {
  const dsName = checkDatasetName(name);
  const opts = resolveDatasetOptions(dsName, options);
  const spec = DATASETS[dsName];
  const dir = locateDataset(dsName, opts.dataDir);
  const raw = loadRawCached(dsName, dir ?? "", () => spec.load(dir ?? ""));
  const shape = raw.shape;
  const perm = new Rng(mixSeed(opts.seed, 0x5b117)).shuffle(range(raw.train.count));
  const nVal = Math.round(raw.train.count * opts.valFraction);
  let trainIdx = perm.subarray(nVal);
  if (opts.trainSubset !== null) {
    if (opts.trainSubset > trainIdx.length) {
      throw new ConfigError(
        `trainSubset ${opts.trainSubset} exceeds the ${trainIdx.length} training images of ${dsName} left after the validation split`,
      );
    }
    trainIdx = trainIdx.subarray(0, opts.trainSubset);
  }
  const train = selectSplit(raw.train, trainIdx, shape);
  const val = selectSplit(raw.train, perm.subarray(0, nVal), shape);
  const test = raw.test;
  const { mean, std } = channelStats(train, shape[2]);
  const tables = normalisationTables(mean, std);
  const splits = { train, val, test };
  return {
    name: dsName,
    source: raw.source,
    shape,
    numClasses: raw.numClasses,
    train,
    val,
    test,
    mean,
    std,
    options: opts,
    batches(split, batchSize, epoch = 0, startBatch = 0) {
      if (split === "train") {
        const s = epochSeeds(opts.seed, epoch);
        return iterateBatches(train, shape, tables, {
          batchSize,
          shuffleSeed: s.shuffle,
          augment: opts.augment,
          augmentSeed: s.augment,
          cropPad: opts.cropPad,
          hflip: opts.hflip,
          startBatch,
        });
      }
      return iterateBatches(splits[split], shape, tables, { batchSize, startBatch });
    },
    batchCount(split, batchSize) {
      return batchCount(splits[split].count, batchSize);
    },
  };
}
