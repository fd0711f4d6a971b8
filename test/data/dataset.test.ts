/**
 * loadDataset: deterministic, disjoint splits by seed; normalisation from the training split;
 * augmentation that really pads, crops and flips; batches built on demand from bytes; the
 * embedded Fashion-MNIST subset as data/README.md describes it.
 */
import fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { iterateBatches, normalisationTables } from "../../src/data/batches.js";
import { channelStats, loadDataset, resolveDatasetOptions } from "../../src/data/dataset.js";
import { DEBIAN_FASHION_MNIST_DIR } from "../../src/data/registry.js";
import { ConfigError } from "../../src/errors.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

/** A hash of a split's bytes, to compare selections cheaply. */
const key = (images: Uint8Array, labels: Uint8Array) =>
  `${Buffer.from(images).toString("base64").length}:${Buffer.from(labels).toString("hex")}`;

describe("splits", () => {
  it("are deterministic by seed, disjoint, and differ between seeds", () => {
    const a = loadDataset("synthetic", { seed: 3, valFraction: 0.2 });
    const b = loadDataset("synthetic", { seed: 3, valFraction: 0.2 });
    const c = loadDataset("synthetic", { seed: 4, valFraction: 0.2 });
    expect(a.train.count).toBe(800);
    expect(a.val.count).toBe(200);
    expect(key(a.train.images, a.train.labels)).toBe(key(b.train.images, b.train.labels));
    expect(Buffer.from(a.val.images).equals(Buffer.from(b.val.images))).toBe(true);
    expect(Buffer.from(a.val.images).equals(Buffer.from(c.val.images))).toBe(false);
    // Disjoint: no val image appears in train (synthetic images are all distinct).
    const per = 12 * 12 * 3;
    const trainSet = new Set<string>();
    for (let i = 0; i < a.train.count; i++)
      trainSet.add(Buffer.from(a.train.images.subarray(i * per, (i + 1) * per)).toString("base64"));
    for (let i = 0; i < a.val.count; i++) {
      expect(
        trainSet.has(Buffer.from(a.val.images.subarray(i * per, (i + 1) * per)).toString("base64")),
      ).toBe(false);
    }
  });

  it("take a training subset after the val split and compute stats from it", () => {
    const d = loadDataset("synthetic", { seed: 1, trainSubset: 100 });
    expect(d.train.count).toBe(100);
    expect(d.val.count).toBe(100);
    const s = channelStats(d.train, 3);
    expect(d.mean).toEqual(s.mean);
    // Mean of the bytes of channel 0, computed the slow way.
    let sum = 0;
    for (let i = 0; i < d.train.images.length; i += 3) sum += d.train.images[i]!;
    expect(d.mean[0]).toBeCloseTo(sum / (d.train.images.length / 3) / 255, 10);
    expect(() => loadDataset("synthetic", { trainSubset: 5000 })).toThrow(
      /trainSubset 5000 exceeds the 900/,
    );
    expect(() => loadDataset("synthetic", { valFraction: 1 })).toThrow(ConfigError);
    expect(() => loadDataset("nope")).toThrow(/dataset must be one of "fashion-mnist", /);
  });
});

