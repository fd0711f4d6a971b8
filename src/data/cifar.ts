/**
 * The CIFAR-10 / CIFAR-100 "binary version" files. A CIFAR-10 record is 1 label byte + 3072
 * pixel bytes (1024 red, 1024 green, 1024 blue, each 32×32 row-major); CIFAR-100 records carry
 * 2 label bytes (coarse, fine) and we use the fine label. Files: data_batch_1..5.bin +
 * test_batch.bin (CIFAR-10), train.bin + test.bin (CIFAR-100). Pixels are converted to NHWC.
 */
import fs from "node:fs";
import path from "node:path";
import { DatasetError } from "../errors.js";
import { readMaybeGzip } from "./idx.js";
import { type ImageSplit, makeSplit, type RawDataset } from "./types.js";

/** Which CIFAR: file names and label layout. */
export interface CifarVariant {
  /** "cifar10" or "cifar100". */
  name: "cifar10" | "cifar100";
  /** Training files in order. */
  trainFiles: string[];
  /** Test files. */
  testFiles: string[];
  /** Label bytes per record (1 or 2). */
  labelBytes: number;
  /** Number of classes (fine labels for CIFAR-100). */
  numClasses: number;
}

/** The two published variants. */
export const CIFAR_VARIANTS: Record<"cifar10" | "cifar100", CifarVariant> = {
  cifar10: {
    name: "cifar10",
    trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    testFiles: ["test_batch.bin"],
    labelBytes: 1,
    numClasses: 10,
  },
  cifar100: {
    name: "cifar100",
    trainFiles: ["train.bin"],
    testFiles: ["test.bin"],
    labelBytes: 2,
    numClasses: 100,
  },
};

const PIXELS = 32 * 32 * 3;

/** Parses one CIFAR binary file into NHWC bytes; `file` names it in errors. */
export function parseCifar(bytes: Uint8Array, file: string, v: CifarVariant): ImageSplit {
  const rec = v.labelBytes + PIXELS;
  if (bytes.length === 0 || bytes.length % rec !== 0) {
    throw new DatasetError(
      `${file}: wrong length ${bytes.length}: not a whole number of ${v.name} records of ${rec} bytes (truncated, or not a ${v.name} binary file)`,
    );
  }
  const n = bytes.length / rec;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * rec;
    const label = bytes[base + v.labelBytes - 1]!;
    if (label >= v.numClasses) {
      throw new DatasetError(
        `${file}: record ${i} has label ${label}, not below ${v.numClasses}; not a ${v.name} binary file`,
      );
    }
    labels[i] = label;
    const px = base + v.labelBytes;
    const out = i * PIXELS;
    for (let p = 0; p < 1024; p++) {
      images[out + 3 * p] = bytes[px + p]!;
      images[out + 3 * p + 1] = bytes[px + 1024 + p]!;
      images[out + 3 * p + 2] = bytes[px + 2048 + p]!;
    }
  }
  return { images, labels, count: n };
}

/** Encodes NHWC images and labels as one CIFAR binary file (for tests and tools). */
export function encodeCifar(split: ImageSplit, v: CifarVariant): Uint8Array {
  const rec = v.labelBytes + PIXELS;
  const out = new Uint8Array(split.count * rec);
  for (let i = 0; i < split.count; i++) {
    const base = i * rec;
    out[base + v.labelBytes - 1] = split.labels[i]!;
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) {
        out[base + v.labelBytes + c * 1024 + p] = split.images[i * PIXELS + 3 * p + c]!;
      }
    }
  }
  return out;
}

/** The variant's files that `dir` lacks, in order (so a half-copied folder says what to fetch). */
export function missingCifarFiles(dir: string, v: CifarVariant): string[] {
  return [...v.trainFiles, ...v.testFiles].filter((f) => !fs.existsSync(path.join(dir, f)));
}

/** True when `dir` holds every file of the variant. */
export function hasCifarLayout(dir: string, v: CifarVariant): boolean {
  return missingCifarFiles(dir, v).length === 0;
}

/**
 * The variant's files in `dir` whose length is not a whole number of records, as
 * "name (N bytes)": a cheap check (stat only) that `senet-lab data list` uses to call a folder
 * corrupt without reading 170 MB.
 */
export function badLengthCifarFiles(dir: string, v: CifarVariant): string[] {
  const rec = v.labelBytes + PIXELS;
  const out: string[] = [];
  for (const f of [...v.trainFiles, ...v.testFiles]) {
    let size: number;
    try {
      size = fs.statSync(path.join(dir, f)).size;
    } catch {
      continue;
    }
    if (size === 0 || size % rec !== 0)
      out.push(`${f} (${size} bytes, not whole ${rec}-byte records)`);
  }
  return out;
}

function concat(parts: ImageSplit[]): ImageSplit {
  const count = parts.reduce((a, p) => a + p.count, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * PIXELS);
    labels.set(p.labels, at);
    at += p.count;
  }
  return makeSplit(images, labels, [32, 32, 3]);
}

/** Loads every file of the variant from `dir`. */
export function loadCifar(dir: string, v: CifarVariant): RawDataset {
  const load = (f: string) => parseCifar(readMaybeGzip(path.join(dir, f)), path.join(dir, f), v);
  return {
    train: concat(v.trainFiles.map(load)),
    test: concat(v.testFiles.map(load)),
    shape: [32, 32, 3],
    numClasses: v.numClasses,
    source: dir,
  };
}
