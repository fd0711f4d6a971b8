/**
 * The wasm backend's op-built gradient kernels against the cpu backend's original kernels, on
 * the same seeded inputs, and a training step of a small conv net on wasm against the cpu backend.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { registerWasmTrainingKernels } from "../../src/backend/wasm-kernels.js";
import { registerExtraGradients } from "../../src/ops/index.js";
import {
  CONV_CASES,
  type ConvCase,
  DEPTHWISE_CASES,
  expectClose,
  KERNELS,
  kernelCall,
  label,
  seeded,
  trainSmallNet,
} from "./grad-cases.js";

/** Runs the BackpropFilter and BackpropInput kernels of `kind` on the active backend. */
async function gradients(kind: "conv" | "depthwise", c: ConvCase) {
  const call = kernelCall(kind, c);
  const [fName, iName] = KERNELS[kind];
  const before = tf.memory().numTensors;
  const dw = tf
    .engine()
    .runKernel(fName, { x: call.x, dy: call.dy }, call.filterAttrs as never) as tf.Tensor;
  const dx = tf
    .engine()
    .runKernel(iName, { dy: call.dy, filter: call.filter }, call.inputAttrs as never) as tf.Tensor;
  // Only the two outputs may remain: every intermediate of the op-built kernels is disposed.
  expect(tf.memory().numTensors).toBe(before + 2);
  const out = { dw: await dw.data(), dx: await dx.data(), dwShape: dw.shape, dxShape: dx.shape };
  tf.dispose([dw, dx, call.x, call.dy, call.filter]);
  return out;
}

beforeAll(async () => {
  await tf.setBackend("wasm");
  await tf.ready();
  registerWasmTrainingKernels();
  // What initBackend registers for every backend (this file sets wasm up by hand).
  registerExtraGradients();
});

