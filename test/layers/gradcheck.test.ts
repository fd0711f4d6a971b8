/**
 * Finite-difference gradient checks of every SE / SGE variant, for the input and every weight.
 * The cpu backend computes in float32, so the check is made meaningful by (1) differencing the
 * outputs element-wise and contracting with the upstream gradient in float64 (the roundoff of
 * a float32 sum never enters), (2) a central difference with step 3e-3 on inputs kept away from
 * the kinks of max pooling (distinct values), and (3) a tolerance of 1e-4 + 0.2% that a
 * gradient off by 2% fails (checked for each variant: the negative control).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import {
  SpatialGroupEnhance,
  type SpatialGroupEnhanceArgs,
  SqueezeExcite,
  type SqueezeExciteArgs,
} from "../../src/layers/index.js";
import { layerGrads, prng, uniform } from "./support.js";

const STEP = 3e-3;
const ATOL = 1e-4;
const RTOL = 2e-3;
const SHAPE: [number, number, number, number] = [2, 3, 3, 4];

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

/** Input with distinct values in every channel (>= 2/9 apart), so argmax never flips. */
function spreadInput(rand: () => number): Float32Array {
  const [n, h, w, c] = SHAPE;
  const x = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const order = Array.from({ length: h * w }, (_, i) => i).sort(() => rand() - 0.5);
      order.forEach((rank, pos) => {
        x[(b * h * w + pos) * c + ch] = -1 + (2 * rank) / (h * w) + 0.05 * rand();
      });
    }
  }
  return x;
}

/** max_i |fd_i - an_i| / (ATOL + RTOL |an_i|): <= 1 passes. */
function score(fd: ArrayLike<number>, an: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < fd.length; i++) {
    worst = Math.max(worst, Math.abs(fd[i]! - an[i]!) / (ATOL + RTOL * Math.abs(an[i]!)));
  }
  return worst;
}

/** d<layer(x), r>/dp by central differences, p = the input (-1) or weight index k. */
function finiteDiff(
  layer: tf.layers.Layer,
  x: Float32Array,
  r: Float32Array,
  which: number,
): Float64Array {
  const weights = layer.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  const target = which < 0 ? x : weights[which]!;
  const shapes = layer.getWeights().map((w) => w.shape);
  const forward = (): Float32Array => {
    if (which >= 0) layer.setWeights(weights.map((v, k) => tf.tensor(v, shapes[k])));
    const xt = tf.tensor4d(x, SHAPE);
    const y = layer.apply(xt) as tf.Tensor;
    const out = y.dataSync() as Float32Array;
    tf.dispose([xt, y]);
    return out;
  };
  const fd = new Float64Array(target.length);
  for (let i = 0; i < target.length; i++) {
    const orig = target[i]!;
    target[i] = orig + STEP;
    const up = forward();
    target[i] = orig - STEP;
    const down = forward();
    target[i] = orig;
    // The step actually taken in float32 (orig ± STEP rounds).
    const span = Math.fround(orig + STEP) - Math.fround(orig - STEP);
    let s = 0;
    for (let j = 0; j < up.length; j++) s += r[j]! * (up[j]! - down[j]!);
    fd[i] = s / span;
  }
  if (which >= 0) layer.setWeights(weights.map((v, k) => tf.tensor(v, shapes[k])));
  return fd;
}

type Variant = { name: string; make: () => tf.layers.Layer; spread?: boolean };

const se = (args: SqueezeExciteArgs, spread = false): Variant => ({
  name: `SE ${JSON.stringify(args)}`,
  make: () => new SqueezeExcite(args),
  spread,
});
const sge = (args: SpatialGroupEnhanceArgs, init = false): Variant => ({
  name: `SGE ${JSON.stringify(args)}${init ? " at init" : ""}`,
  make: () => Object.assign(new SpatialGroupEnhance(args), { keepInit: init }),
});

const VARIANTS: Variant[] = [
  se({ reduction: 2 }),
  se({ reduction: 2, squeeze: "max" }, true),
  se({ reduction: 2, squeeze: "avgmax", useBias: true }, true),
  se({ reduction: 2, excitation: "tanh" }),
  se({ reduction: 2, excitation: "relu", useBias: true }),
  se({ reduction: 2, excitation: "hardSigmoid", useBias: true }),
  se({ hiddenChannels: 3, squeeze: "max", excitation: "tanh" }, true),
  se({ reduction: 2, spatial: true, useBias: true }),
  se({ reduction: 1, spatial: true, excitation: "hardSigmoid" }),
  sge({ groups: 2 }),
  sge({ groups: 1 }),
  sge({ groups: 4 }),
  sge({ groups: 2 }, true),
];

describe("finite-difference gradient checks (input and every weight)", () => {
  VARIANTS.forEach((variant, v) => {
    it(variant.name, () => {
      const rand = prng(1000 + v);
      const layer = variant.make();
      const size = SHAPE.reduce((a, b) => a * b, 1);
      const x = variant.spread ? spreadInput(rand) : uniform(rand, size, -1.5, 1.5);
      const r = uniform(rand, size);
      const xt = tf.tensor4d(x, SHAPE);
      tf.dispose(layer.apply(xt) as tf.Tensor);
      if (!(layer as { keepInit?: boolean }).keepInit) {
        // Random weights large enough that every gate is away from 0.5 and gradients are O(1).
        layer.setWeights(
          layer.getWeights().map((w) => tf.tensor(uniform(rand, w.size, -1.5, 1.5), w.shape)),
        );
      }
      const rt = tf.tensor4d(r, SHAPE);
      const { dx, dw } = layerGrads(layer, xt, rt);
      const analytic = [dx, ...dw];
      analytic.forEach((an, k) => {
        const fd = finiteDiff(layer, x, r, k - 1);
        const what = k === 0 ? "input" : layer.weights[k - 1]!.originalName;
        expect(score(fd, an), `${what}: fd vs analytic`).toBeLessThanOrEqual(1);
        // Negative control: a gradient 1% off must fail this check.
        if (Math.max(...Array.from(an, Math.abs)) > 0.05) {
          expect(
            score(
              fd,
              an.map((a) => a * 1.01),
            ),
            `${what}: control`,
          ).toBeGreaterThan(1);
        }
      });
      tf.dispose([xt, rt]);
      layer.dispose();
    });
  });
});
