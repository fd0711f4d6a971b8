/**
 * 200 SGD steps of a small SE network leave tf.memory().numTensors exactly flat (the issue's
 * 1000-step check runs as `senet-lab bench --leak-check 1000`), and the check itself detects a
 * leak when there is one.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { runLeakCheck } from "../../src/bench/leak-check.js";
import { makeSgdStep } from "../../src/bench/train-step.js";
import { createModel } from "../../src/models/index.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

describe("leak check", () => {
  it("200 training steps of a small SE-ResNet leave numTensors flat", async () => {
    const before = tf.memory().numTensors;
    const model = createModel("se_resnet20", { depth: 8, width: 4, inputShape: [8, 8, 3] });
    const step = makeSgdStep(model, { batch: 2, lr: 0.05, momentum: 0.9 });
    const losses: number[] = [];
    const result = await runLeakCheck(
      async () => {
        losses.push(await step.step());
      },
      200,
      { model: "se_resnet20", batch: 2 },
    );
    step.dispose();
    model.dispose();
    expect(result.steps).toBe(200);
    expect(losses).toHaveLength(200);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(result.numTensors.length).toBeGreaterThanOrEqual(20);
    const counts = new Set(result.numTensors.map((s) => s.count));
    expect([...counts]).toHaveLength(1);
    expect(result.numTensorsFlat).toBe(true);
    // Model, batch and optimizer state are all freed afterwards.
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reports a leaking step as not flat", async () => {
    const kept: tf.Tensor[] = [];
    const result = await runLeakCheck(
      async () => {
        kept.push(tf.zeros([4]));
      },
      10,
      { model: "none", batch: 1 },
    );
    tf.dispose(kept);
    expect(result.numTensorsFlat).toBe(false);
    expect(result.numTensors.at(-1)!.count - result.numTensors[0]!.count).toBe(9);
  });
});
