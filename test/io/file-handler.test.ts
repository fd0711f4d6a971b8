import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { loadModel, ModelFileError, saveModel } from "../../src/io/index.js";
import { createAttention, SpatialGroupEnhance, SqueezeExcite } from "../../src/layers/index.js";

let tmp: string;

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-io-"));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A model holding every attention variant, with non-initial weights everywhere. */
function attentionModel(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 3] });
  let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same" }).apply(input);
  const blocks = [
    createAttention("se", { reduction: 4 }),
    createAttention("se", { reduction: 2, squeeze: "avgmax", excitation: "tanh", useBias: true }),
    createAttention("se", { hiddenChannels: 3, spatial: true, excitation: "hardSigmoid" }),
    createAttention("sge", { groups: 4, epsilon: 1e-4 }),
  ];
  for (const block of blocks) h = block!.apply(h);
  h = tf.layers.batchNormalization({}).apply(h);
  const out = tf.layers
    .dense({ units: 2 })
    .apply(tf.layers.flatten({}).apply(h)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  // Move every weight off its initial value (SGE's gamma starts at 0).
  model.setWeights(
    model.getWeights().map((w, i) => tf.add(w, tf.randomUniform(w.shape, -0.5, 0.5, "float32", i))),
  );
  return model;
}

describe("saveModel / loadModel (Node file IOHandler)", () => {
  it("round-trips a model with SE and SGE layers: same config, weights and predictions", async () => {
    const model = attentionModel();
    const dir = path.join(tmp, "m1");
    const result = await saveModel(model, dir);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(
      fs.statSync(path.join(dir, "weights.bin")).size,
    );

    const loaded = await loadModel(dir);
    const classes = loaded.layers.map((l) => l.getClassName());
    expect(classes.filter((c) => c === "SqueezeExcite")).toHaveLength(3);
    expect(classes.filter((c) => c === "SpatialGroupEnhance")).toHaveLength(1);
    expect(loaded.layers.map((l) => l.getConfig())).toEqual(model.layers.map((l) => l.getConfig()));
    const a = model.getWeights();
    const b = loaded.getWeights();
    expect(b.map((w) => w.shape)).toEqual(a.map((w) => w.shape));
    a.forEach((w, i) => {
      expect(Array.from(b[i]!.dataSync())).toEqual(Array.from(w.dataSync()));
    });
    const x = tf.randomNormal([3, 5, 5, 3], 0, 1, "float32", 1);
    const p1 = (model.predict(x) as tf.Tensor).dataSync();
    const p2 = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(p2)).toEqual(Array.from(p1));
    expect(loaded.layers.find((l) => l instanceof SqueezeExcite)).toBeDefined();
    expect(loaded.layers.find((l) => l instanceof SpatialGroupEnhance)).toBeDefined();
  });

  it("overwrites an existing save in place and leaves no temporary files", async () => {
    const dir = path.join(tmp, "m2");
    await saveModel(attentionModel(), dir);
    const second = attentionModel();
    await saveModel(second, dir);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);
    const loaded = await loadModel(dir);
    expect(Array.from(loaded.getWeights()[0]!.dataSync())).toEqual(
      Array.from(second.getWeights()[0]!.dataSync()),
    );
  });

  it("detects a weights file that does not belong to model.json (interrupted save)", async () => {
    const d1 = path.join(tmp, "m3");
    const d2 = path.join(tmp, "m4");
    await saveModel(attentionModel(), d1);
    await saveModel(attentionModel(), d2);
    fs.copyFileSync(path.join(d2, "weights.bin"), path.join(d1, "weights.bin"));
    await expect(loadModel(d1)).rejects.toThrow(ModelFileError);
    await expect(loadModel(d1)).rejects.toThrow(
      /not the weights file .* an interrupted or mixed save/,
    );
  });

  it("names what is missing or malformed", async () => {
    await expect(loadModel(path.join(tmp, "absent"))).rejects.toThrow(/model\.json" is missing/);
    const d = path.join(tmp, "m5");
    await saveModel(attentionModel(), d);
    fs.rmSync(path.join(d, "weights.bin"));
    await expect(loadModel(d)).rejects.toThrow(/weights\.bin" is missing/);
    fs.writeFileSync(path.join(d, "model.json"), "{ not json");
    await expect(loadModel(d)).rejects.toThrow(/is not valid JSON/);
    fs.writeFileSync(path.join(d, "model.json"), "{}");
    await expect(loadModel(d)).rejects.toThrow(/lacks modelTopology or weightsManifest/);
  });

  it("keeps the training config and optimizer state when asked (includeOptimizer)", async () => {
    const model = attentionModel();
    model.compile({ optimizer: tf.train.adam(0.01), loss: "meanSquaredError" });
    const xs = tf.randomNormal([4, 5, 5, 3], 0, 1, "float32", 2);
    const ys = tf.randomNormal([4, 2], 0, 1, "float32", 3);
    await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
    const d = path.join(tmp, "m6");
    await saveModel(model, d, { includeOptimizer: true });
    const json = JSON.parse(fs.readFileSync(path.join(d, "model.json"), "utf8"));
    expect(json.trainingConfig.loss).toBe("mean_squared_error");
    expect(json.weightsManifest[0].paths).toEqual(["./weights.bin"]);
    const loaded = await loadModel(d);
    expect(loaded.layers.length).toBe(model.layers.length);
    expect(loaded.optimizer).toBeDefined();
    const a = await model.optimizer.getWeights();
    const b = await loaded.optimizer.getWeights();
    expect(b.length).toBe(a.length);
    expect(Array.from(b[b.length - 1]!.tensor.dataSync())).toEqual(
      Array.from(a[a.length - 1]!.tensor.dataSync()),
    );
  });
});

