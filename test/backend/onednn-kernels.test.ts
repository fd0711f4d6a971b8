/**
 * Every native kernel of the onednn backend against tfjs's cpu backend on random inputs:
 * stride 2, SAME/VALID/explicit padding, 1x1 filters, batch 1, odd sizes, gradients included.
 * Each case also checks that the native kernel ran (no silent fallback to the cpu kernel).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { nativeKernelCounts, resetNativeKernelCounts } from "../../src/backend/onednn.js";
import { MIN_NATIVE_MACS } from "../../src/backend/onednn-kernels/matmul.js";
import {
  expectSameOnBoth,
  input,
  NATIVE,
  randomArray,
  relDiff,
  runOn,
  setupOnednn,
  withGrads,
} from "./onednn-support.js";

type Pad =
  | "same"
  | "valid"
  | [[number, number], [number, number], [number, number], [number, number]];

function convOut(x: number[], f: number[], stride: number | [number, number], pad: Pad, dil = 1) {
  const [sh, sw] = typeof stride === "number" ? [stride, stride] : stride;
  const eh = (f[0] - 1) * dil + 1;
  const ew = (f[1] - 1) * dil + 1;
  const out = (n: number, e: number, s: number, p0: number, p1: number) =>
    pad === "same" ? Math.ceil(n / s) : Math.floor((n + p0 + p1 - e) / s) + 1;
  const p = Array.isArray(pad)
    ? pad
    : [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ];
  return [x[0], out(x[1], eh, sh, p[1][0], p[1][1]), out(x[2], ew, sw, p[2][0], p[2][1])];
}

/** Expects each named kernel to have run natively at least once since the last reset. */
function expectNative(...names: string[]) {
  const c = nativeKernelCounts();
  for (const n of names) {
    expect(c[n]?.native ?? 0, `${n} did not run natively`).toBeGreaterThan(0);
    expect(c[n]?.fallback ?? 0, `${n} fell back to the cpu kernel`).toBe(0);
  }
}

const CONV_CASES: {
  x: number[];
  f: number[];
  stride: number | [number, number];
  pad: Pad;
  dil?: number;
}[] = [
  { x: [2, 9, 9, 3], f: [3, 3, 3, 5], stride: 2, pad: "same" },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 5], stride: 2, pad: "valid" },
  { x: [1, 7, 7, 4], f: [1, 1, 4, 6], stride: 1, pad: "valid" },
  { x: [1, 8, 8, 4], f: [1, 1, 4, 8], stride: 2, pad: "same" },
  { x: [2, 16, 16, 16], f: [3, 3, 16, 32], stride: 1, pad: "same" },
  {
    x: [3, 11, 13, 5],
    f: [5, 3, 5, 7],
    stride: [2, 1],
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  { x: [1, 10, 10, 3], f: [3, 3, 3, 4], stride: 1, pad: "same", dil: 2 },
];