describe("batches", () => {
  /** One 4×4×1 image with pixel value = 10·y + x, label 3. */
  const img = {
    images: Uint8Array.from({ length: 16 }, (_, k) => 10 * Math.floor(k / 4) + (k % 4)),
    labels: Uint8Array.from([3]),
    count: 1,
  };
  const identity = normalisationTables([0], [1 / 255]); // value v -> v

  it("without augmentation give the normalised pixels in order", () => {
    const tables = normalisationTables([0.5], [0.25]);
    const [b] = [...iterateBatches(img, [4, 4, 1], tables, { batchSize: 8 })];
    expect(b!.x.shape).toEqual([1, 4, 4, 1]);
    const x = b!.x.dataSync();
    expect(x[5]).toBeCloseTo((11 / 255 - 0.5) / 0.25, 6);
    expect([...b!.y.dataSync()]).toEqual([3]);
    tf.dispose([b!.x, b!.y]);
  });

  it("with augmentation are shifted crops of the zero-padded image, some mirrored", () => {
    const seen = new Set<string>();
    let flipped = 0;
    for (let s = 0; s < 200; s++) {
      const [b] = [
        ...iterateBatches(img, [4, 4, 1], identity, {
          batchSize: 1,
          augment: true,
          augmentSeed: s,
          cropPad: 1,
          hflip: true,
        }),
      ];
      const x = Array.from(b!.x.dataSync(), (v) => Math.round(v));
      tf.dispose([b!.x, b!.y]);
      // Find the shift (dy, dx) and flip that explain every pixel.
      let explained = false;
      for (const flip of [false, true]) {
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const ok = x.every((v, k) => {
              const y = Math.floor(k / 4);
              const sx = (flip ? 3 - (k % 4) : k % 4) + dx;
              const sy = y + dy;
              const want = sy < 0 || sy > 3 || sx < 0 || sx > 3 ? 0 : 10 * sy + sx;
              return v === want;
            });
            if (ok && !explained) {
              explained = true;
              seen.add(`${dy},${dx},${flip}`);
              if (flip) flipped++;
            }
          }
        }
      }
      expect(explained).toBe(true);
    }
    expect(seen.size).toBe(18); // every shift, with and without flip
    expect(flipped).toBeGreaterThan(60);
    expect(flipped).toBeLessThan(140);
  });

  it("stream a training epoch in a seeded order, the same for the same (seed, epoch)", () => {
    const d = loadDataset("synthetic", { seed: 5, trainSubset: 64 });
    const labelsOf = (epoch: number) => {
      const out: number[] = [];
      for (const b of d.batches("train", 16, epoch)) {
        out.push(...b.labels);
        tf.dispose([b.x, b.y]);
      }
      return out;
    };
    const e0 = labelsOf(0);
    expect(e0).toHaveLength(64);
    expect(labelsOf(0)).toEqual(e0);
    expect(labelsOf(1)).not.toEqual(e0);
    expect([...e0].sort()).toEqual([...d.train.labels].sort());
    expect(d.batchCount("train", 16)).toBe(4);
    expect(d.batchCount("test", 64)).toBe(Math.ceil(200 / 64));
  });

  it("hold no float copy of the dataset: tensors exist only per batch", () => {
    const d = loadDataset("synthetic", { trainSubset: 256 });
    const before = tf.memory().numBytes;
    const it = d.batches("train", 32, 0);
    const first = it.next().value!;
    expect(tf.memory().numBytes - before).toBe(32 * 12 * 12 * 3 * 4 + 32 * 4);
    tf.dispose([first.x, first.y]);
    it.return(undefined);
    expect(tf.memory().numBytes).toBe(before);
  });
});

describe("datasets", () => {
  it("synthetic is identical on every call and learnable (class means differ)", () => {
    const a = loadDataset("synthetic", { valFraction: 0 });
    const b = loadDataset("synthetic", { valFraction: 0 });
    expect(Buffer.from(a.train.images).equals(Buffer.from(b.train.images))).toBe(true);
    expect(a.train.count).toBe(1000);
    expect(a.test.count).toBe(200);
    // Learnable: a nearest-class-mean classifier fitted on train labels most test images right.
    const per = 12 * 12 * 3;
    const means = Array.from({ length: 10 }, () => new Float64Array(per));
    const n = new Array(10).fill(0);
    for (let i = 0; i < a.train.count; i++) {
      const c = a.train.labels[i]!;
      n[c]++;
      for (let k = 0; k < per; k++) means[c]![k]! += a.train.images[i * per + k]!;
    }
    let right = 0;
    for (let i = 0; i < a.test.count; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let c = 0; c < 10; c++) {
        let d2 = 0;
        for (let k = 0; k < per; k++)
          d2 += (a.test.images[i * per + k]! - means[c]![k]! / n[c]) ** 2;
        if (d2 < bestD) [best, bestD] = [c, d2];
      }
      if (best === a.test.labels[i]) right++;
    }
    expect(right / a.test.count).toBeGreaterThan(0.9);
  });

  it("fashion-mnist-mini is the embedded, balanced 2,000 + 500 subset", () => {
    const d = loadDataset("fashion-mnist-mini", { valFraction: 0 });
    expect(d.source).toBe("embedded:data/fashion-mnist-mini");
    expect(d.shape).toEqual([28, 28, 1]);
    expect(d.train.count).toBe(2000);
    expect(d.test.count).toBe(500);
    const counts = new Array(10).fill(0);
    for (const l of d.train.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(200));
    expect(d.options.hflip).toBe(true);
    expect(d.options.cropPad).toBe(2);
  });

  it.runIf(fs.existsSync(DEBIAN_FASHION_MNIST_DIR))(
    "fashion-mnist loads from Debian's package with a 54k/6k/10k split",
    () => {
      const d = loadDataset("fashion-mnist", { seed: 0 });
      expect([d.train.count, d.val.count, d.test.count]).toEqual([54000, 6000, 10000]);
      expect(d.mean[0]).toBeGreaterThan(0.27);
      expect(d.mean[0]).toBeLessThan(0.3);
    },
  );

  it("mnist defaults to no flips (digits are not mirror-symmetric)", () => {
    expect(resolveDatasetOptions("mnist").hflip).toBe(false);
    expect(resolveDatasetOptions("fashion-mnist").hflip).toBe(true);
    expect(resolveDatasetOptions("cifar10").cropPad).toBe(4);
    expect(() => loadDataset("mnist", { dataDir: "/nonexistent" })).toThrow(
      /"mnist" not found; looked in: \/nonexistent/,
    );
  });
});
