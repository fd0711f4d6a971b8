/**
 * Issue 14, item 6: values that depend on the dataset's size (trainSubset, valFraction,
 * batchSize) are checked once, before any worker starts, naming the value and the dataset's
 * size; the sizes come from file headers, not from parsing the data.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { datasetCounts, datasetLimitProblems } from "../../src/data/counts.js";
import { ConfigError } from "../../src/errors.js";
import { runSweep } from "../../src/sweep/run-sweep.js";
import { runExperiment } from "../../src/train/run.js";
import { tinyBase } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-data-limits-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("dataset sizes without loading", () => {
  it("reads the counts of the synthetic set and the embedded Fashion-MNIST subset from headers", () => {
    expect(datasetCounts("synthetic")).toEqual({ train: 1000, test: 200, source: "synthetic" });
    const t0 = performance.now();
    const mini = datasetCounts("fashion-mnist-mini");
    expect(performance.now() - t0).toBeLessThan(200);
    expect(mini.train).toBeGreaterThan(0);
    expect(mini.test).toBeGreaterThan(0);
  });

  it("names each limit with the dataset's size", () => {
    const c = { train: 1000, test: 200, source: "synthetic" };
    const base = {
      dataset: "synthetic" as const,
      valFraction: 0.1,
      trainSubset: null,
      batchSize: 32,
    };
    expect(datasetLimitProblems(base, c)).toEqual([]);
    expect(datasetLimitProblems({ ...base, trainSubset: 5000 }, c)).toEqual([
      'trainSubset 5000 is larger than the 900 training images of "synthetic" left after the validation split (1000 images, valFraction 0.1 holds out 100); use trainSubset <= 900',
    ]);
    expect(datasetLimitProblems({ ...base, valFraction: 0.9999 }, c)).toEqual([
      'valFraction 0.9999 holds out 1000 of the 1000 training images of "synthetic", leaving none to train on; lower it',
    ]);
    expect(datasetLimitProblems({ ...base, valFraction: 0.0001 }, c)[0]).toBe(
      'valFraction 0.0001 holds out 0 of the 1000 training images of "synthetic" (rounded), so there is no validation split; use valFraction 0 to say so, or at least 0.0005',
    );
    expect(datasetLimitProblems({ ...base, trainSubset: 64, batchSize: 128 }, c)).toEqual([
      'batchSize 128 is larger than the 64 training images of "synthetic" (trainSubset 64): every epoch would be a single step of 64 images; use batchSize <= 64',
    ]);
  });
});

describe("a sweep whose trainSubset exceeds the dataset", () => {
  it("fails before any worker starts, once, naming the value and the size", async () => {
    const out = path.join(root, "too-big");
    const spec = {
      name: "too-big",
      base: tinyBase({ trainSubset: 5000 }),
      grid: { attention: ["none", "se"] },
      seeds: [1, 2],
    };
    const lines: string[] = [];
    const err = await runSweep(spec, { outDir: out, workers: 1, log: (l) => lines.push(l) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toBe(
      'ConfigError: sweep "too-big" asks more of its data than it holds (1 problem):\n  - runs attention=none__seed=1 and 3 more: trainSubset 5000 is larger than the 1000 training images of "synthetic" left after the validation split (1000 images, valFraction 0 holds out 0); use trainSubset <= 1000',
    );
    expect(lines).toEqual([]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("a single run says the same before parsing the data or writing a file", async () => {
    const dir = path.join(root, "single");
    await expect(
      runExperiment({ ...tinyBase({ trainSubset: 5000 }) }, { runDir: dir }),
    ).rejects.toThrow('trainSubset 5000 is larger than the 1000 training images of "synthetic"');
    expect(fs.existsSync(dir)).toBe(false);
  });
});
