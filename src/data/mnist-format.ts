/**
 * Loads a folder in the MNIST layout (train-/t10k- images and labels, IDX, gzipped or not):
 * MNIST, Fashion-MNIST and our embedded Fashion-MNIST subset all use it.
 */
import fs from "node:fs";
import path from "node:path";
import { DatasetError } from "../errors.js";
import { readIdx } from "./idx.js";
import { type ImageSplit, makeSplit, type RawDataset } from "./types.js";

/** The four file stems of the MNIST layout. */
export const MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** The path of `stem` in `dir`, gzipped or plain, or undefined when neither exists. */
export function findMnistFile(dir: string, stem: string): string | undefined {
  for (const name of [`${stem}.gz`, stem]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** The four files `dir` lacks, as "stem[.gz]", in order (so a partial folder names what to fetch). */
export function missingMnistFiles(dir: string): string[] {
  return Object.values(MNIST_FILES)
    .filter((s) => findMnistFile(dir, s) === undefined)
    .map((s) => `${s}[.gz]`);
}

/** True when `dir` holds all four files. */
export function hasMnistLayout(dir: string): boolean {
  return missingMnistFiles(dir).length === 0;
}

function loadPair(dir: string, imagesStem: string, labelsStem: string, numClasses: number) {
  const imagesFile = findMnistFile(dir, imagesStem);
  const labelsFile = findMnistFile(dir, labelsStem);
  if (!imagesFile || !labelsFile) {
    throw new DatasetError(`${dir} lacks ${!imagesFile ? imagesStem : labelsStem}[.gz]`);
  }
  const images = readIdx(imagesFile, 3);
  const labels = readIdx(labelsFile, 1);
  const [n, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new DatasetError(
      `${labelsFile} holds ${labels.dims[0]} labels but ${imagesFile} holds ${n} images`,
    );
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i]! >= numClasses) {
      throw new DatasetError(
        `${labelsFile}: label ${labels.data[i]} at index ${i} is not below ${numClasses}`,
      );
    }
  }
  return { split: makeSplit(images.data, labels.data, [h, w, 1]) as ImageSplit, h, w };
}

/** Loads the four files of `dir`; every format error names its file. */
export function loadMnistFormat(dir: string, numClasses = 10): RawDataset {
  const train = loadPair(dir, MNIST_FILES.trainImages, MNIST_FILES.trainLabels, numClasses);
  const test = loadPair(dir, MNIST_FILES.testImages, MNIST_FILES.testLabels, numClasses);
  if (train.h !== test.h || train.w !== test.w) {
    throw new DatasetError(
      `${dir}: train images are ${train.h}×${train.w} but test images are ${test.h}×${test.w}`,
    );
  }
  return {
    train: train.split,
    test: test.split,
    shape: [train.h, train.w, 1],
    numClasses,
    source: dir,
  };
}
