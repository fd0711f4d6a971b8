/**
 * runExperiment end to end on the synthetic dataset with a tiny zoo ResNet (depth 8, width 4)
 * on the cpu backend: the files it writes, reproducibility (same config and seed give identical
 * numbers; another seed does not), resume after an interruption ending with exactly the
 * numbers of an uninterrupted run, a finished folder returned without training, and
 * divergence reported as a status, not an exception.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { listCheckpoints } from "../../src/train/checkpoint.js";
import { runExperiment } from "../../src/train/run.js";
import { type EpochRecord, type RunSummary, readRun } from "../../src/train/run-folder.js";
import { epochNumbers, summaryNumbers } from "../util/timing-free.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-train-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

/** The tiny experiment: 64 training images, 2 batches an epoch. */
const tiny = {
  dataset: "synthetic",
  model: "resnet20",
  depth: 8,
  width: 4,
  trainSubset: 64,
  batchSize: 32,
  lr: 0.05,
  epochs: 3,
  seed: 7,
  backend: "cpu",
};

/** Metrics without the timing fields, which legitimately differ between runs. */
const numbers = (ms: EpochRecord[]) => epochNumbers(ms);
const outcome = (s: RunSummary) => summaryNumbers(s);

describe("runExperiment", () => {
  let first: RunSummary;

  it("trains a zoo ResNet, writes every file, and its training loss falls", async () => {
    const dir = path.join(tmp, "a");
    const lines: string[] = [];
    const epochs: number[] = [];
    const tensorsBefore = tf.memory().numTensors;
    first = await runExperiment(tiny, {
      runDir: dir,
      progress: "none",
      log: (l) => lines.push(l),
      onEpoch: (r) => epochs.push(r.epoch),
    });
    expect(first.status).toBe("completed");
    expect(tf.memory().numTensors).toBe(tensorsBefore); // nothing leaked, model and optimizer freed
    expect(first.epochs).toBe(3);
    expect(epochs).toEqual([1, 2, 3]);
    for (const f of ["config.json", "env.json", "metrics.jsonl", "summary.json"]) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true);
    }
    expect(listCheckpoints(dir).map((c) => c.epoch)).toEqual([3]); // older ones removed
    const run = readRun(dir);
    expect(run.config.depth).toBe(8);
    expect(run.config.schedule).toBe("cosine");
    expect(run.metrics).toHaveLength(3);
    expect(run.summary).toEqual(first);
    expect(run.env?.backend.name).toBe("cpu");
    expect(run.env?.versions.tfjs).toBe(tf.version.tfjs);
    expect(run.env?.data).toMatchObject({
      source: "synthetic",
      counts: { train: 64, val: 100, test: 200 },
    });
    const m = run.metrics;
    expect(m[0]!.lr).toBeCloseTo(0.05, 12);
    expect(m[2]!.lr).toBeLessThan(m[1]!.lr);
    expect(m[2]!.trainLoss!).toBeLessThan(m[0]!.trainLoss!);
    expect(first.testTop5!).toBeGreaterThanOrEqual(first.testTop1!);
    expect(first.testError).toBeCloseTo(100 * (1 - first.testTop1!), 10);
    expect(first.params).toBeGreaterThan(1000);
    expect(first.bestValTop1).toBe(Math.max(...m.map((r) => r.valTop1!)));
    expect(lines.filter((l) => /epoch \d\/3/.test(l))).toHaveLength(3);
  });

  it("learns: a linear classifier trained by the loop beats chance by far on synthetic data", async () => {
    const s = await runExperiment(
      { ...tiny, trainSubset: 500, batchSize: 50, epochs: 3, augment: false },
      {
        runDir: path.join(tmp, "linear"),
        progress: "none",
        buildModel: (c) =>
          tf.sequential({
            layers: [
              tf.layers.flatten({ inputShape: c.inputShape }),
              tf.layers.dense({ units: c.numClasses }),
            ],
          }),
      },
    );
    expect(s.status).toBe("completed");
    expect(s.testTop1!).toBeGreaterThan(0.9); // chance is 0.1 on 10 balanced classes
    expect(s.params).toBe(12 * 12 * 3 * 10 + 10);
  });

  it("is reproducible: same config and seed give identical numbers, another seed does not", async () => {
    const again = await runExperiment(tiny, { runDir: path.join(tmp, "b"), progress: "none" });
    expect(outcome(again)).toEqual(outcome(first));
    expect(numbers(readRun(path.join(tmp, "b")).metrics)).toEqual(
      numbers(readRun(path.join(tmp, "a")).metrics),
    );
    const other = await runExperiment(
      { ...tiny, seed: 8, epochs: 1 },
      { runDir: path.join(tmp, "c"), progress: "none" },
    );
    expect(other.trainLoss).not.toBe(readRun(path.join(tmp, "a")).metrics[0]!.trainLoss);
  });

  it("resumes an interrupted run from its checkpoint to the same final numbers", async () => {
    const dir = path.join(tmp, "resume");
    await expect(
      runExperiment(tiny, {
        runDir: dir,
        progress: "none",
        onEpoch: (r) => {
          if (r.epoch === 2) throw new Error("killed after epoch 2");
        },
      }),
    ).rejects.toThrow("killed after epoch 2");
    expect(fs.existsSync(path.join(dir, "summary.json"))).toBe(false);
    expect(listCheckpoints(dir).map((c) => c.epoch)).toEqual([2]);
    // A later epoch's record appended before a kill is dropped on resume: metrics mirror the checkpoint.
    fs.appendFileSync(path.join(dir, "metrics.jsonl"), '{"epoch":3,"stale":true}\n');
    const seen: number[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const resumed = await runExperiment(tiny, {
      runDir: dir,
      progress: "none",
      onEpoch: (r) => seen.push(r.epoch),
    });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(seen).toEqual([3]);
    expect(resumed.resumedFromEpoch).toBe(2);
    expect(outcome(resumed)).toEqual(outcome(first));
    expect(numbers(readRun(dir).metrics)).toEqual(numbers(readRun(path.join(tmp, "a")).metrics));
  });

  it("returns a finished run's summary without training, and refuses a folder of another config", async () => {
    const dir = path.join(tmp, "a");
    let trained = false;
    const s = await runExperiment(tiny, {
      runDir: dir,
      progress: "none",
      onEpoch: () => (trained = true),
    });
    expect(trained).toBe(false);
    expect(s).toEqual(first);
    await expect(
      runExperiment({ ...tiny, lr: 0.1 }, { runDir: dir, progress: "none" }),
    ).rejects.toThrow(/holds a run of a different config/);
  });

  it("marks a run that hits NaN/Inf as diverged, writes its summary, and does not throw", async () => {
    const dir = path.join(tmp, "diverge");
    const s = await runExperiment(
      { ...tiny, lr: 1e38, momentum: 0, weightDecay: 0 },
      {
        runDir: dir,
        progress: "none",
        // A network without BN, so a huge step overflows at once.
        buildModel: (c) =>
          tf.sequential({
            layers: [
              tf.layers.flatten({ inputShape: c.inputShape }),
              tf.layers.dense({ units: c.numClasses }),
            ],
          }),
      },
    );
    expect(s.status).toBe("diverged");
    expect(s.divergedAt?.epoch).toBe(1);
    expect(s.testTop1).toBeNull();
    expect(readRun(dir).summary?.status).toBe("diverged");
    expect(readRun(dir).metrics.at(-1)?.diverged).toBe(true);
  });

  it("fails on bad input before writing anything", async () => {
    const dir = path.join(tmp, "bad");
    await expect(runExperiment({ ...tiny, epochs: 0 }, { runDir: dir })).rejects.toThrow(
      /epochs must be an integer >= 1/,
    );
    await expect(
      runExperiment(
        { ...tiny, dataset: "cifar10", dataDir: path.join(tmp, "none"), inputShape: undefined },
        { runDir: dir },
      ),
    ).rejects.toThrow(/"cifar10" not found/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
