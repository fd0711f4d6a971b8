/**
 * Issue 14, item 11: config keys the network never reads (reduction without SE, groups on an SE
 * model) are refused, naming the key, the model and why; a sweep's base may hold a key that
 * only some of its runs read (notebook 04's base {reduction: 8, groups: 4} over attention ∈
 * {none, se, sge}), but a grid may not vary a key its runs do not read.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { resolveSweepSpec } from "../../src/sweep/resolve.js";
import {
  checkKeysApply,
  isCompleteConfig,
  resolveExperimentConfig,
} from "../../src/train/config.js";
import { runExperiment } from "../../src/train/run.js";

const tiny = { dataset: "synthetic", model: "resnet20", depth: 8, width: 4, epochs: 1 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-keys-"));

describe("a single run", () => {
  it("refuses reduction without attention and groups on an SE model, before writing anything", async () => {
    const dir = path.join(tmp, "r1");
    await expect(runExperiment({ ...tiny, reduction: 8 }, { runDir: dir })).rejects.toThrow(
      'the config: reduction=8 does not apply to model "resnet20" with attention "none": only attention "se" reads it, so it would change nothing (runs differing only in it train identical networks); remove reduction, or set attention to "se"',
    );
    expect(fs.existsSync(dir)).toBe(false);
    await expect(
      runExperiment({ ...tiny, model: "se_resnet20", groups: 4 }, { runDir: dir }),
    ).rejects.toThrow(
      'groups=4 does not apply to model "se_resnet20" with attention "se": only attention "sge" reads it',
    );
    expect(() =>
      checkKeysApply({ ...tiny, stages: [4] }, resolveExperimentConfig({ ...tiny, stages: [4] })),
    ).toThrow(/stages=\[4\] does not apply .* only attention "se" or "sge" reads it/);
  });

  it("accepts keys that apply, and complete (resolved) configs as config.json holds them", () => {
    const raw = { ...tiny, attention: "se", reduction: 4, stages: [3, 4] };
    expect(() => checkKeysApply(raw, resolveExperimentConfig(raw))).not.toThrow();
    // A resolved config lists every key (reduction 16 for a plain net too): not checked again.
    const resolved = resolveExperimentConfig(tiny) as unknown as Record<string, unknown>;
    expect(resolved.reduction).toBe(16);
    expect(isCompleteConfig(resolved)).toBe(true);
    expect(() => checkKeysApply(resolved, resolveExperimentConfig(resolved))).not.toThrow();
    expect(isCompleteConfig(tiny)).toBe(false);
  });
});

describe("a sweep", () => {
  it("allows a base key that some runs read (notebook 04's base)", () => {
    const spec = {
      name: "depth",
      base: { ...tiny, reduction: 8, groups: 4 },
      grid: { attention: ["none", "se", "sge"] },
      seeds: [1],
    };
    expect(() => resolveSweepSpec(spec)).not.toThrow();
  });

  it("refuses a grid over a key its runs do not read, naming key, model and runs", () => {
    const spec = {
      name: "g",
      base: { ...tiny, attention: "se" },
      grid: { groups: [4, 8] },
      seeds: [1],
    };
    expect(() => resolveSweepSpec(spec)).toThrow(ConfigError);
    expect(() => resolveSweepSpec(spec)).toThrow(
      'run groups=4__seed=1: grid key groups=4 does not apply to model "resnet20" with attention "se": only attention "sge" reads it',
    );
    // Mixed: the grid varies reduction across attention types; the SGE runs would be identical.
    const mixed = {
      name: "m",
      base: tiny,
      grid: { attention: ["se", "sge"], reduction: [4, 8] },
      seeds: [1],
    };
    expect(() => resolveSweepSpec(mixed)).toThrow(
      /run attention=sge__reduction=4__seed=1: grid key reduction=4 does not apply .*attention "sge"/,
    );
  });

  it("refuses a base key that no run reads", () => {
    const spec = {
      name: "b",
      base: { ...tiny, attention: "se", groups: 4 },
      grid: { reduction: [4, 8] },
      seeds: [1],
    };
    expect(() => resolveSweepSpec(spec)).toThrow(
      '"base": groups=4 does not apply to model "resnet20" with attention "se": only attention "sge" reads it, so it would change nothing (runs differing only in it train identical networks), in every run of the sweep; a base key may serve only some runs, but at least one must read it: remove groups from "base"',
    );
  });
});
