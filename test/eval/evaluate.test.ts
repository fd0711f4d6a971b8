/**
 * evaluateClassifier: scores checked against an independent computation (model.predict on the
 * same preprocessed images, argmax / sorted top-k by hand), against a model whose answers are
 * known (colour classifier on solid-colour images: 100 %), streaming details (batch remainders,
 * limit, progress), and the refusals that come before any decoding.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { openImageFolder } from "../../src/data/image-folder.js";
import {
  decodeImage,
  evalCrop,
  normaliseInto,
  resolvePreprocess,
} from "../../src/data/preprocess.js";
import { ConfigError, DatasetError } from "../../src/errors.js";
import {
  type EvalProgress,
  evaluateClassifier,
  labelRank,
  spreadIndices,
} from "../../src/eval/evaluate.js";
import { createModel } from "../../src/models/index.js";
import { writeImage } from "./images.js";

let tmp: string;
const CLASSES = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"];

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-evaluate-"));
  // 3 class folders (c2, c5, c7 of a 10-class model), 13 images of assorted sizes and formats.
  let seed = 0;
  for (const [cls, count] of [
    ["c2", 5],
    ["c5", 4],
    ["c7", 4],
  ] as const) {
    for (let i = 0; i < count; i++) {
      const ext = i % 2 ? "png" : "jpg";
      await writeImage(
        path.join(tmp, "folders", cls, `${i}.${ext}`),
        40 + 7 * i,
        36 + 5 * seed,
        seed,
      );
      seed++;
    }
  }
  fs.writeFileSync(path.join(tmp, "classes.txt"), `${CLASSES.join("\n")}\n`);
  // Solid colours: red, green, blue folders.
  for (const [cls, rgb] of [
    ["0-red", [220, 30, 30]],
    ["1-green", [30, 220, 30]],
    ["2-blue", [30, 30, 220]],
  ] as const) {
    for (let i = 0; i < 3; i++) {
      const dir = path.join(tmp, "colours", cls);
      fs.mkdirSync(dir, { recursive: true });
      await sharp({
        create: {
          width: 30 + i * 9,
          height: 26,
          channels: 3,
          background: { r: rgb[0], g: rgb[1], b: rgb[2] },
        },
      })
        .jpeg()
        .toFile(path.join(dir, `${i}.jpg`));
    }
  }
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** GAP then a dense layer that returns the channel means: argmax = the dominant colour. */
function colourModel(size: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  const pooled = tf.layers.globalAveragePooling2d({}).apply(input);
  const dense = tf.layers.dense({ units: 3, useBias: false, name: "identity" });
  const out = dense.apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: "colours" });
  dense.setWeights([tf.eye(3)]);
  return model;
}

