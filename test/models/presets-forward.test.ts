/**
 * Every preset builds (random init) and runs one forward pass on the cpu backend: batch 1 at
 * the smallest input each allows, to keep the file near a minute on 2 cores: 32×32 (ImageNet
 * nets then end at 1×1 in conv5_x), except 64×64 for SGE ImageNet nets, whose unbiased std
 * needs at least 2×2 positions in conv5_x. Checks: logits of shape [1, numClasses], all finite,
 * not all equal.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { createModel, listModels, presetConfig } from "../../src/models/index.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

describe("every preset builds and runs forward", () => {
  it("lists the presets the papers use", () => {
    const names = listModels();
    for (const n of [
      "resnet20",
      "se_resnet110",
      "sge_resnet56",
      "resnet164",
      "resnet50",
      "se_resnet152",
      "sge_resnet101",
      "se_resnext101_32x4d",
      "se_mobilenet_v1",
    ]) {
      expect(names).toContain(n);
    }
  });

  it.each(listModels())("%s", async (name) => {
    // Let vitest's RPC messages through between these long synchronous builds.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const preset = presetConfig(name);
    const size = preset.attention === "sge" && preset.inputShape[0] > 32 ? 64 : 32;
    const model = createModel(name, { inputShape: [size, size, 3] });
    try {
      const numClasses = preset.numClasses;
      const x = tf.randomNormal([1, size, size, 3], 0, 1, "float32", 7);
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, numClasses]);
      const values = y.dataSync();
      expect(values.every((v) => Number.isFinite(v))).toBe(true);
      // Not all equal: the network actually transformed the input (a broken graph gives bias only).
      expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(0);
      tf.dispose([x, y]);
    } finally {
      model.dispose();
    }
  });
});