/** Writes `model` as tfjs's own file handlers do: model.json without our checksum fields. */
async function saveAsPlainTfjs(model: tf.LayersModel, dir: string, bin = "weights.bin") {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      fs.mkdirSync(dir, { recursive: true });
      const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
      fs.writeFileSync(path.join(dir, bin), data);
      fs.writeFileSync(
        path.join(dir, "model.json"),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          format: "layers-model",
          weightsManifest: [{ paths: [`./${bin}`], weights: artifacts.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

describe("loadModel on model.json written elsewhere (issue 14 item 9)", () => {
  it("loads a model.json without checksum fields (another tfjs handler), any bin name", async () => {
    const model = attentionModel();
    const dir = path.join(tmp, "plain");
    await saveAsPlainTfjs(model, dir);
    await saveAsPlainTfjs(model, path.join(tmp, "plain-shard"), "group1-shard1of1.bin");
    expect((await loadModel(path.join(tmp, "plain-shard"))).layers.length).toBe(
      model.layers.length,
    );
    const loaded = await loadModel(dir);
    expect(Array.from(loaded.getWeights()[0]!.dataSync())).toEqual(
      Array.from(model.getWeights()[0]!.dataSync()),
    );
  });

  it("names the file when a layer class is unknown or a weight has the wrong shape", async () => {
    const dir = path.join(tmp, "bad-class");
    await saveModel(attentionModel(), dir);
    const file = path.join(dir, "model.json");
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, text.replace('"SqueezeExcite"', '"NoSuchLayer"'));
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect(String(err)).toContain(file);
    expect(String(err)).toContain("Unknown layer: NoSuchLayer (neither a tfjs layer");

    const dir2 = path.join(tmp, "bad-shape");
    await saveModel(attentionModel(), dir2);
    const file2 = path.join(dir2, "model.json");
    const json = JSON.parse(fs.readFileSync(file2, "utf8"));
    // The first conv's filters changed from 8 to 4: its saved kernel no longer fits.
    const conv = (json.modelTopology.model_config ?? json.modelTopology).config.layers.find(
      (l: { class_name: string }) => l.class_name === "Conv2D",
    );
    conv.config.filters = 4;
    fs.writeFileSync(file2, JSON.stringify(json));
    const err2 = await loadModel(dir2).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ModelFileError);
    expect(String(err2)).toContain(file2);
    expect(String(err2)).toContain("Shape mismatch: [3,3,3,4] vs. [3,3,3,8]");
  });
});
