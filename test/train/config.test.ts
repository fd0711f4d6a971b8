/**
 * resolveExperimentConfig: every default filled, idempotent, and every bad input an error
 * before any training (unknown keys list the valid ones; wrong types; impossible combinations).
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { MODEL_CONFIG_KEYS } from "../../src/models/index.js";
import { resolveExperimentConfig, TRAIN_CONFIG_KEYS } from "../../src/train/config.js";

describe("resolveExperimentConfig", () => {
  it("fills every default and is idempotent", () => {
    const c = resolveExperimentConfig({});
    expect(c.model).toBe("resnet20");
    expect(c.dataset).toBe("fashion-mnist");
    expect(c.inputShape).toEqual([28, 28, 1]); // from the dataset
    expect(c.numClasses).toBe(10);
    expect(c.schedule).toBe("cosine");
    expect(c.minLr).toBe(0);
    expect(c.milestones).toBeNull();
    for (const k of TRAIN_CONFIG_KEYS) expect(k in c).toBe(true);
    expect(resolveExperimentConfig(c as unknown as Record<string, unknown>)).toEqual(c);
    const m = resolveExperimentConfig({
      schedule: "multistep",
      epochs: 160,
      dataset: "cifar100",
      model: "se_resnet20",
    });
    expect(m.milestones).toEqual([80, 120]);
    expect(m.gamma).toBe(0.1);
    expect(m.numClasses).toBe(100);
    expect(m.attention).toBe("se");
    expect(m.hflip).toBe(true);
    expect(m.cropPad).toBe(4);
    expect(resolveExperimentConfig(m as unknown as Record<string, unknown>)).toEqual(m);
  });

  it("rejects unknown keys, listing the valid ones", () => {
    try {
      resolveExperimentConfig({ learningRate: 0.1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('unknown experiment config key "learningRate"');
      for (const k of ["model", ...MODEL_CONFIG_KEYS, ...TRAIN_CONFIG_KEYS])
        expect(msg).toContain(k);
    }
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["wrong type", { epochs: "10" }, /epochs must be an integer >= 1; got "10"/],
    ["negative lr", { lr: -1 }, /lr must be a positive number; got -1/],
    ["momentum 1", { momentum: 1 }, /momentum must be a number in \[0, 1\)/],
    [
      "nesterov without momentum",
      { nesterov: true, momentum: 0 },
      /nesterov=true needs momentum > 0/,
    ],
    [
      "unknown schedule",
      { schedule: "poly" },
      /schedule must be one of "constant", "step", "multistep", "cosine", "linear"; got "poly"/,
    ],
    [
      "milestones with cosine",
      { milestones: [5] },
      /milestones=\[5\] applies only to schedule "multistep"; schedule is "cosine"/,
    ],
    [
      "milestones past the end",
      { schedule: "multistep", epochs: 10, milestones: [5, 10] },
      /strictly increasing epochs in \[1, 9\]/,
    ],
    [
      "warm-up too long",
      { epochs: 5, warmupEpochs: 5 },
      /warmupEpochs \(5\) must be less than epochs \(5\)/,
    ],
    ["smoothing 1", { labelSmoothing: 1 }, /labelSmoothing must be a number in \[0, 1\)/],
    ["unknown dataset", { dataset: "imagenet" }, /dataset must be one of .*got "imagenet"/],
    [
      "shape mismatch",
      { dataset: "cifar10", inputShape: [28, 28, 1] },
      /inputShape \[28,28,1\] does not match dataset "cifar10"/,
    ],
    [
      "class mismatch",
      { dataset: "cifar100", numClasses: 10 },
      /numClasses=10 does not match dataset "cifar100", which has 100 classes/,
    ],
    ["unknown model", { model: "resnet21" }, /unknown model "resnet21"/],
    ["bad model key", { model: "resnet20", depth: 21 }, /depth .* 6n\+2/],
    [
      "cropPad too large",
      { dataset: "synthetic", cropPad: 12 },
      /cropPad must be below the 12-pixel image side/,
    ],
    [
      "dataDir for synthetic",
      { dataset: "synthetic", dataDir: "/x" },
      /dataDir does not apply to dataset "synthetic"/,
    ],
    ["bad backend", { backend: "webgl" }, /backend must be one of/],
    ["seed", { seed: 1.5 }, /seed must be an integer/],
  ];
  for (const [what, raw, msg] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => resolveExperimentConfig(raw)).toThrow(ConfigError);
      expect(() => resolveExperimentConfig(raw)).toThrow(msg);
    });
  }
});