describe("scores", () => {
  it("a colour classifier on solid colours scores 100 % top-1", async () => {
    const data = openImageFolder(path.join(tmp, "colours"));
    const r = await evaluateClassifier(colourModel(16), data, { batchSize: 4 });
    expect(r).toMatchObject({ n: 9, total: 9, correct1: 9, correct5: 9, top1: 1, top5: 1 });
    // Reversed labels: every image wrong at top-1, still within the top 3 of 3 classes.
    const wrong = { ...data, entries: data.entries.map((e) => ({ ...e, label: 2 - e.label })) };
    const w = await evaluateClassifier(colourModel(16), wrong, { batchSize: 4 });
    // Green is in the middle of both orders: its 3 images stay right.
    expect(w.correct1).toBe(3);
    expect(w.top5).toBe(1);
  });

  it("equals model.predict + argmax / top-5 on the same preprocessed images", async () => {
    const data = openImageFolder(path.join(tmp, "folders"), {
      classes: path.join(tmp, "classes.txt"),
    });
    expect(data.entries.map((e) => e.label)).toEqual([2, 2, 2, 2, 2, 5, 5, 5, 5, 7, 7, 7, 7]);
    const model = createModel("resnet20", { numClasses: 10, inputShape: [32, 32, 3] });
    const opts = { imgSize: 32, cropPct: 0.9, interpolation: "bicubic" as const };
    const r = await evaluateClassifier(model, data, { batchSize: 5, preprocess: opts });
    // Independent: preprocess every image, one predict call, rank by sorting.
    const p = resolvePreprocess(opts);
    const per = 32 * 32 * 3;
    const x = new Float32Array(data.entries.length * per);
    for (let i = 0; i < data.entries.length; i++) {
      normaliseInto(
        evalCrop(await decodeImage(data.entries[i]!.file), p),
        x,
        i * per,
        p.mean,
        p.std,
      );
    }
    const logits = (
      model.predict(tf.tensor4d(x, [data.entries.length, 32, 32, 3])) as tf.Tensor
    ).arraySync() as number[][];
    let c1 = 0;
    let c5 = 0;
    logits.forEach((row, i) => {
      const label = data.entries[i]!.label;
      const order = row.map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      if (order[0]![1] === label) c1++;
      if (order.slice(0, 5).some(([, j]) => j === label)) c5++;
    });
    expect(r.correct1).toBe(c1);
    expect(r.correct5).toBe(c5);
    expect(r.top1).toBeCloseTo(c1 / 13, 12);
    expect(r.top5).toBeCloseTo(c5 / 13, 12);
    expect(r.n).toBe(13);
    expect(r.imagesPerSec).toBeGreaterThan(0);
    expect(r.seconds).toBeGreaterThanOrEqual(r.modelSeconds);
    expect(r.preprocess).toMatchObject({ imgSize: 32, cropPct: 0.9, scaleSize: 35 });
  });

  it("labelRank is the position in a stable descending sort (argmax takes the first of ties)", () => {
    const l = [0.1, 0.9, 0.9, 0.3];
    expect(labelRank(l, 0, 4, 1)).toBe(0);
    expect(labelRank(l, 0, 4, 2)).toBe(1);
    expect(labelRank(l, 0, 4, 3)).toBe(2);
    expect(labelRank(l, 0, 4, 0)).toBe(3);
    expect(labelRank([9, 9, 0.3, 0.1], 2, 2, 0)).toBe(0); // offset into a batch row
  });
});

describe("streaming", () => {
  it("limit spreads evenly, batches need not divide, progress counts up to n", async () => {
    expect(spreadIndices(10, 4)).toEqual([0, 2, 5, 7]);
    expect(spreadIndices(3, null)).toEqual([0, 1, 2]);
    expect(spreadIndices(3, 10)).toEqual([0, 1, 2]);
    const data = openImageFolder(path.join(tmp, "colours"));
    const seen: EvalProgress[] = [];
    const r = await evaluateClassifier(colourModel(16), data, {
      batchSize: 2,
      limit: 5,
      onProgress: (p) => seen.push(p),
    });
    expect(r).toMatchObject({ n: 5, total: 9, correct1: 5 });
    expect(seen.map((p) => p.done)).toEqual([2, 4, 5]);
    expect(seen.every((p) => p.total === 5)).toBe(true);
    expect(seen.at(-1)!.correct1).toBe(5);
  });
});

describe("refusals before decoding", () => {
  it("a crop size the model does not take, naming both", async () => {
    const data = openImageFolder(path.join(tmp, "colours"));
    await expect(
      evaluateClassifier(colourModel(16), data, { preprocess: { imgSize: 24 } }),
    ).rejects.toThrow(/takes 16×16×3 inputs but the crop is 24×24×3; set imgSize to 16/);
  });

  it("labels beyond the model's outputs", async () => {
    const data = openImageFolder(path.join(tmp, "folders"), {
      classes: path.join(tmp, "classes.txt"),
    });
    await expect(evaluateClassifier(colourModel(16), data)).rejects.toThrow(
      /labels go up to class 7 .* has 3 outputs/,
    );
  });

  it("bad batch size and limit", async () => {
    const data = openImageFolder(path.join(tmp, "colours"));
    await expect(evaluateClassifier(colourModel(16), data, { batchSize: 0 })).rejects.toThrow(
      ConfigError,
    );
    await expect(evaluateClassifier(colourModel(16), data, { limit: 1.5 })).rejects.toThrow(
      /limit must be a positive integer or null; got 1.5/,
    );
  });

  it("an unreadable image fails the run with a DatasetError naming it", async () => {
    const dir = path.join(tmp, "broken");
    fs.cpSync(path.join(tmp, "colours"), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "1-green", "1.jpg"), "not a jpeg");
    const data = openImageFolder(dir);
    const err = await evaluateClassifier(colourModel(16), data, { batchSize: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect(String(err.message)).toMatch(/cannot decode image ".*1-green\/1\.jpg"/);
  });
});
