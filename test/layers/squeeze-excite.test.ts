import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { ConfigError } from "../../src/errors.js";
import { SqueezeExcite, type SqueezeExciteArgs } from "../../src/layers/index.js";
import { layerGrads, loadFixtures, maxAbsDiff, thrown } from "./support.js";

const TOL = 1e-5;
const cases = loadFixtures("se.json");
const worst = new Map<string, number>();

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

afterAll(() => {
  // The per-variant error table (the report quotes it); visible with --reporter=verbose.
  console.log(
    [...worst].map(([k, v]) => `SE ${k}: max abs err vs PyTorch ${v.toExponential(2)}`).join("\n"),
  );
});

/** A built SqueezeExcite holding the fixture's weights. */
function fixtureLayer(c: (typeof cases)[number]): SqueezeExcite {
  const layer = new SqueezeExcite(c.args as SqueezeExciteArgs);
  tf.tidy(() => {
    layer.apply(tf.zeros(c.shape));
  });
  const order = ["reduceKernel", "reduceBias", "expandKernel", "expandBias"].filter(
    (k) => c.weights[k],
  );
  layer.setWeights(order.map((k) => tf.tensor(c.weights[k]!.values, c.weights[k]!.shape)));
  return layer;
}

describe("SqueezeExcite vs PyTorch (seed SELayer and its variants)", () => {
  it("covers every squeeze, excitation, bias and NoSqueeze option", () => {
    const seen = (key: string) => new Set(cases.map((c) => String(c.args[key])));
    expect([...seen("squeeze")].sort()).toEqual(["avg", "avgmax", "max"]);
    expect([...seen("excitation")].sort()).toEqual(["hardSigmoid", "relu", "sigmoid", "tanh"]);
    expect(seen("useBias").size).toBe(2);
    expect(seen("spatial").size).toBe(2);
  });

  for (const c of cases) {
    it(`${c.name}: output, input and weight gradients within ${TOL}`, () => {
      const layer = fixtureLayer(c);
      const x = tf.tensor4d(c.x, c.shape);
      const dy = tf.tensor4d(c.dy, c.shape);
      const { y, dx, dw } = layerGrads(layer, x, dy);
      const order = ["reduceKernel", "reduceBias", "expandKernel", "expandBias"].filter(
        (k) => c.weightGrads[k],
      );
      const errs = [maxAbsDiff(y, c.y), maxAbsDiff(dx, c.dx)];
      order.forEach((k, i) => {
        errs.push(maxAbsDiff(dw[i]!, c.weightGrads[k]!.values));
      });
      const variant = `${c.args.spatial ? "spatial" : c.args.squeeze}/${c.args.excitation}${c.args.useBias ? "+bias" : ""}`;
      worst.set(variant, Math.max(worst.get(variant) ?? 0, ...errs));
      expect(errs[0], "output").toBeLessThanOrEqual(TOL);
      expect(errs[1], "input gradient").toBeLessThanOrEqual(TOL);
      order.forEach((k, i) => {
        expect(errs[i + 2], `gradient of ${k}`).toBeLessThanOrEqual(TOL);
      });
      tf.dispose([x, dy]);
      layer.dispose();
    });
  }
});