describe.skipIf(!NATIVE.built)("onednn kernels vs cpu", () => {
  beforeAll(setupOnednn);

  describe("Conv2D and its gradients", () => {
    for (const c of CONV_CASES) {
      it(`x ${c.x} f ${c.f} stride ${c.stride} pad ${JSON.stringify(c.pad)} dil ${c.dil ?? 1}`, async () => {
        resetNativeKernelCounts();
        const [n, oh, ow] = convOut(c.x, c.f, c.stride, c.pad, c.dil);
        const f = (x: tf.Tensor, w: tf.Tensor) =>
          tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, "NHWC", c.dil ?? 1);
        // tfjs's conv2d gradient requires dilation 1, so only the forward runs dilated.
        const fn = (c.dil ?? 1) === 1 ? withGrads(f, [n, oh, ow, c.f[3]]) : f;
        await expectSameOnBoth([input(c.x), input(c.f)], fn);
        expectNative("Conv2D");
        if ((c.dil ?? 1) === 1) expectNative("Conv2DBackpropInput", "Conv2DBackpropFilter");
      });
    }
  });

  it("FusedConv2D with bias and relu (and its gradients)", async () => {
    resetNativeKernelCounts();
    const xs = [input([2, 9, 9, 4]), input([3, 3, 4, 6]), input([6])];
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: w as tf.Tensor4D,
        bias: b,
        strides: 2,
        pad: "same",
        activation: "relu",
      });
    await expectSameOnBoth(xs, withGrads(f, [2, 5, 5, 6]));
    expectNative("FusedConv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter");
    for (const activation of ["linear", "relu6", "elu", "leakyrelu", "sigmoid"] as const) {
      await expectSameOnBoth(xs, (x, w, b) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          bias: b,
          strides: 1,
          pad: "valid",
          activation,
          // tfjs's cpu kernel yields NaN when leakyrelu runs without an explicit alpha.
          leakyreluAlpha: 0.1,
        }),
      );
    }
    expectNative("FusedConv2D");
  });

  describe("depthwise convolution and its gradients", () => {
    const cases = [
      { x: [2, 9, 9, 4], f: [3, 3, 4, 1], stride: 2, pad: "same" as const },
      { x: [1, 8, 7, 3], f: [3, 3, 3, 2], stride: 1, pad: "valid" as const },
      { x: [2, 6, 6, 8], f: [5, 5, 8, 1], stride: 1, pad: "same" as const },
    ];
    for (const c of cases) {
      it(`x ${c.x} f ${c.f} stride ${c.stride} ${c.pad}`, async () => {
        resetNativeKernelCounts();
        const [n, oh, ow] = convOut(c.x, c.f, c.stride, c.pad);
        const f = (x: tf.Tensor, w: tf.Tensor) =>
          tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad);
        await expectSameOnBoth(
          [input(c.x), input(c.f)],
          withGrads(f, [n, oh, ow, c.f[2] * c.f[3]]),
        );
        expectNative(
          "DepthwiseConv2dNative",
          "DepthwiseConv2dNativeBackpropInput",
          "DepthwiseConv2dNativeBackpropFilter",
        );
      });
    }
    it("FusedDepthwiseConv2D with bias and relu", async () => {
      resetNativeKernelCounts();
      await expectSameOnBoth([input([1, 7, 7, 4]), input([3, 3, 4, 2]), input([8])], (x, w, b) =>
        tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          bias: b,
          strides: 2,
          pad: "same",
          activation: "relu",
        }),
      );
      expectNative("FusedDepthwiseConv2D");
    });
  });

  describe("matmul", () => {
    // Odd sizes above MIN_NATIVE_MACS (smaller products run the cpu kernel, tested below).
    const cases = [
      { a: [45, 67], b: [67, 33], ta: false, tb: false, noGrad: false },
      { a: [67, 45], b: [67, 33], ta: true, tb: false },
      { a: [45, 67], b: [33, 67], ta: false, tb: true },
      { a: [67, 45], b: [33, 67], ta: true, tb: true },
      { a: [3, 24, 35], b: [3, 35, 26], ta: false, tb: false },
      // Broadcast batches: forward only (tfjs's BatchMatMul gradient rejects them on cpu too).
      { a: [1, 24, 35], b: [3, 35, 26], ta: false, tb: false, noGrad: true },
      { a: [2, 3, 24, 35], b: [35, 26], ta: false, tb: false, noGrad: true },
    ];
    for (const c of cases) {
      it(`${c.a}${c.ta ? "ᵀ" : ""} x ${c.b}${c.tb ? "ᵀ" : ""}${c.noGrad ? "" : " with gradients"}`, async () => {
        resetNativeKernelCounts();
        const ref = await runOn("cpu", [input(c.a), input(c.b)], (a, b) =>
          tf.matMul(a, b, c.ta, c.tb),
        );
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, c.ta, c.tb);
        await expectSameOnBoth([input(c.a), input(c.b)], c.noGrad ? f : withGrads(f, ref[0].shape));
        expectNative("BatchMatMul");
      });
    }
    it("_FusedMatMul with bias and relu, and its gradients", async () => {
      resetNativeKernelCounts();
      const f = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
        tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: "relu" });
      await expectSameOnBoth(
        [input([46, 69]), input([69, 34]), input([34])],
        withGrads(f, [46, 34]),
      );
      expectNative("_FusedMatMul", "BatchMatMul");
    });
    it("tiny products (below MIN_NATIVE_MACS, e.g. the SE block's FC layers) run the cpu kernel", async () => {
      expect(64 * 16 * 4).toBeLessThan(MIN_NATIVE_MACS);
      resetNativeKernelCounts();
      await expectSameOnBoth([input([64, 16]), input([16, 4])], (a, b) => tf.matMul(a, b));
      const c = nativeKernelCounts().BatchMatMul!;
      expect(c.native).toBe(0);
      expect(c.fallback).toBe(1);
    });
  });

  describe("pooling", () => {
    const cases = [
      { x: [2, 9, 9, 3], k: 3, s: 2, pad: "same" as const },
      { x: [1, 8, 8, 4], k: 2, s: 2, pad: "valid" as const },
      { x: [2, 7, 5, 3], k: 3, s: 1, pad: "valid" as const },
      { x: [1, 11, 11, 2], k: 3, s: 2, pad: "valid" as const },
    ];
    for (const c of cases) {
      it(`MaxPool and MaxPoolGrad x ${c.x} k ${c.k} s ${c.s} ${c.pad}`, async () => {
        resetNativeKernelCounts();
        const ref = await runOn("cpu", [input(c.x)], (x) =>
          tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad),
        );
        const f = (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad);
        await expectSameOnBoth([input(c.x)], withGrads(f, ref[0].shape));
        expectNative("MaxPool", "MaxPoolGrad");
      });
      it(`AvgPool x ${c.x} k ${c.k} s ${c.s} ${c.pad}`, async () => {
        resetNativeKernelCounts();
        const f = (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, c.k, c.s, c.pad);
        const ref = await runOn("cpu", [input(c.x)], f);
        // tfjs's cpu AvgPoolGrad divides by the full window even at padded borders, so only
        // VALID gradients are compared with it; SAME is checked by the adjoint test below.
        await expectSameOnBoth([input(c.x)], c.pad === "valid" ? withGrads(f, ref[0].shape) : f);
        expectNative("AvgPool");
        if (c.pad === "valid") expectNative("AvgPoolGrad");
      });
    }
    it("AvgPoolGrad is the adjoint of AvgPool with SAME padding: <pool(v), r> = <v, grad(r)>", async () => {
      resetNativeKernelCounts();
      const xs = [2, 9, 9, 3];
      const outShape = [2, 5, 5, 3];
      const v = input(xs);
      const r = randomArray(2 * 5 * 5 * 3);
      const [pooled] = await runOn("cpu", [v], (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, "same"));
      const [, grad] = await runOn("onednn", [v], (x) => {
        const rt = tf.tensor(r, outShape);
        const g = tf.grad((y: tf.Tensor) =>
          tf.sum(tf.mul(tf.avgPool(y as tf.Tensor4D, 3, 2, "same"), rt)),
        )(x);
        rt.dispose();
        return [x.clone(), g];
      });
      let lhs = 0;
      for (let i = 0; i < r.length; i++) lhs += pooled.values[i] * r[i];
      let rhs = 0;
      for (let i = 0; i < v.data.length; i++) rhs += v.data[i] * grad.values[i];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
      expectNative("AvgPoolGrad");
    });
  });

  describe("elementwise, reductions, slice and pad (above MIN_NATIVE_SIZE)", () => {
    const binaries: [
      string,
      string,
      (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
      number[],
      number[],
    ][] = [
      ["Add", "Add", tf.add, [8, 16, 16, 8], [8]],
      ["Add (first operand broadcast)", "Add", tf.add, [8], [8, 16, 16, 8]],
      ["Multiply (SE scale)", "Multiply", tf.mul, [8, 16, 16, 8], [8, 1, 1, 8]],
      ["Multiply (first operand broadcast)", "Multiply", tf.mul, [8, 1, 1, 8], [8, 16, 16, 8]],
      ["Sub", "Sub", tf.sub, [8, 16, 16, 8], [1, 1, 1, 8]],
      [
        "RealDiv",
        "RealDiv",
        (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5)),
        [8, 16, 16, 8],
        [8, 16, 16, 8],
      ],
      ["Maximum", "Maximum", tf.maximum, [8, 16, 16, 8], [8, 16, 16, 8]],
      ["Minimum", "Minimum", tf.minimum, [8, 16, 16, 8], [8, 16, 16, 8]],
    ];
    for (const [label, kernel, f, sa, sb] of binaries) {
      it(`${label} ${sa} with ${sb}, with gradients`, async () => {
        resetNativeKernelCounts();
        const ref = await runOn("cpu", [input(sa), input(sb)], f);
        await expectSameOnBoth([input(sa), input(sb)], withGrads(f, ref[0].shape));
        expectNative(kernel);
      });
    }
    const unaries: [string, (x: tf.Tensor) => tf.Tensor][] = [
      ["Relu", tf.relu],
      ["Sigmoid", tf.sigmoid],
      ["Tanh", tf.tanh],
      ["Exp", tf.exp],
      ["Step", (x) => tf.step(tf.where(tf.greater(x, 0.9), tf.scalar(Number.NaN), x), 0.3)],
    ];
    for (const [kernel, f] of unaries) {
      it(`${kernel} on 4097 elements`, async () => {
        resetNativeKernelCounts();
        await expectSameOnBoth([input([4097])], f, 1e-5);
        expectNative(kernel);
      });
    }
    const reductions: [string, (x: tf.Tensor) => tf.Tensor][] = [
      ["Sum", (x) => tf.sum(x, [0, 1, 2])],
      ["Sum", (x) => tf.sum(x, [1, 2], true)],
      ["Sum", (x) => tf.sum(x)],
      ["Mean", (x) => tf.mean(x, [1, 2], true)],
      ["Mean", (x) => tf.mean(x, -1)],
      ["Max", (x) => tf.max(x, [1, 2])],
      ["Max", (x) => tf.max(x, [0, 1])],
      ["Min", (x) => tf.min(x, 1, true)],
    ];
    for (const [kernel, f] of reductions) {
      it(`${kernel}: ${f.toString().slice(6)}`, async () => {
        resetNativeKernelCounts();
        await expectSameOnBoth([input([4, 9, 11, 13])], f, 1e-5);
        expectNative(kernel);
      });
    }
    it("Slice of a 4-D block, and its gradient (PadV2)", async () => {
      resetNativeKernelCounts();
      const f = (x: tf.Tensor) => tf.slice(x, [1, 2, 0, 3], [3, 13, 16, 9]);
      await expectSameOnBoth([input([4, 16, 16, 12])], withGrads(f, [3, 13, 16, 9]));
      expectNative("Slice", "PadV2");
    });
    it("StridedSlice with stride 2 (option-A shortcut), a begin offset and a shrunk axis", async () => {
      resetNativeKernelCounts();
      await expectSameOnBoth([input([8, 17, 17, 16])], (x) =>
        tf.stridedSlice(x, [0, 0, 0, 0], [8, 17, 17, 16], [1, 2, 2, 1]),
      );
      await expectSameOnBoth([input([16, 33, 17, 32])], (x) =>
        tf.stridedSlice(x, [1, 1, 3, 2], [15, 33, 16, 31], [2, 3, 1, 2]),
      );
      await expectSameOnBoth([input([8, 17, 17, 64])], (x) =>
        tf.stridedSlice(x, [0, 4, 0, 0], [8, 5, 17, 64], [1, 1, 1, 1], 0, 0, 0, 0, 2),
      );
      expectNative("StridedSlice");
    });
    it("PadV2 with a constant, and its gradient (Slice)", async () => {
      resetNativeKernelCounts();
      const f = (x: tf.Tensor) =>
        tf.pad(
          x,
          [
            [0, 1],
            [1, 1],
            [2, 0],
            [0, 3],
          ],
          1.5,
        );
      await expectSameOnBoth([input([4, 15, 15, 8])], withGrads(f, [5, 17, 17, 11]));
      expectNative("PadV2", "Slice");
    });
  });

  it("reads and writes the cpu backend's arrays without changing its inputs", async () => {
    const x = input([1, 5, 5, 2]);
    const before = x.data.slice();
    await runOn("onednn", [x], (t) =>
      tf.conv2d(t as tf.Tensor4D, tf.ones([3, 3, 2, 2]), 1, "same"),
    );
    expect(relDiff(x.data, before)).toBe(0);
  });

  it("leaks no tensors over a training-like loop", async () => {
    await tf.setBackend("onednn");
    const x = tf.randomNormal([2, 8, 8, 3]);
    const w = tf.variable(tf.randomNormal([3, 3, 3, 4]));
    const opt = tf.train.sgd(0.01);
    const step = () =>
      opt.minimize(
        () =>
          tf.sum(
            tf.maxPool(
              tf.relu(tf.conv2d(x as tf.Tensor4D, w as tf.Variable<tf.Rank.R4>, 1, "same")),
              2,
              2,
              "valid",
            ),
          ) as tf.Scalar,
      );
    step();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([x, w]);
    opt.dispose();
  });
});
