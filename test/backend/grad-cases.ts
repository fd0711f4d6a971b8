/**
 * Shared cases for the op-built gradient kernels (wasm-kernels and cpu-kernels tests): seeded
 * inputs that are bit-identical on every backend, the convolution geometries the issue lists
 * (stride 1/2/3, SAME/VALID, 1×1, batch 1, odd and non-square sizes) and a comparison helper.
 */
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";

/** Deterministic values in [-1, 1) from a 32-bit LCG, so every backend sees the same input. */
export function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** One convolution geometry: input [n, h, w, c], filter k×k with `out` outputs (or multiplier). */
export interface ConvCase {
  n: number;
  h: number;
  w: number;
  c: number;
  out: number;
  k: number;
  stride: number;
  pad: "same" | "valid";
  dilation?: number;
}

/** Geometries for Conv2D gradients. */
export const CONV_CASES: ConvCase[] = [
  { n: 2, h: 8, w: 8, c: 3, out: 4, k: 3, stride: 1, pad: "same" },
  { n: 2, h: 8, w: 8, c: 3, out: 4, k: 3, stride: 1, pad: "valid" },
  { n: 1, h: 9, w: 7, c: 5, out: 6, k: 3, stride: 2, pad: "same" },
  { n: 2, h: 9, w: 7, c: 5, out: 6, k: 3, stride: 2, pad: "valid" },
  { n: 2, h: 8, w: 8, c: 4, out: 8, k: 1, stride: 1, pad: "same" },
  { n: 1, h: 9, w: 9, c: 4, out: 8, k: 1, stride: 2, pad: "valid" },
  { n: 1, h: 10, w: 11, c: 3, out: 2, k: 5, stride: 3, pad: "same" },
  { n: 3, h: 6, w: 6, c: 2, out: 3, k: 2, stride: 2, pad: "same" },
  { n: 1, h: 5, w: 5, c: 16, out: 16, k: 3, stride: 1, pad: "same" },
];

/** Geometries for depthwise gradients (`out` is the channel multiplier). */
export const DEPTHWISE_CASES: ConvCase[] = [
  { n: 2, h: 8, w: 8, c: 3, out: 1, k: 3, stride: 1, pad: "same" },
  { n: 1, h: 9, w: 7, c: 4, out: 2, k: 3, stride: 2, pad: "same" },
  { n: 2, h: 9, w: 7, c: 2, out: 1, k: 3, stride: 2, pad: "valid" },
  { n: 1, h: 8, w: 8, c: 3, out: 2, k: 1, stride: 1, pad: "valid" },
];

/** A readable label for a case in test names. */
export function label(c: ConvCase): string {
  return `${c.n}x${c.h}x${c.w}x${c.c} k${c.k} s${c.stride} ${c.pad}${c.dilation ? ` d${c.dilation}` : ""} out${c.out}`;
}

/** Inputs and attrs for the four gradient kernels of one case, on the active backend. */
export function kernelCall(
  kind: "conv" | "depthwise",
  c: ConvCase,
): {
  /** Forward input, filter and an upstream gradient of the forward output's shape. */
  x: tf.Tensor4D;
  filter: tf.Tensor4D;
  dy: tf.Tensor4D;
  /** Attrs of the BackpropFilter kernel. */
  filterAttrs: Record<string, unknown>;
  /** Attrs of the BackpropInput kernel. */
  inputAttrs: Record<string, unknown>;
} {
  const xShape: [number, number, number, number] = [c.n, c.h, c.w, c.c];
  const fShape: [number, number, number, number] = [c.k, c.k, c.c, c.out];
  const x = tf.tensor4d(seeded(c.n * c.h * c.w * c.c, 11), xShape);
  const filter = tf.tensor4d(seeded(c.k * c.k * c.c * c.out, 23), fShape);
  const dil = c.dilation ?? 1;
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    fShape,
    c.stride,
    dil,
    c.pad,
    undefined,
    kind === "depthwise",
  );
  const yShape = info.outShape as [number, number, number, number];
  const dy = tf.tensor4d(
    seeded(
      yShape.reduce((a, b) => a * b, 1),
      37,
    ),
    yShape,
  );
  const common =
    kind === "conv"
      ? { strides: c.stride, pad: c.pad, dataFormat: "NHWC" }
      : { strides: c.stride, pad: c.pad, dilations: dil };
  return {
    x,
    filter,
    dy,
    filterAttrs: { ...common, filterShape: fShape },
    inputAttrs: { ...common, inputShape: xShape },
  };
}

