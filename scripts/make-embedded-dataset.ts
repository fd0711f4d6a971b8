/**
 * Builds data/fashion-mnist-mini: a small, class-balanced, deterministic subset of
 * Fashion-MNIST (200 training + 50 test images per class) in the original gzipped IDX layout,
 * so quick runs and tests need no system dataset.
 *
 *   npx tsx scripts/make-embedded-dataset.ts [--source /usr/share/datasets/fashion-mnist] [--seed 2026]
 *
 * Selection: a seeded shuffle of each split, then the first N images of each class in that
 * order, written in shuffled order. The same source and seed give byte-identical files.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { encodeIdx } from "../src/data/idx.js";
import { loadMnistFormat, MNIST_FILES } from "../src/data/mnist-format.js";
import { DEBIAN_FASHION_MNIST_DIR, EMBEDDED_DIR } from "../src/data/registry.js";
import { Rng, range } from "../src/data/rng.js";
import { type ImageSplit, selectSplit } from "../src/data/types.js";

const { values } = parseArgs({
  options: {
    source: { type: "string", default: DEBIAN_FASHION_MNIST_DIR },
    seed: { type: "string", default: "2026" },
    out: { type: "string", default: EMBEDDED_DIR },
  },
});
const seed = Number(values.seed);
const raw = loadMnistFormat(values.source!, 10);

function balanced(split: ImageSplit, perClass: number, s: number): ImageSplit {
  const order = new Rng(s).shuffle(range(split.count));
  const taken = new Array<number>(10).fill(0);
  const pick: number[] = [];
  for (const i of order) {
    const c = split.labels[i]!;
    if (taken[c]! < perClass) {
      taken[c]!++;
      pick.push(i);
    }
  }
  if (pick.length !== perClass * 10) throw new Error("not enough images per class");
  return selectSplit(split, pick, raw.shape);
}

const out = values.out!;
fs.mkdirSync(out, { recursive: true });
const write = (stem: string, dims: number[], data: Uint8Array) => {
  const file = path.join(out, `${stem}.gz`);
  fs.writeFileSync(file, gzipSync(encodeIdx(dims, data), { level: 9 }));
  console.log(`${file}: ${fs.statSync(file).size} bytes`);
};
const [h, w] = raw.shape;
const train = balanced(raw.train, 200, seed);
const test = balanced(raw.test, 50, seed + 1);
write(MNIST_FILES.trainImages, [train.count, h, w], train.images);
write(MNIST_FILES.trainLabels, [train.count], train.labels);
write(MNIST_FILES.testImages, [test.count, h, w], test.images);
write(MNIST_FILES.testLabels, [test.count], test.labels);
