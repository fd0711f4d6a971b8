/** The StridedSlice gradient tfjs lacks, against hand-computed scatters. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { registerStridedSliceGradient } from "../../src/ops/strided-slice-grad.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  registerStridedSliceGradient();
});

/** Gradient of sum(stridedSlice(x) · w) by brute force: w scattered to the sliced positions. */
function bruteForce(
  shape: number[],
  begin: number[],
  strides: number[],
  outShape: number[],
  w: Float32Array,
) {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const idx = new Array(outShape.length).fill(0);
  for (let k = 0; k < w.length; k++) {
    let rem = k;
    for (let d = outShape.length - 1; d >= 0; d--) {
      idx[d] = rem % outShape[d]!;
      rem = Math.floor(rem / outShape[d]!);
    }
    let flat = 0;
    for (let d = 0; d < shape.length; d++)
      flat = flat * shape[d]! + begin[d]! + idx[d] * strides[d]!;
    out[flat]! += w[k]!;
    out[flat] = out[flat]!;
  }
  return out;
}

describe("StridedSlice gradient", () => {
  const cases: [number[], number[], number[], number[]][] = [
    [
      [2, 7, 6, 3],
      [0, 0, 0, 0],
      [2, 7, 6, 3],
      [1, 2, 2, 1],
    ],
    [
      [2, 8, 8, 4],
      [0, 1, 0, 1],
      [2, 8, 8, 4],
      [1, 2, 3, 2],
    ],
    [
      [5, 9],
      [1, 2],
      [5, 8],
      [2, 3],
    ],
  ];
  for (const [shape, begin, end, strides] of cases) {
    it(`shape ${shape} begin ${begin} end ${end} strides ${strides}`, async () => {
      const x = tf.randomNormal(shape);
      const y = tf.stridedSlice(x, begin, end, strides);
      const w = tf.randomNormal(y.shape);
      const g = tf.grad((a: tf.Tensor) =>
        tf.sum(tf.mul(tf.stridedSlice(a, begin, end, strides), w)),
      )(x);
      expect(g.shape).toEqual(shape);
      const want = bruteForce(shape, begin, strides, y.shape, (await w.data()) as Float32Array);
      expect(Array.from(await g.data())).toEqual(Array.from(want));
      tf.dispose([x, y, w, g]);
    });
  }

  it("refuses new-axis masks instead of returning a wrong gradient", () => {
    const x = tf.ones([2, 3]);
    expect(() =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.stridedSlice(a, [0, 0], [2, 3], [1, 1], 0, 0, 0, 1)))(x),
    ).toThrow(/newAxisMask/);
  });
});