/** Kernel names by kind: [BackpropFilter, BackpropInput]. */
export const KERNELS = {
  conv: ["Conv2DBackpropFilter", "Conv2DBackpropInput"],
  depthwise: ["DepthwiseConv2dNativeBackpropFilter", "DepthwiseConv2dNativeBackpropInput"],
} as const;

/** Asserts two float arrays agree within atol + rtol·|ref|, reporting the worst element. */
export function expectClose(
  actual: ArrayLike<number>,
  ref: ArrayLike<number>,
  atol = 1e-4,
  rtol = 1e-4,
): void {
  expect(actual.length).toBe(ref.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const excess = Math.abs(actual[i]! - ref[i]!) - (atol + rtol * Math.abs(ref[i]!));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  if (at >= 0) {
    expect.fail(
      `element ${at}: ${actual[at]} vs reference ${ref[at]} (beyond tolerance by ${worst})`,
    );
  }
}

/**
 * A small model with every layer kind our networks train: conv (3×3, strided, 1×1), depthwise
 * conv, batch norm, ReLU, an SE-style gate (global pool, dense, sigmoid, broadcast multiply),
 * residual add, max/average pooling, dense head. Weights come from `seeded`, so the same model
 * is built on any backend.
 */
export function smallConvNet(): tf.LayersModel {
  const inp = tf.input({ shape: [9, 9, 3] });
  const ap = <T>(layer: tf.layers.Layer, x: T) => layer.apply(x as never) as tf.SymbolicTensor;
  let x = ap(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", useBias: false }), inp);
  x = ap(tf.layers.batchNormalization(), x);
  x = ap(tf.layers.reLU(), x);
  let y = ap(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", depthMultiplier: 1 }), x);
  y = ap(tf.layers.conv2d({ filters: 8, kernelSize: 1 }), y);
  let e = ap(tf.layers.globalAveragePooling2d({}), y);
  e = ap(tf.layers.dense({ units: 2, activation: "relu" }), e);
  e = ap(tf.layers.dense({ units: 8, activation: "sigmoid" }), e);
  e = ap(tf.layers.reshape({ targetShape: [1, 1, 8] }), e);
  y = ap(tf.layers.multiply(), [y, e]);
  x = ap(tf.layers.add(), [x, y]);
  x = ap(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }), x);
  x = ap(tf.layers.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: "same" }), x);
  x = ap(tf.layers.averagePooling2d({ poolSize: 2, strides: 1 }), x);
  x = ap(tf.layers.flatten(), x);
  const out = ap(tf.layers.dense({ units: 5 }), x);
  const model = tf.model({ inputs: inp, outputs: out });
  const values = model.weights.map((w, i) => {
    const shape = w.shape as number[];
    // Small weights keep the loss well-conditioned, so float rounding differences between
    // backends stay small over a few steps instead of being amplified.
    const v = seeded(tf.util.sizeFromShape(shape), 101 + i).map((u) => 0.3 * u);
    // Keep BN variances positive.
    if (w.name.includes("moving_variance")) v.fill(1);
    return tf.tensor(v, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

/**
 * Runs `steps` SGD steps of `smallConvNet` on the active backend; returns the losses and the
 * final weights as arrays (tensors disposed).
 */
export async function trainSmallNet(
  steps: number,
): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const model = smallConvNet();
  const opt = tf.train.sgd(0.02);
  const xb = tf.tensor4d(seeded(4 * 9 * 9 * 3, 7), [4, 9, 9, 3]);
  const yb = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 5));
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(
          yb,
          model.apply(xb, { training: true }) as tf.Tensor,
        ) as tf.Scalar,
      true,
    );
    losses.push((await loss!.data())[0]!);
    loss!.dispose();
  }
  const weights = await Promise.all(
    model.trainableWeights.map(async (w) => (await w.read().data()) as Float32Array),
  );
  xb.dispose();
  yb.dispose();
  opt.dispose();
  model.dispose();
  return { losses, weights };
}