describe("SqueezeExcite structure", () => {
  it("has the documented weights, shapes and order; hidden = max(1, floor(C/r))", () => {
    const shapes = (args: SqueezeExciteArgs, c: number) => {
      const layer = new SqueezeExcite(args);
      layer.build([null, 4, 4, c]);
      const out = layer.getWeights().map((w) => w.shape);
      const names = layer.weights.map((w) => w.originalName.split("/").pop());
      return { out, names };
    };
    expect(shapes({}, 64).out).toEqual([
      [64, 4],
      [4, 64],
    ]);
    expect(shapes({ reduction: 16 }, 8).out).toEqual([
      [8, 1],
      [1, 8],
    ]);
    expect(shapes({ reduction: 5 }, 12).out).toEqual([
      [12, 2],
      [2, 12],
    ]);
    expect(shapes({ hiddenChannels: 3, useBias: true }, 10)).toEqual({
      out: [[10, 3], [3], [3, 10], [10]],
      names: ["reduce_kernel", "reduce_bias", "expand_kernel", "expand_bias"],
    });
  });

  it("initialises like torch.nn.Linear: U(±1/sqrt(fan_in)) for kernels and biases", () => {
    const layer = new SqueezeExcite({ reduction: 4, useBias: true });
    layer.build([null, 2, 2, 256]);
    const [k1, b1, k2, b2] = layer.getWeights().map((w) => w.dataSync());
    const check = (v: ArrayLike<number>, fanIn: number) => {
      const limit = 1 / Math.sqrt(fanIn);
      const abs = Array.from(v, Math.abs);
      expect(Math.max(...abs)).toBeLessThanOrEqual(limit);
      // uniform: mean |v| is limit / 2; the sample of >= 64 values lands within 25 %.
      const meanAbs = abs.reduce((a, b) => a + b, 0) / abs.length;
      expect(meanAbs / (limit / 2)).toBeGreaterThan(0.75);
      expect(meanAbs / (limit / 2)).toBeLessThan(1.25);
    };
    check(k1!, 256);
    check(b1!, 256);
    check(k2!, 64);
    check(b2!, 64);
  });

  it("gates per channel with [N,1,1,C] (per position with spatial) and call = x * gate", () => {
    const x = tf.randomNormal([2, 3, 5, 8], 0, 1, "float32", 7) as tf.Tensor4D;
    for (const args of [{ reduction: 2 }, { reduction: 2, spatial: true }]) {
      const layer = new SqueezeExcite(args);
      const y = layer.apply(x) as tf.Tensor;
      const gate = layer.computeGate(x);
      expect(gate.shape).toEqual(args.spatial ? [2, 3, 5, 8] : [2, 1, 1, 8]);
      expect(maxAbsDiff(y.dataSync(), tf.mul(x, gate).dataSync())).toBe(0);
      tf.dispose([y, gate]);
      layer.dispose();
    }
    x.dispose();
  });

  it("leaks no tensors in forward or backward", () => {
    const layer = new SqueezeExcite({ reduction: 2, squeeze: "avgmax", useBias: true });
    const x = tf.randomNormal([2, 3, 3, 8]) as tf.Tensor4D;
    const dy = tf.onesLike(x);
    layerGrads(layer, x, dy); // builds the weights
    const before = tf.memory().numTensors;
    layerGrads(layer, x, dy);
    tf.dispose(layer.apply(x) as tf.Tensor);
    tf.dispose(layer.computeGate(x));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
    layer.dispose();
  });
});

describe("SqueezeExcite kernel count (a regression guard: the benchmark times these blocks)", () => {
  // [args, forward kernels, forward+backward kernels], measured on the cpu backend (tfjs 4.22):
  // e.g. avg = Mean, MatMul, Relu, MatMul, Sigmoid, Reshape, Multiply.
  const bounds: [SqueezeExciteArgs, number, number][] = [
    [{ reduction: 4 }, 7, 40],
    [{ reduction: 4, squeeze: "max" }, 7, 43],
    [{ reduction: 4, useBias: true }, 9, 48],
    [{ reduction: 4, squeeze: "avgmax" }, 12, 65],
    [{ reduction: 4, spatial: true }, 7, 36],
    [{ reduction: 4, excitation: "hardSigmoid" }, 9, 54],
  ];
  for (const [args, fwd, both] of bounds) {
    it(`${JSON.stringify(args)}: <= ${fwd} kernels forward, <= ${both} with backward, one full-size multiply`, async () => {
      const layer = new SqueezeExcite(args);
      const x = tf.randomNormal([2, 8, 8, 16]) as tf.Tensor4D;
      tf.dispose(layer.apply(x) as tf.Tensor);
      // tf.profile returns the engine's one profile object: read each before the next call.
      const info = await tf.profile(() => layer.apply(x) as tf.Tensor);
      const names = info.kernels.map((k) => k.name);
      expect(names.length, names.join(",")).toBeLessThanOrEqual(fwd);
      // Only the scale multiply writes all N·H·W·C values.
      const fullSize = info.kernels.filter(
        (k) => k.name === "Multiply" && k.outputShapes[0]!.reduce((a, b) => a * b, 1) === x.size,
      );
      expect(fullSize.length).toBe(1);
      tf.dispose(info.result as tf.Tensor);
      const grad = tf.grad((v: tf.Tensor) => tf.sum(layer.apply(v) as tf.Tensor));
      const trained = await tf.profile(() => grad(x));
      expect(trained.kernels.length).toBeLessThanOrEqual(both);
      tf.dispose(trained.result as tf.Tensor);
      x.dispose();
      layer.dispose();
    });
  }
});

