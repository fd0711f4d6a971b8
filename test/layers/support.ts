/** Shared helpers for the attention-layer tests: PyTorch fixtures, a seeded PRNG, errors. */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/data/rng.js";

/** One stored tensor of a fixture. */
export interface FixtureTensor {
  /** Shape in senet-lab layout. */
  shape: number[];
  /** Row-major values. */
  values: number[];
}

/** One PyTorch reference case (see scripts/fixtures/gen_attention_fixtures.py). */
export interface FixtureCase {
  /** Case label. */
  name: string;
  /** Layer args (SqueezeExciteArgs or SpatialGroupEnhanceArgs). */
  args: Record<string, unknown>;
  /** Input shape NHWC. */
  shape: [number, number, number, number];
  /** Input values. */
  x: number[];
  /** Upstream gradient of the output. */
  dy: number[];
  /** Layer weights by role, in our layout. */
  weights: Record<string, FixtureTensor>;
  /** Expected output. */
  y: number[];
  /** Expected d<y, dy>/dx. */
  dx: number[];
  /** Expected d<y, dy>/dweight by role. */
  weightGrads: Record<string, FixtureTensor>;
  /** PyTorch float32 vs the float64 answer, for scale. */
  torch_f32_max_abs_err: number;
}

/** Reads test/fixtures/attention/<file>. */
export function loadFixtures(file: "se.json" | "sge.json"): FixtureCase[] {
  const p = path.join(import.meta.dirname, "..", "fixtures", "attention", file);
  return (JSON.parse(fs.readFileSync(p, "utf8")) as { cases: FixtureCase[] }).cases;
}

/** Max |a - b| over two equally long arrays (Infinity on length mismatch or NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

/** The library's seeded generator (src/data/rng.ts) as a function, so test data is the same on every run. */
export function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** n values uniform in [lo, hi) from `rand`. */
export function uniform(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/** Runs fn and returns the error it throws (fails the test if it does not throw). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error, none was thrown");
}

/**
 * y = layer(x), d<y, dy>/dx and d<y, dy>/dw for each trainable weight (getWeights order).
 */
export function layerGrads(
  layer: tf.layers.Layer,
  x: tf.Tensor4D,
  dy: tf.Tensor,
): { y: Float32Array; dx: Float32Array; dw: Float32Array[] } {
  const xv = tf.variable(x, true, `x_${Math.random().toString(36).slice(2)}`);
  try {
    const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const out = tf.tidy(() => {
      let y: tf.Tensor | undefined;
      const { grads } = tf.variableGrads(() => {
        y = tf.keep(layer.apply(xv) as tf.Tensor);
        return tf.sum(tf.mul(y, dy)) as tf.Scalar;
      }, [xv, ...vars]);
      return { y: y!, dx: grads[xv.name]!, dw: vars.map((v) => grads[v.name]!) };
    });
    const result = {
      y: out.y.dataSync() as Float32Array,
      dx: out.dx.dataSync() as Float32Array,
      dw: out.dw.map((g) => g.dataSync() as Float32Array),
    };
    tf.dispose([out.y, out.dx, ...out.dw]);
    return result;
  } finally {
    xv.dispose();
  }
}
