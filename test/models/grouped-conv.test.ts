/** GroupedConv2D against a naive loop and a block-diagonal dense convolution (PyTorch `groups` semantics). */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { ConfigError } from "../../src/errors.js";
import { GroupedConv2D } from "../../src/models/index.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

/** Direct loops: y[o] = Σ over the group's inputs and the k×k window (zero padding p). */
function naiveGroupedConv(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  groups: number,
  stride: number,
  pad: number,
): number[][][] {
  const [, h, w, cin] = x.shape;
  const [k, , cinG, cout] = kernel.shape;
  const xs = x.arraySync()[0]!;
  const ks = kernel.arraySync();
  const coutG = cout / groups;
  const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
  const wo = Math.floor((w + 2 * pad - k) / stride) + 1;
  expect(cin / groups).toBe(cinG);
  const out: number[][][] = [];
  for (let i = 0; i < ho; i++) {
    const row: number[][] = [];
    for (let j = 0; j < wo; j++) {
      const cell: number[] = [];
      for (let o = 0; o < cout; o++) {
        const g = Math.floor(o / coutG);
        let s = 0;
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++) {
            const y = i * stride + a - pad;
            const z = j * stride + b - pad;
            if (y < 0 || z < 0 || y >= h || z >= w) continue;
            for (let c = 0; c < cinG; c++) s += xs[y]![z]![g * cinG + c]! * ks[a]![b]![c]![o]!;
          }
        cell.push(s);
      }
      row.push(cell);
    }
    out.push(row);
  }
  return out;
}

/** The grouped kernel as a dense [k,k,C_in,C_out] kernel, zero outside the diagonal blocks. */
function blockDiagonal(kernel: tf.Tensor4D, groups: number, cin: number): tf.Tensor4D {
  return tf.tidy(() => {
    const cinG = cin / groups;
    const parts = tf.split(kernel, groups, 3).map((kg, g) =>
      tf.pad(kg as tf.Tensor4D, [
        [0, 0],
        [0, 0],
        [g * cinG, cin - (g + 1) * cinG],
        [0, 0],
      ]),
    );
    return tf.concat(parts, 3) as tf.Tensor4D;
  });
}

function apply(layer: GroupedConv2D, x: tf.Tensor4D): tf.Tensor4D {
  return layer.apply(x) as tf.Tensor4D;
}

describe("GroupedConv2D", () => {
  it.each([
    [1, "same", 0],
    [2, "valid", 0],
  ] as const)("matches a naive loop (stride %i, %s)", (stride, padding) => {
    const layer = new GroupedConv2D({
      filters: 6,
      kernelSize: 3,
      groups: 3,
      strides: stride,
      padding,
      kernelInitializer: "heNormal",
    });
    const x = tf.randomNormal([1, 6, 6, 9], 0, 1, "float32", 1) as tf.Tensor4D;
    const y = apply(layer, x);
    const kernel = layer.getWeights()[0] as tf.Tensor4D;
    expect(kernel.shape).toEqual([3, 3, 3, 6]);
    const ref = naiveGroupedConv(x, kernel, 3, stride, padding === "same" ? 1 : 0);
    const got = y.arraySync()[0]!;
    expect(got.length).toBe(ref.length);
    for (let i = 0; i < ref.length; i++)
      for (let j = 0; j < ref[0]!.length; j++)
        for (let o = 0; o < 6; o++) expect(got[i]![j]![o]!).toBeCloseTo(ref[i]![j]![o]!, 4);
  });

  it("equals a dense conv with a block-diagonal kernel, outputs and input gradients (32 groups)", () => {
    const layer = new GroupedConv2D({ filters: 64, kernelSize: 3, groups: 32, padding: "same" });
    const x = tf.randomNormal([2, 7, 7, 64], 0, 1, "float32", 2) as tf.Tensor4D;
    const y = apply(layer, x);
    const dense = blockDiagonal(layer.getWeights()[0] as tf.Tensor4D, 32, 64);
    const ref = tf.conv2d(x, dense, 1, "same");
    expect(tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]).toBeLessThan(1e-4);
    const r = tf.randomNormal(y.shape, 0, 1, "float32", 3);
    const gGrouped = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(apply(layer, v as tf.Tensor4D), r)))(
      x,
    );
    const gDense = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(v as tf.Tensor4D, dense, 1, "same"), r)),
    )(x);
    expect(tf.max(tf.abs(tf.sub(gGrouped, gDense))).dataSync()[0]).toBeLessThan(1e-4);
  });

  it("has k²·C_in/G·C_out parameters and round-trips its config", () => {
    const layer = new GroupedConv2D({
      filters: 256,
      kernelSize: 3,
      groups: 32,
      strides: 2,
      name: "g",
    });
    layer.build([null, 8, 8, 128]);
    expect(layer.countParams()).toBe(9 * 4 * 256);
    expect(layer.computeOutputShape([null, 9, 9, 128])).toEqual([null, 4, 4, 256]);
    const cfg = layer.getConfig();
    const again = new GroupedConv2D(cfg as never);
    expect(again.getConfig()).toEqual(cfg);
  });

  it("rejects channels that groups do not divide", () => {
    expect(() => new GroupedConv2D({ filters: 10, kernelSize: 3, groups: 4 })).toThrow(ConfigError);
    const layer = new GroupedConv2D({ filters: 8, kernelSize: 3, groups: 4 });
    expect(() => layer.build([null, 4, 4, 6])).toThrow(/6.*groups=4/);
  });
});