describe("wasm training kernels", () => {
  it("registers every gradient kernel a conv net needs", () => {
    for (const name of [
      ...KERNELS.conv,
      ...KERNELS.depthwise,
      "MaxPoolGrad",
      "Sum",
      "Mean",
      "Tile",
    ]) {
      expect(tf.getKernel(name, "wasm"), name).toBeDefined();
    }
  });

  for (const kind of ["conv", "depthwise"] as const) {
    for (const c of kind === "conv" ? CONV_CASES : DEPTHWISE_CASES) {
      it(`${kind} ${label(c)} matches the cpu backend's kernels`, async () => {
        await tf.setBackend("cpu");
        const ref = await gradients(kind, c);
        await tf.setBackend("wasm");
        const got = await gradients(kind, c);
        expect(got.dwShape).toEqual(ref.dwShape);
        expect(got.dxShape).toEqual(ref.dxShape);
        expectClose(got.dw, ref.dw);
        expectClose(got.dx, ref.dx);
      });
    }
  }

  const POOLS: [number, number, number, number, number, number, "same" | "valid"][] = [
    [2, 8, 8, 3, 2, 2, "valid"],
    [1, 9, 7, 5, 3, 2, "same"],
    [2, 8, 8, 4, 3, 1, "same"],
    [1, 7, 9, 2, 3, 2, "valid"],
  ];
  for (const [n, h, w, c, k, s, pad] of POOLS) {
    it(`max/avg pool grads ${n}x${h}x${w}x${c} k${k} s${s} ${pad} match the cpu backend's`, async () => {
      const run = async () => {
        const x = tf.tensor4d(seeded(n * h * w * c, 3), [n, h, w, c]);
        const out: Float32Array[] = [];
        for (const pool of [tf.maxPool, tf.avgPool]) {
          const y = pool(x, k, s, pad);
          const dy = tf.tensor4d(seeded(y.size, 5), y.shape as [number, number, number, number]);
          const g = tf.grad((a: tf.Tensor) =>
            tf.sum(tf.mul(pool(a as tf.Tensor4D, k, s, pad), dy)),
          )(x);
          out.push((await g.data()) as Float32Array);
          tf.dispose([y, dy, g]);
        }
        x.dispose();
        return out;
      };
      await tf.setBackend("cpu");
      const ref = await run();
      await tf.setBackend("wasm");
      const before = tf.memory().numTensors;
      const got = await run();
      expect(tf.memory().numTensors).toBe(before);
      expectClose(got[0]!, ref[0]!);
      expectClose(got[1]!, ref[1]!);
    });
  }

  it("Sum, Mean and Tile match the cpu backend (rewritten and fallback cases)", async () => {
    const run = async () => {
      const x = tf.tensor4d(seeded(3 * 5 * 7 * 6, 41), [3, 5, 7, 6]);
      const outs = tf.tidy(() => [
        tf.sum(x, [0, 1, 2]),
        tf.mean(x, [0, 1, 2], true),
        tf.mean(x, [1, 2]),
        tf.sum(x, [1]),
        tf.sum(x, 3), // trailing axis: original kernel
        tf.mean(x, [0, 2]), // not contiguous: original kernel
        tf.sum(x),
        tf.tile(tf.reshape(tf.sum(x, [0, 1, 2]), [1, 1, 1, 6]), [3, 5, 7, 1]),
        tf.tile(x, [2, 1, 3, 1]),
        tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], "int32"), 0), // int: original kernel
      ]);
      const data = await Promise.all(outs.map(async (t) => [t.shape, await t.data()] as const));
      tf.dispose([x, ...outs]);
      return data;
    };
    await tf.setBackend("cpu");
    const ref = await run();
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const got = await run();
    expect(tf.memory().numTensors).toBe(before);
    got.forEach(([shape, data], i) => {
      expect(shape, `output ${i}`).toEqual(ref[i]![0]);
      expectClose(data, ref[i]![1]);
    });
  });

  it("a strided slice (option-A shortcut) has a gradient on wasm equal to the cpu backend's", async () => {
    const run = async () => {
      const x = tf.tensor4d(seeded(2 * 7 * 6 * 3, 43), [2, 7, 6, 3]);
      const dy = tf.tensor4d(seeded(2 * 4 * 3 * 2, 47), [2, 4, 3, 2]);
      const g = tf.grad((a: tf.Tensor) =>
        tf.sum(tf.mul(tf.stridedSlice(a, [0, 0, 0, 1], [2, 7, 6, 3], [1, 2, 2, 1]), dy)),
      )(x);
      const out = await g.data();
      tf.dispose([x, dy, g]);
      return out;
    };
    await tf.setBackend("cpu");
    const ref = await run();
    await tf.setBackend("wasm");
    const got = await run();
    expectClose(got, ref);
  });

  it("tf.grads of a strided conv on wasm equal the cpu backend's", async () => {
    const run = async () => {
      const c = CONV_CASES[2]!;
      const call = kernelCall("conv", c);
      const [gx, gw] = tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad), call.dy)),
      )([call.x, call.filter]);
      const out = [await gx!.data(), await gw!.data()];
      tf.dispose([gx!, gw!, call.x, call.dy, call.filter]);
      return out;
    };
    await tf.setBackend("cpu");
    const ref = await run();
    await tf.setBackend("wasm");
    const got = await run();
    expectClose(got[0]!, ref[0]!);
    expectClose(got[1]!, ref[1]!);
  });

  it("three SGD steps of a small conv net give the cpu backend's losses and weights", async () => {
    await tf.setBackend("cpu");
    const ref = await trainSmallNet(3);
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const got = await trainSmallNet(3);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.losses.every(Number.isFinite)).toBe(true);
    expectClose(got.losses, ref.losses, 1e-4, 1e-4);
    got.weights.forEach((w, i) => {
      expectClose(w, ref.weights[i]!, 1e-4, 1e-3);
    });
    // Training moved the weights (the comparison above is not between two untouched models).
    expect(got.losses[2]).not.toBe(got.losses[0]);
  });
});
