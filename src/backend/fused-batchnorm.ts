/**
 * Training-mode batch normalisation over every axis but the last, as one op with its own
 * gradient: oneDNN's forward-training and backward primitives when the onednn backend is
 * active, the same formulas in tf ops elsewhere. Returns the batch mean and biased variance
 * too, for the layer's moving statistics (they carry no gradient).
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { activeOnednnBackend } from "./onednn.js";
import type { NativeBackend } from "./onednn-kernels/index.js";
import { alloc } from "./onednn-kernels/util.js";

/** What fusedBatchNorm returns. */
export interface FusedBatchNormResult {
  /** gamma * (x - mean) / sqrt(variance + epsilon) + beta, shaped like x (differentiable). */
  y: tf.Tensor;
  /** Batch mean per channel (no gradient). */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel, as tf.moments gives it (no gradient). */
  variance: tf.Tensor1D;
}

const stats = { nativeForward: 0, nativeBackward: 0, opsForward: 0, opsBackward: 0 };

/** How many fusedBatchNorm passes ran natively and how many in tf ops (for tests and profiles). */
export function fusedBatchNormStats(): Readonly<typeof stats> {
  return { ...stats };
}

/** The float32 array behind a tensor on the native backend, or undefined if it is elsewhere. */
function nativeValues(backend: NativeBackend, t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== "float32" || !backend.data.has(t.dataId)) return undefined;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : undefined;
}

function validate(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): number {
  if (!(x instanceof tf.Tensor) || x.rank < 2) {
    throw new ConfigError(
      `fusedBatchNorm: x must be a tensor of rank >= 2; got shape ${quote(x?.shape)}`,
    );
  }
  const c = x.shape[x.rank - 1];
  for (const [name, t] of [
    ["gamma", gamma],
    ["beta", beta],
  ] as const) {
    if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== c) {
      throw new ConfigError(
        `fusedBatchNorm: ${name} must have shape [${c}]; got ${quote(t?.shape)}`,
      );
    }
  }
  if (x.dtype !== "float32")
    throw new ConfigError(`fusedBatchNorm: x must be float32; got ${quote(x.dtype)}`);
  if (!(Number.isFinite(epsilon) && epsilon > 0)) {
    throw new ConfigError(
      `fusedBatchNorm: epsilon must be a positive number; got ${quote(epsilon)}`,
    );
  }
  return c;
}

/** dx, dgamma, dbeta in tf ops (the fallback of the native backward). */
function backwardOps(
  dy: tf.Tensor,
  x: tf.Tensor,
  gamma: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  epsilon: number,
): tf.Tensor[] {
  return tf.tidy(() => {
    const axes = [...Array(x.rank - 1).keys()];
    const n = x.size / x.shape[x.rank - 1];
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(tf.sub(x, mean), rstd);
    const dbeta = tf.sum(dy, axes);
    const dgamma = tf.sum(tf.mul(dy, xhat), axes);
    // dx = gamma * rstd / n * (n * dy - dbeta - xhat * dgamma)
    const inner = tf.sub(tf.sub(tf.mul(dy, n), dbeta), tf.mul(xhat, dgamma));
    const dx = tf.mul(inner, tf.div(tf.mul(gamma, rstd), n));
    return [dx, dgamma, dbeta];
  });
}

/**
 * Batch-norm training step: normalises x with its own batch statistics over all axes but the
 * last. `gamma` and `beta` have shape [C]. Differentiable in x, gamma and beta.
 */
export function fusedBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon = 1e-3,
): FusedBatchNormResult {
  const c = validate(x, gamma, beta, epsilon);
  const rows = x.size / c;
  const backend = activeOnednnBackend();
  const xv = backend && nativeValues(backend, x);
  const gv = backend && nativeValues(backend, gamma);
  const bv = backend && nativeValues(backend, beta);

  let mean: tf.Tensor1D;
  let variance: tf.Tensor1D;
  let yValues: Float32Array | undefined;
  if (backend && xv && gv && bv) {
    yValues = alloc(x.size);
    const m = new Float32Array(c);
    const v = new Float32Array(c);
    backend.addon.batchNormForward(xv, gv, bv, yValues, m, v, [rows, c, x.shape[0]], epsilon);
    mean = tf.tensor1d(m);
    variance = tf.tensor1d(v);
    stats.nativeForward++;
  } else {
    stats.opsForward++;
    const axes = [...Array(x.rank - 1).keys()];
    const mo = tf.tidy(() => {
      const r = tf.moments(x, axes);
      return [r.mean, r.variance];
    });
    mean = mo[0] as tf.Tensor1D;
    variance = mo[1] as tf.Tensor1D;
  }

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, gIn, bIn] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const value = yValues
      ? tf.tensor(yValues, xIn.shape)
      : tf.batchNorm(xIn, mean, variance, bIn, gIn as tf.Tensor1D, epsilon);
    save([xIn, gIn, mean, variance]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sg, sm, sv] = saved;
      const nb = activeOnednnBackend();
      const vals = nb && [dy, sx, sg, sm, sv].map((t) => nativeValues(nb, t));
      if (nb && vals?.every((v) => v !== undefined)) {
        const [dyv, sxv, sgv, smv, svv] = vals as Float32Array[];
        const dx = alloc(sx.size);
        const dg = new Float32Array(c);
        const db = new Float32Array(c);
        nb.addon.batchNormBackward(
          sxv,
          dyv,
          sgv,
          smv,
          svv,
          dx,
          dg,
          db,
          [rows, c, x.shape[0]],
          epsilon,
        );
        stats.nativeBackward++;
        return [tf.tensor(dx, sx.shape), tf.tensor1d(dg), tf.tensor1d(db)];
      }
      stats.opsBackward++;
      return backwardOps(dy, sx, sg, sm, sv, epsilon);
    };
    return { value, gradFunc };
  });
  const y = op(x, gamma, beta);
  return { y, mean, variance };
}
