/**
 * Weight initialisation of the zoo, in one place. Convolutions: He-uniform over fan-out,
 * U(±sqrt(6 / fan_out)), which has the variance of torchvision's kaiming_normal(fan_out) and is
 * drawn ~9× faster in pure JS (tfjs's truncated normal takes ~1 s per 10M values here, its
 * uniform ~0.12 s; ResNet-152 has 60M). Dense layers: Glorot-uniform (tfjs default). Counting
 * parameters and multiply-adds needs only the shapes, and drawing 60M truncated normals takes
 * seconds in pure JS, so `withInitMode("zeros", build)` builds with zero kernels instead
 * (~18× faster); countComplexity uses it. Builds are synchronous, so the scoped mode cannot
 * leak into another build.
 */
import * as tf from "@tensorflow/tfjs";

/** How kernels are initialised: "random" (training) or "zeros" (shape-only builds for counting). */
export type InitMode = "random" | "zeros";

/** A tfjs initializer. */
type Initializer = ReturnType<typeof tf.initializers.zeros>;

let mode: InitMode = "random";

/** Runs `fn` (a synchronous model build) with kernels initialised per `m`, restoring the previous mode. */
export function withInitMode<T>(m: InitMode, fn: () => T): T {
  const previous = mode;
  mode = m;
  try {
    return fn();
  } finally {
    mode = previous;
  }
}

/** The current mode (read by GroupedConv2D's builders). */
export function initMode(): InitMode {
  return mode;
}

/** Convolution kernels: He-uniform over fan-out (the variance of torchvision's ResNet init), or zeros. */
export function convInitializer(): Initializer {
  return mode === "zeros"
    ? tf.initializers.zeros()
    : tf.initializers.varianceScaling({ scale: 2, mode: "fanOut", distribution: "uniform" });
}

/** Dense kernels: Glorot uniform (tfjs default), or zeros. */
export function denseInitializer(): Initializer {
  return mode === "zeros" ? tf.initializers.zeros() : tf.initializers.glorotUniform({});
}