describe("SqueezeExcite errors", () => {
  const ctor = (args: unknown) => thrown(() => new SqueezeExcite(args as SqueezeExciteArgs));

  it("rejects unknown squeeze and excitation names, naming the value and the allowed ones", () => {
    const e1 = ctor({ squeeze: "median" });
    expect(e1).toBeInstanceOf(ConfigError);
    expect(e1.message).toMatch(/"median"/);
    expect(e1.message).toMatch(/"avg", "max", "avgmax"/);
    const e2 = ctor({ excitation: "softmax" });
    expect(e2).toBeInstanceOf(ConfigError);
    expect(e2.message).toMatch(/"softmax"/);
    expect(e2.message).toMatch(/"sigmoid", "tanh", "relu", "hardSigmoid"/);
  });

  it("rejects reductions and hidden widths that leave no hidden channel or are not numbers", () => {
    for (const reduction of [0, -4, Number.NaN, Number.POSITIVE_INFINITY, "16"]) {
      const e = ctor({ reduction });
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toMatch(/reduction must be a positive finite number/);
    }
    for (const hiddenChannels of [0, -1, 1.5, "4"]) {
      const e = ctor({ hiddenChannels });
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toMatch(/hiddenChannels must be an integer >= 1/);
    }
    expect(ctor({ reduction: 4, hiddenChannels: 4 }).message).toMatch(/not both/);
  });

  it("rejects unknown keys, wrong types and squeeze with NoSqueeze", () => {
    expect(ctor({ ratio: 16 }).message).toMatch(/no argument "ratio"; allowed: reduction/);
    expect(ctor({ useBias: "yes" }).message).toMatch(/useBias must be true or false; got "yes"/);
    expect(ctor({ spatial: true, squeeze: "max" }).message).toMatch(/squeeze must stay "avg"/);
  });

  it("rejects non-4D inputs and unknown channel counts at build time", () => {
    const layer = new SqueezeExcite({ reduction: 2 });
    const e = thrown(() => layer.apply(tf.input({ shape: [8, 8] })));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/4-D NHWC input.*got rank 3, shape \[\?, 8, 8\]/);
    const e2 = thrown(() => new SqueezeExcite().apply(tf.input({ shape: [4, 4, null] })));
    expect(e2).toBeInstanceOf(ConfigError);
    expect(e2.message).toMatch(/known channel count; got shape \[\?, 4, 4, \?\]/);
    const e3 = thrown(() =>
      new SqueezeExcite().build([
        [null, 4, 4, 8],
        [null, 4, 4, 8],
      ]),
    );
    expect(e3.message).toMatch(/takes one input; got 2/);
  });
});

describe("SqueezeExcite config", () => {
  it("round-trips getConfig through fromConfig and the tfjs registry", () => {
    for (const args of [
      {},
      { reduction: 8, squeeze: "avgmax", excitation: "tanh", useBias: true, name: "se_a" },
      { hiddenChannels: 5, spatial: true, excitation: "hardSigmoid" },
    ] as SqueezeExciteArgs[]) {
      const layer = new SqueezeExcite(args);
      const config = layer.getConfig();
      const again = tf.serialization.SerializationMap.getMap().classNameMap.SqueezeExcite!;
      const copy = again[1](again[0], config) as SqueezeExcite;
      expect(copy).toBeInstanceOf(SqueezeExcite);
      expect(copy.getConfig()).toEqual(config);
      expect(copy.getClassName()).toBe("SqueezeExcite");
    }
  });
});
