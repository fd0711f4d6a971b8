import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { ConfigError } from "../../src/errors.js";
import { SpatialGroupEnhance, type SpatialGroupEnhanceArgs } from "../../src/layers/index.js";
import { layerGrads, loadFixtures, maxAbsDiff, thrown } from "./support.js";

const TOL = 1e-5;
const cases = loadFixtures("sge.json");
let worst = 0;

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

afterAll(() => {
  console.log(`SGE: max abs err vs PyTorch ${worst.toExponential(2)}`);
});

describe("SpatialGroupEnhance vs PyTorch (PytorchInsight resnet_sge.py)", () => {
  for (const c of cases) {
    it(`${c.name}: output, input and gamma/beta gradients within ${TOL}`, () => {
      const layer = new SpatialGroupEnhance(c.args as SpatialGroupEnhanceArgs);
      tf.tidy(() => {
        layer.apply(tf.zeros(c.shape));
      });
      layer.setWeights([
        tf.tensor(c.weights.gamma!.values, c.weights.gamma!.shape),
        tf.tensor(c.weights.beta!.values, c.weights.beta!.shape),
      ]);
      const x = tf.tensor4d(c.x, c.shape);
      const dy = tf.tensor4d(c.dy, c.shape);
      const { y, dx, dw } = layerGrads(layer, x, dy);
      const errs = [
        maxAbsDiff(y, c.y),
        maxAbsDiff(dx, c.dx),
        maxAbsDiff(dw[0]!, c.weightGrads.gamma!.values),
        maxAbsDiff(dw[1]!, c.weightGrads.beta!.values),
      ];
      worst = Math.max(worst, ...errs);
      expect(errs[0], "output").toBeLessThanOrEqual(TOL);
      expect(errs[1], "input gradient").toBeLessThanOrEqual(TOL);
      expect(errs[2], "gamma gradient").toBeLessThanOrEqual(TOL);
      expect(errs[3], "beta gradient").toBeLessThanOrEqual(TOL);
      tf.dispose([x, dy]);
      layer.dispose();
    });
  }
});

describe("SpatialGroupEnhance structure", () => {
  it("has gamma [G] = 0 then beta [G] = 1, defaults groups 64 and epsilon 1e-5", () => {
    const layer = new SpatialGroupEnhance();
    expect(layer.groups).toBe(64);
    expect(layer.epsilon).toBe(1e-5);
    layer.build([null, 4, 4, 128]);
    const [gamma, beta] = layer.getWeights();
    expect(layer.weights.map((w) => w.originalName.split("/").pop())).toEqual(["gamma", "beta"]);
    expect(gamma!.shape).toEqual([64]);
    expect(Array.from(gamma!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(beta!.dataSync()).every((v) => v === 1)).toBe(true);
  });

  it("at init (gamma 0) gates every position with sigmoid(1)", () => {
    const layer = new SpatialGroupEnhance({ groups: 2 });
    const x = tf.randomNormal([1, 3, 3, 4], 0, 1, "float32", 3) as tf.Tensor4D;
    tf.dispose(layer.apply(x) as tf.Tensor);
    const gate = layer.computeGate(x);
    expect(gate.shape).toEqual([1, 3, 3, 2]);
    expect(maxAbsDiff(gate.dataSync(), new Array(18).fill(1 / (1 + Math.exp(-1))))).toBeLessThan(
      1e-6,
    );
    tf.dispose([x, gate]);
    layer.dispose();
  });

  it("call multiplies each group's consecutive channels by its [N,H,W,G] gate", () => {
    const layer = new SpatialGroupEnhance({ groups: 2 });
    const x = tf.randomNormal([2, 3, 4, 6], 0, 1, "float32", 5) as tf.Tensor4D;
    tf.dispose(layer.apply(x) as tf.Tensor);
    layer.setWeights([tf.tensor1d([0.7, -1.3]), tf.tensor1d([0.2, 0.5])]);
    const y = layer.apply(x) as tf.Tensor;
    const gate = layer.computeGate(x);
    // channels 0-2 belong to group 0, channels 3-5 to group 1
    const g = tf.gather(gate, [0, 0, 0, 1, 1, 1], 3);
    expect(maxAbsDiff(y.dataSync(), tf.mul(x, g).dataSync())).toBe(0);
    tf.dispose([x, y, gate, g]);
    layer.dispose();
  });

  it("leaks no tensors in forward or backward", () => {
    const layer = new SpatialGroupEnhance({ groups: 4 });
    const x = tf.randomNormal([2, 3, 3, 8]) as tf.Tensor4D;
    const dy = tf.onesLike(x);
    layerGrads(layer, x, dy);
    const before = tf.memory().numTensors;
    layerGrads(layer, x, dy);
    tf.dispose(layer.apply(x) as tf.Tensor);
    tf.dispose(layer.computeGate(x));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
    layer.dispose();
  });

  it("runs in <= 19 kernels forward and <= 110 with backward (cpu backend, measured)", async () => {
    const layer = new SpatialGroupEnhance({ groups: 4 });
    const x = tf.randomNormal([2, 8, 8, 16]) as tf.Tensor4D;
    tf.dispose(layer.apply(x) as tf.Tensor);
    const info = await tf.profile(() => layer.apply(x) as tf.Tensor);
    const names = info.kernels.map((k) => k.name);
    expect(names.length, names.join(",")).toBeLessThanOrEqual(19);
    tf.dispose(info.result as tf.Tensor);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(layer.apply(v) as tf.Tensor));
    const trained = await tf.profile(() => grad(x));
    expect(trained.kernels.length).toBeLessThanOrEqual(110);
    tf.dispose(trained.result as tf.Tensor);
    x.dispose();
    layer.dispose();
  });
});

