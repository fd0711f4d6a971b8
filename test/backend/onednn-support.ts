/** Shared helpers for the onednn tests: run the same computation on cpu and onednn. */
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
import { nativeBuildStatus, registerOnednnBackend } from "../../src/backend/onednn.js";

/** Whether the addon is built here; when not, the suites skip and say why. */
export const NATIVE = nativeBuildStatus();
if (!NATIVE.built) {
  process.stderr.write(`[onednn tests] skipped: ${NATIVE.reason}\n`);
}

/** Registers the backend (2 threads) and silences the Node banner. */
export async function setupOnednn(): Promise<void> {
  await registerOnednnBackend(2);
  for (const name of ["cpu", "onednn"]) {
    await tf.setBackend(name);
    const b = tf.backend() as unknown as { firstUse?: boolean };
    b.firstUse = false;
  }
}

let seed = 1;
/** Deterministic pseudo-random floats in [-1, 1). */
export function randomArray(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = (seed / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** A random input spec: shape plus fixed data, so both backends see the same numbers. */
export interface Input {
  /** Tensor shape. */
  shape: number[];
  /** Its values. */
  data: Float32Array;
}

/** A random input of the given shape. */
export function input(shape: number[]): Input {
  return { shape, data: randomArray(shape.reduce((a, b) => a * b, 1)) };
}

/**
 * Runs `fn` on `backend` with fresh tensors made from `inputs`; returns every output's
 * values (read before disposal, outside tidy) and shape.
 */
export async function runOn(
  backend: string,
  inputs: Input[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; values: Float32Array }[]> {
  await tf.setBackend(backend);
  const xs = inputs.map((i) => tf.tensor(i.data.slice(), i.shape));
  let outs: tf.Tensor[] = [];
  try {
    const r = fn(...xs);
    outs = Array.isArray(r) ? r : [r];
    return outs.map((o) => ({ shape: o.shape, values: o.dataSync().slice() as Float32Array }));
  } finally {
    tf.dispose(xs);
    tf.dispose(outs);
  }
}

/** Largest |a-b| relative to max(1, max|b|); NaN in both counts as equal, in one as Infinity. */
export function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 1;
  for (let i = 0; i < a.length; i++) {
    const na = Number.isNaN(a[i]);
    const nb = Number.isNaN(b[i]);
    if (na || nb) {
      if (na !== nb) return Number.POSITIVE_INFINITY;
      continue;
    }
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/** Runs `fn` on cpu and onednn and expects equal shapes and values within `tol`. */
export async function expectSameOnBoth(
  inputs: Input[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  tol = 2e-5,
): Promise<void> {
  const ref = await runOn("cpu", inputs, fn);
  const got = await runOn("onednn", inputs, fn);
  expect(got.length).toBe(ref.length);
  for (let k = 0; k < ref.length; k++) {
    expect(got[k].shape).toEqual(ref[k].shape);
    const d = relDiff(got[k].values, ref[k].values);
    expect(d, `output ${k} differs by ${d}`).toBeLessThan(tol);
  }
}

/**
 * Value and gradients of sum(f(xs) * r) for a fixed random r: checks the backward kernels
 * with a non-uniform upstream gradient.
 */
export function withGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  outShape: number[],
): (...xs: tf.Tensor[]) => tf.Tensor[] {
  const r = randomArray(outShape.reduce((a, b) => a * b, 1));
  return (...xs) => {
    const rt = tf.tensor(r, outShape);
    const g = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), rt)));
    const grads = g(xs);
    const y = f(...xs);
    rt.dispose();
    return [y, ...grads];
  };
}
