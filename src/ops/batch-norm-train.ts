/**
 * Training-mode batch normalisation over every axis but the last, as one op with its own
 * gradient: the BATCH_NORM_TRAIN kernel and its gradient kernel where the backend registers
 * them (onednn: oneDNN's forward-training and backward primitives), the same formulas in tf
 * ops elsewhere. Returns the batch mean and biased variance too, for the layer's moving
 * statistics (they carry no gradient).
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { hasKernel, runKernel } from "./dispatch.js";
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  type BatchNormTrainAttrs,
} from "./kernel-names.js";

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
  validate(x, gamma, beta, epsilon);
  if (hasKernel(BATCH_NORM_TRAIN) && gamma.dtype === "float32" && beta.dtype === "float32") {
    registerBatchNormGradient();
    const attrs: BatchNormTrainAttrs = { epsilon };
    const [y, mean, variance] = runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, attrs);
    stats.nativeForward++;
    return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  stats.opsForward++;
  const axes = [...Array(x.rank - 1).keys()];
  const [mean, variance] = tf.tidy(() => {
    const r = tf.moments(x, axes);
    return [r.mean as tf.Tensor1D, r.variance as tf.Tensor1D];
  });
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, gIn, bIn] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const value = tf.batchNorm(xIn!, mean!, variance!, bIn, gIn as tf.Tensor1D, epsilon);
    save([xIn!, gIn!, mean!, variance!]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sg, sm, sv] = saved;
      stats.opsBackward++;
      return backwardOps(dy, sx!, sg!, sm!, sv!, epsilon);
    };
    return { value, gradFunc };
  });
  return { y: op(x, gamma, beta), mean: mean!, variance: variance! };
}

let gradientRegistered = false;

/**
 * The gradient of BATCH_NORM_TRAIN (idempotent): its gradient kernel on the backend that ran
 * the forward, tf ops if that backend lacks it. Only y carries a gradient.
 */
export function registerBatchNormGradient(): void {
  if (gradientRegistered) return;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ["x", "gamma"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, mean, variance] = saved as tf.Tensor[];
      const epsilon = Number((attrs as unknown as BatchNormTrainAttrs).epsilon);
      // All three in one pass, now: tfjs calls each input's closure inside its own tidy,
      // which would dispose the other two if the first closure made them.
      let grads: tf.Tensor[];
      if (hasKernel(BATCH_NORM_TRAIN_GRAD)) {
        const g: BatchNormTrainAttrs = { epsilon };
        grads = runKernel(
          BATCH_NORM_TRAIN_GRAD,
          { dy, x: x!, gamma: gamma!, mean: mean!, variance: variance! },
          g,
        );
        stats.nativeBackward++;
      } else {
        grads = backwardOps(dy, x!, gamma!, mean!, variance!, epsilon);
        stats.opsBackward++;
      }
      const [dx, dgamma, dbeta] = grads;
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  gradientRegistered = true;
}