describe("SpatialGroupEnhance errors", () => {
  it("rejects groups that do not divide the channels at build time, listing the allowed", () => {
    const layer = new SpatialGroupEnhance({ groups: 64 });
    const e = thrown(() => layer.apply(tf.input({ shape: [8, 8, 48] })));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/groups 64 does not divide the 48 input channels/);
    expect(e.message).toMatch(/allowed groups for 48 channels: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48/);
  });

  it("rejects non-4D inputs and a single spatial position at build time", () => {
    const e = thrown(() => new SpatialGroupEnhance({ groups: 2 }).apply(tf.input({ shape: [8] })));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/4-D NHWC input.*got rank 2, shape \[\?, 8\]/);
    const e2 = thrown(() => new SpatialGroupEnhance({ groups: 2 }).build([null, 1, 1, 8]));
    expect(e2.message).toMatch(/at least 2 spatial positions.*\[\?, 1, 1, 8\]/);
  });

  it("rejects bad groups / epsilon values and unknown keys in the constructor", () => {
    const ctor = (args: unknown) =>
      thrown(() => new SpatialGroupEnhance(args as SpatialGroupEnhanceArgs));
    for (const groups of [0, -2, 2.5, "8"]) {
      const e = ctor({ groups });
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toMatch(/groups must be an integer >= 1/);
    }
    for (const epsilon of [-1e-5, Number.NaN, "0"]) {
      expect(ctor({ epsilon }).message).toMatch(/epsilon must be a finite number >= 0/);
    }
    expect(ctor({ group: 8 }).message).toMatch(/no argument "group"; allowed: groups, epsilon/);
  });
});

describe("SpatialGroupEnhance config", () => {
  it("round-trips getConfig through the tfjs registry", () => {
    const layer = new SpatialGroupEnhance({ groups: 8, epsilon: 1e-3, name: "sge_x" });
    const config = layer.getConfig();
    const [cls, fromConfig] =
      tf.serialization.SerializationMap.getMap().classNameMap.SpatialGroupEnhance!;
    const copy = fromConfig(cls, config) as SpatialGroupEnhance;
    expect(copy).toBeInstanceOf(SpatialGroupEnhance);
    expect(copy.getConfig()).toEqual(config);
    expect(config).toMatchObject({ groups: 8, epsilon: 1e-3, name: "sge_x" });
  });
});
