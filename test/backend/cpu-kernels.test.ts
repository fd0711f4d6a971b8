/**
 * The cpu backend's replaced Conv2DBackpropFilter against the original tfjs kernel on the same
 * inputs, and a few training steps of a small conv net with the replacement against the original.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { CPU_REPLACED_KERNELS, registerCpuTrainingKernels } from "../../src/backend/cpu-kernels.js";
import {
  installTrainingKernel,
  originalKernel,
  restoreOriginalKernel,
  runKernelConfig,
} from "../../src/backend/training-kernels.js";
import { CONV_CASES, expectClose, kernelCall, label, trainSmallNet } from "./grad-cases.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
  registerCpuTrainingKernels();
});

describe("cpu training kernels", () => {
  it("replaces Conv2DBackpropFilter and keeps the original", () => {
    expect(CPU_REPLACED_KERNELS).toContain("Conv2DBackpropFilter");
    const original = originalKernel("Conv2DBackpropFilter", "cpu");
    expect(original).toBeDefined();
    expect(tf.getKernel("Conv2DBackpropFilter", "cpu")?.kernelFunc).not.toBe(original?.kernelFunc);
  });

  for (const c of CONV_CASES) {
    it(`Conv2DBackpropFilter ${label(c)} matches the original kernel`, async () => {
      const call = kernelCall("conv", c);
      const original = originalKernel("Conv2DBackpropFilter", "cpu")!;
      const ref = runKernelConfig(original, { x: call.x, dy: call.dy }, call.filterAttrs);
      const before = tf.memory().numTensors;
      const got = tf
        .engine()
        .runKernel(
          "Conv2DBackpropFilter",
          { x: call.x, dy: call.dy },
          call.filterAttrs as never,
        ) as tf.Tensor;
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(got.shape).toEqual(ref.shape);
      expectClose(await got.data(), await ref.data());
      tf.dispose([got, ref, call.x, call.dy, call.filter]);
    });
  }

  it("NCHW data format gives the NHWC result, transposed", async () => {
    const c = CONV_CASES[2]!;
    const call = kernelCall("conv", c);
    const nhwc = tf
      .engine()
      .runKernel(
        "Conv2DBackpropFilter",
        { x: call.x, dy: call.dy },
        call.filterAttrs as never,
      ) as tf.Tensor;
    const nchw = tf
      .engine()
      .runKernel(
        "Conv2DBackpropFilter",
        { x: tf.transpose(call.x, [0, 3, 1, 2]), dy: tf.transpose(call.dy, [0, 3, 1, 2]) },
        { ...call.filterAttrs, dataFormat: "NCHW" } as never,
      ) as tf.Tensor;
    expectClose(await nchw.data(), await nhwc.data());
  });

  it("three SGD steps of a small conv net match the original kernel's", async () => {
    restoreOriginalKernel("Conv2DBackpropFilter", "cpu");
    const ref = await trainSmallNet(3);
    installTrainingKernel("Conv2DBackpropFilter", "cpu");
    const before = tf.memory().numTensors;
    const got = await trainSmallNet(3);
    expect(tf.memory().numTensors).toBe(before);
    expectClose(got.losses, ref.losses, 1e-5, 1e-5);
    got.weights.forEach((w, i) => {
      expectClose(w, ref.weights[i]!, 1e-5, 1e-4);
    });
  });
});
