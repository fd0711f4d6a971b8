/**
 * The native one-pass Relu, Sigmoid, Mean and Sum gradients (src/backend/native-grads.ts) and
 * the native Square kernel equal tfjs's own
 * on the cpu backend, run natively where they should, and leave other cases to tfjs; the
 * inference FusedBatchNorm kernel equals the cpu one.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { nativeGradStats } from "../../src/backend/native-grads.js";
import { nativeKernelCounts, resetNativeKernelCounts } from "../../src/backend/onednn.js";
import { contiguousBlock } from "../../src/backend/onednn-kernels/util.js";
import { expectSameOnBoth, input, NATIVE, setupOnednn, withGrads } from "./onednn-support.js";

describe("contiguousBlock", () => {
  it("collapses one block of reduced axes into [P, Q, S]", () => {
    expect(contiguousBlock([4, 8, 8, 16], [1, 2])).toEqual([4, 64, 16]);
    expect(contiguousBlock([4, 8, 8, 16], [0])).toEqual([1, 4, 1024]);
    expect(contiguousBlock([4, 1, 8, 16], [1, 2])).toEqual([4, 8, 16]);
  });
  it("refuses axes that are not contiguous", () => {
    expect(contiguousBlock([4, 8, 8, 16], [1, 3])).toBeNull();
  });
  it("treats a reduction over size-1 axes only as a copy", () => {
    expect(contiguousBlock([4, 1, 1, 16], [1, 2])).toEqual([64, 1, 1]);
    expect(contiguousBlock([4, 8, 16, 1], [3])).toEqual([512, 1, 1]);
  });
});

describe.skipIf(!NATIVE.built)("native gradients on onednn", () => {
  beforeAll(setupOnednn);

  it("Relu's gradient equals tfjs's (zeros, negatives and NaN included)", async () => {
    const x = input([4, 9, 9, 16]);
    x.data[0] = 0;
    x.data[1] = Number.NaN;
    x.data[2] = -0;
    const before = nativeGradStats().native;
    await expectSameOnBoth([x], withGrads(tf.relu, x.shape), 1e-12);
    expect(nativeGradStats().native - before).toBeGreaterThan(0);
  });

  it("Sigmoid's gradient (from the output) equals tfjs's", async () => {
    const x = input([4, 9, 9, 16]);
    x.data[0] = 40; // saturated: y = 1, gradient 0
    x.data[1] = -40;
    const before = nativeGradStats().native;
    await expectSameOnBoth([x], withGrads(tf.sigmoid, x.shape), 1e-6);
    expect(nativeGradStats().native - before).toBeGreaterThan(0);
  });

  it("Sum's gradient over the last axis and over H, W (SGE's statistics) equals tfjs's", async () => {
    const x = input([4, 9, 9, 4, 4]);
    const before = nativeGradStats().native;
    await expectSameOnBoth(
      [x],
      withGrads((t) => tf.sum(t, 4), [4, 9, 9, 4]),
      1e-6,
    );
    await expectSameOnBoth(
      [x],
      withGrads((t) => tf.sum(t, [1, 2], true), [4, 1, 1, 4, 4]),
      1e-6,
    );
    expect(nativeGradStats().native - before).toBe(2);
  });

  it("Sum over a size-1 axis (SGE with one channel per group) runs natively, gradient included", async () => {
    const x = input([4, 9, 9, 16, 1]);
    resetNativeKernelCounts();
    const before = nativeGradStats().native;
    await expectSameOnBoth(
      [x],
      withGrads((t) => tf.sum(t, 4), [4, 9, 9, 16]),
      1e-12,
    );
    expect(nativeKernelCounts().Sum?.native).toBeGreaterThan(0);
    // This sum's gradient and the one of withGrads' outer sum over everything (5184 elements).
    expect(nativeGradStats().native - before).toBe(2);
  });

  it("Multiply's gradient with a broadcast operand (SE scale, SGE gate) equals tfjs's, either order", async () => {
    const x = input([4, 9, 9, 16]);
    const g = input([4, 1, 1, 16]);
    const xg = input([4, 9, 9, 4, 4]);
    const gate = input([4, 9, 9, 4, 1]);
    const before = nativeGradStats().native;
    await expectSameOnBoth([x, g], withGrads(tf.mul, x.shape), 1e-6);
    await expectSameOnBoth([g, x], withGrads(tf.mul, x.shape), 1e-6);
    await expectSameOnBoth([xg, gate], withGrads(tf.mul, xg.shape), 1e-6);
    // Three products, plus the gradient of withGrads' outer sum each time (5184 elements, native
    // too); its multiply by a fixed random tensor has equal shapes and goes to tfjs's gradient.
    expect(nativeGradStats().native - before).toBe(6);
  });

  it("Multiply with equal shapes or a split broadcast goes to tfjs's gradient", async () => {
    const a = input([4, 9, 9, 16]);
    const b = input([4, 9, 9, 16]);
    const split = input([4, 1, 9, 1]);
    const before = nativeGradStats();
    await expectSameOnBoth(
      [a, b],
      withGrads((p, q) => tf.mul(p, q), a.shape),
      1e-6,
    );
    await expectSameOnBoth([a, split], withGrads(tf.mul, a.shape), 1e-6);
    const after = nativeGradStats();
    expect(after.delegated - before.delegated).toBeGreaterThanOrEqual(2);
  });

  it("Square runs natively and equals the cpu kernel, gradient included", async () => {
    const x = input([4, 9, 9, 16]);
    resetNativeKernelCounts();
    await expectSameOnBoth([x], withGrads(tf.square, x.shape), 1e-12);
    expect(nativeKernelCounts().Square?.native).toBeGreaterThan(0);
  });

  it("Mean's gradient over H, W (the SE squeeze) equals tfjs's", async () => {
    const x = input([4, 9, 9, 16]);
    const before = nativeGradStats().native;
    await expectSameOnBoth(
      [x],
      withGrads((t) => tf.mean(t, [1, 2]), [4, 16]),
      1e-6,
    );
    await expectSameOnBoth(
      [x],
      withGrads((t) => tf.mean(t, [1, 2], true), [4, 1, 1, 16]),
      1e-6,
    );
    expect(nativeGradStats().native - before).toBe(2);
  });

  it("Mean over non-contiguous axes goes to tfjs's gradient and still agrees", async () => {
    const x = input([4, 9, 9, 16]);
    const before = nativeGradStats();
    await expectSameOnBoth(
      [x],
      withGrads((t) => tf.mean(t, [1, 3]), [4, 9]),
      1e-6,
    );
    const after = nativeGradStats();
    expect(after.native).toBe(before.native);
    expect(after.delegated).toBeGreaterThan(before.delegated);
  });

  it("inference batch norm (FusedBatchNorm) equals the cpu kernel, with and without scale/offset", async () => {
    const x = input([4, 9, 9, 24]);
    const mean = input([24]);
    const variance = { shape: [24], data: input([24]).data.map((v) => v * v + 0.1) };
    const offset = input([24]);
    const scale = input([24]);
    resetNativeKernelCounts();
    await expectSameOnBoth(
      [x, mean, variance, offset, scale],
      (a, m, v, o, s) => tf.batchNorm(a, m, v, o, s, 1e-3),
      1e-6,
    );
    await expectSameOnBoth([x, mean, variance], (a, m, v) => tf.batchNorm(a, m, v), 1e-6);
    expect(nativeKernelCounts().FusedBatchNorm?.native).toBe(2);
  });
});
