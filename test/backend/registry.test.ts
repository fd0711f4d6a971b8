/**
 * What every backend loader registers: the gradients tfjs lacks (StridedSlice for the option-A
 * shortcut, our training batch norm's) are registered before any loader runs, so a backend
 * cannot miss one — the tensorflow loader once did, and CIFAR ResNets could not train on
 * tfjs-node. Our training kernels (src/ops) give the same numbers on every backend that loads
 * here, through its registered kernel (onednn) or the tf-ops form (the others).
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { AUTO_ORDER, initBackend, probeBackend } from "../../src/backend/index.js";
import { buildModel } from "../../src/models/index.js";
import {
  CUSTOM_KERNEL_NAMES,
  EXTRA_GRADIENT_NAMES,
  fusedBatchNorm,
  hasKernel,
  movingAverage,
  sgdUpdate,
} from "../../src/ops/index.js";

describe("extra gradients, for every backend loader", () => {
  it("are registered by probing the tensorflow loader, whether or not it loads here", async () => {
    // This file's process has loaded no backend yet: nothing has registered them.
    for (const name of EXTRA_GRADIENT_NAMES) expect(tf.getGradient(name), name).toBeUndefined();
    await probeBackend("tensorflow");
    for (const name of EXTRA_GRADIENT_NAMES) expect(tf.getGradient(name), name).toBeDefined();
  });
});

/** sgdUpdate, movingAverage and fusedBatchNorm (forward and gradients) on fixed inputs. */
function customOps(): number[][] {
  return tf.tidy(() => {
    const w = tf.tensor1d([0.5, -1.25, 2, 0.125, -3, 1]);
    const g = tf.tensor1d([0.1, 0.2, -0.3, 0.4, -0.5, 0.6]);
    const b = tf.tensor1d([0.01, -0.02, 0.03, -0.04, 0.05, -0.06]);
    const sgd = sgdUpdate(w, g, b, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
    const ma = movingAverage(w, g, 0.99);
    const x = tf.tensor2d([1, 2, 3, -1, 0.5, 4, 2, -2, 1, 0, 3, 3], [4, 3]);
    const gamma = tf.tensor1d([1.5, 0.5, -1]);
    const beta = tf.tensor1d([0.1, 0, -0.2]);
    const r = tf.tensor2d([0.3, -0.1, 0.2, 0.5, 0.4, -0.6, 0.1, 0.2, -0.3, 0.7, -0.2, 0.1], [4, 3]);
    const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(fusedBatchNorm(xx, gg, bb).y, r));
    const grads = tf.grads(f)([x, gamma, beta]);
    const bn = fusedBatchNorm(x, gamma, beta);
    return [sgd.w, sgd.b!, ma, bn.y, bn.mean, bn.variance, ...grads].map((t) =>
      Array.from(t.dataSync()),
    );
  });
}

describe("training kernels and gradients on every backend that loads here", () => {
  const reference: { value?: number[][] } = {};
  for (const name of AUTO_ORDER) {
    it(`${name}: a PadShortcut ResNet trains, and our ops match the cpu's tf-ops form`, async (ctx) => {
      const probe = await probeBackend(name);
      if (!probe.ok) {
        ctx.skip(`${name} does not load here: ${probe.reason}`);
        return;
      }
      await initBackend(name, { quiet: true });
      const kernels = CUSTOM_KERNEL_NAMES.filter((k) => hasKernel(k));
      // A backend registers all of our kernels or none (then every op runs in tf ops).
      expect([0, CUSTOM_KERNEL_NAMES.length]).toContain(kernels.length);
      if (name === "onednn") expect(kernels).toEqual([...CUSTOM_KERNEL_NAMES]);

      const model = buildModel({ arch: "resnet-cifar", depth: 8, width: 4, inputShape: [8, 8, 1] });
      const x = tf.randomNormal([2, 8, 8, 1], 0, 1, "float32", 1);
      const y = tf.oneHot(tf.tensor1d([1, 3], "int32"), 10);
      const { grads } = tf.variableGrads(() =>
        tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
      );
      const norms = Object.values(grads).map((t) => tf.norm(t).dataSync()[0]!);
      expect(norms.length).toBeGreaterThan(10);
      expect(norms.every((n) => Number.isFinite(n))).toBe(true);
      tf.dispose([x, y, ...Object.values(grads)]);
      model.dispose();

      const got = customOps();
      if (name === "cpu" || !reference.value) {
        // The cpu runs last in AUTO_ORDER; compute the tf-ops reference there on first need.
        await initBackend("cpu", { quiet: true });
        reference.value = customOps();
        await initBackend(name, { quiet: true });
      }
      for (let i = 0; i < got.length; i++) {
        for (let j = 0; j < got[i]!.length; j++) {
          expect(got[i]![j]!, `output ${i}[${j}]`).toBeCloseTo(reference.value[i]![j]!, 5);
        }
      }
    });
  }
});
