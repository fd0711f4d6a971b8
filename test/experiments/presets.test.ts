/** The preset table: every preset resolves to a valid experiment config; bad names are refused. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  PRESET_NAMES,
  presetFolderName,
  resolvePreset,
  TRAINING_PRESETS,
} from "../../src/experiments/presets.js";
import { sweepFolderOf } from "../../src/notebook/training.js";
import { resolveExperimentConfig } from "../../src/train/config.js";

const savedDataDir = process.env.SENET_LAB_DATA_DIR;
afterEach(() => {
  if (savedDataDir === undefined) delete process.env.SENET_LAB_DATA_DIR;
  else process.env.SENET_LAB_DATA_DIR = savedDataDir;
});

describe("training presets", () => {
  it("lists smoke, quick, standard, paper, cheapest first", () => {
    expect(PRESET_NAMES).toEqual(["smoke", "quick", "standard", "paper"]);
  });

  it("every preset gives a valid ResNet-20 experiment config with its seeds", () => {
    for (const name of PRESET_NAMES) {
      const p = resolvePreset(name, { dataset: name === "smoke" ? "synthetic" : "fashion-mnist" });
      const c = resolveExperimentConfig({ model: "resnet20", ...p.train });
      expect(c.dataset).toBe(p.dataset);
      expect(p.seeds.length).toBeGreaterThan(0);
      expect(p.description.length).toBeGreaterThan(10);
    }
  });

  it("quick is one epoch of the one-cycle recipe on the full Fashion-MNIST, 3 seeds", () => {
    const p = resolvePreset("quick", { dataset: "fashion-mnist" });
    const c = resolveExperimentConfig({ model: "resnet20", ...p.train });
    expect(c).toMatchObject({
      epochs: 1,
      trainSubset: null,
      valFraction: 0,
      schedule: "linear",
      nesterov: true,
      labelSmoothing: 0.1,
      augment: false,
      testFlip: false,
    });
    expect(p.seeds).toEqual([0, 1, 2]);
  });

  it("paper is the reference CIFAR recipe, falling back to Fashion-MNIST without CIFAR", () => {
    process.env.SENET_LAB_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "no-cifar-"));
    const p = resolvePreset("paper");
    expect(TRAINING_PRESETS.paper.datasets).toEqual(["cifar100", "cifar10", "fashion-mnist"]);
    expect(p.dataset).toBe("fashion-mnist");
    expect(p.train).toMatchObject({ epochs: 200, lr: 0.1, schedule: "step", stepSize: 80 });
  });

  it("refuses an unknown preset, naming it and the valid ones", () => {
    expect(() => resolvePreset("fast")).toThrow(ConfigError);
    expect(() => resolvePreset("fast")).toThrow(
      /preset must be one of "smoke", "quick", "standard", "paper"; got "fast"/,
    );
    expect(() => resolvePreset(3)).toThrow(/got 3/);
  });
});

describe("a forced dataset", () => {
  it("is a known name present here, or a ConfigError saying what is allowed and how to get it", () => {
    expect(resolvePreset("quick", { dataset: "auto" }).dataset).toBe("fashion-mnist");
    expect(resolvePreset("quick", { dataset: "synthetic" }).dataset).toBe("synthetic");
    expect(() => resolvePreset("quick", { dataset: "imagenet" })).toThrow(
      /dataset must be "auto" \(the preset's choice\) or one of "fashion-mnist", .*"cifar100".*; got "imagenet"/,
    );
    const saved = { data: process.env.SENET_LAB_DATA_DIR, xdg: process.env.XDG_CACHE_HOME };
    process.env.SENET_LAB_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "no-cifar-"));
    process.env.XDG_CACHE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), "no-cache-"));
    try {
      expect(() => resolvePreset("quick", { dataset: "cifar100" })).toThrow(
        /dataset "cifar100" is not on this machine: run 'senet-lab data get cifar100'/,
      );
    } finally {
      for (const [k, v] of [
        ["SENET_LAB_DATA_DIR", saved.data],
        ["XDG_CACHE_HOME", saved.xdg],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it("gets its own sweep folder, so it never mixes with the preset's runs", () => {
    expect(presetFolderName("quick")).toBe("quick");
    expect(presetFolderName("quick", "auto")).toBe("quick");
    expect(presetFolderName("quick", "cifar100")).toBe("quick-cifar100");
    expect(sweepFolderOf({ preset: "paper" })).toBe("paper");
    expect(sweepFolderOf({ preset: "paper", dataset: "auto" })).toBe("paper");
    expect(sweepFolderOf({ preset: "quick", dataset: "cifar10" })).toBe("quick-cifar10");
    expect(sweepFolderOf({ preset: "quick", dataset: "../x" })).toBeUndefined();
    expect(sweepFolderOf({})).toBeUndefined();
  });
});
