/**
 * The notebook session on real (tiny) training: a notebook's sweep trains into
 * <root>/<notebook>/<preset>/<name>, a second notebook asking for the same config reuses the
 * finished run instead of training it, runs.json and the progress file say which was which, and a
 * run whose trained weights are missing (a clone without them) is trained again for
 * `needWeights` sweeps.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  notebookSweepRoot,
  PROGRESS_FILE_ENV,
  REUSE_ONLY_ENV,
  RUNS_FILE,
  SWEEP_DIR_ENV,
  startNotebook,
} from "../../src/experiments/notebook.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

const saved = { sweep: process.env[SWEEP_DIR_ENV], progress: process.env[PROGRESS_FILE_ENV] };
let tmp = "";
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-lab-notebook-"));
  process.env[SWEEP_DIR_ENV] = path.join(tmp, "sweeps");
  process.env[PROGRESS_FILE_ENV] = path.join(tmp, "progress.jsonl");
});
afterAll(() => {
  for (const [k, v] of [
    [SWEEP_DIR_ENV, saved.sweep],
    [PROGRESS_FILE_ENV, saved.progress],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("notebookSweepRoot", () => {
  it("is <SENET_LAB_SWEEP_DIR or results/sweeps>/<notebook>/<preset>, plain names only", () => {
    expect(notebookSweepRoot("02_x", "smoke")).toBe(path.join(tmp, "sweeps", "02_x", "smoke"));
    delete process.env[SWEEP_DIR_ENV];
    try {
      expect(notebookSweepRoot("02_x", "quick")).toBe(
        path.join(PROJECT_ROOT, "results", "sweeps", "02_x", "quick"),
      );
    } finally {
      process.env[SWEEP_DIR_ENV] = path.join(tmp, "sweeps");
    }
    expect(() => notebookSweepRoot("../x", "quick")).toThrow(ConfigError);
    expect(() => notebookSweepRoot("x", "a/b")).toThrow(/preset must be a plain folder name/);
  });
});

describe("startNotebook", () => {
  it("refuses bad parameters before anything runs", async () => {
    await expect(startNotebook({ notebook: "n", preset: "fast" })).rejects.toThrow(
      /preset must be one of "smoke", "quick", "standard", "paper"; got "fast"/,
    );
    await expect(startNotebook({ notebook: "n", backend: "gpu" })).rejects.toThrow(
      /backend must be one of auto, tensorflow, onednn, wasm, cpu; got "gpu"/,
    );
    await expect(startNotebook({ notebook: "n", preset: "smoke", workers: 1.5 })).rejects.toThrow(
      /workers must be an integer >= 0; got 1.5/,
    );
    await expect(startNotebook({ notebook: "a/b" })).rejects.toThrow(ConfigError);
  });

  it("trains once, reuses in another notebook, records it, and retrains runs without weights", {
    timeout: 120_000,
  }, async () => {
    const print = console.log;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      const spec = { name: "base", base: { model: "resnet20" } };
      const first = await startNotebook({ notebook: "nb1", preset: "smoke", workers: 1 });
      expect(first.preset.dataset).toBe("synthetic");
      const d1 = await first.sweep(spec);
      const second = await startNotebook({ notebook: "nb2", preset: "smoke", workers: 1 });
      const d2 = await second.sweep(spec);
      const runs1 = JSON.parse(fs.readFileSync(path.join(first.root, RUNS_FILE), "utf8"));
      const runs2 = JSON.parse(fs.readFileSync(path.join(second.root, RUNS_FILE), "utf8"));
      expect(runs1.runs).toMatchObject([{ sweep: "base", id: "seed=0", status: "trained" }]);
      expect(runs2.runs).toMatchObject([{ sweep: "base", id: "seed=0", status: "reused" }]);
      expect(runs2.runs[0].key).toBe(runs1.runs[0].key);
      const summary = (d: string) =>
        fs.readFileSync(path.join(d, "seed=0", "summary.json"), "utf8");
      expect(summary(d2)).toBe(summary(d1));
      expect(lines.some((l) => /^backend: /.test(l))).toBe(true);
      expect(lines).toContain(
        lines.find((l) => /^sweep base: 1 runs \(0 trained now, 1 reused/.test(l)),
      );
      const events = fs
        .readFileSync(path.join(tmp, "progress.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(events.filter((e) => e.event === "run").map((e) => [e.notebook, e.status])).toEqual([
        ["nb1", "trained"],
        ["nb2", "reused"],
      ]);
      // The final weights load and predict; without them (and without a checkpoint) a
      // needWeights sweep sets the run aside and trains it again.
      const model = await second.trainedModel(d2, "seed=0");
      expect(model.outputs[0]!.shape[1]).toBe(10);
      model.dispose();
      for (const d of [d1, d2]) {
        fs.rmSync(path.join(d, "seed=0", "model"), { recursive: true, force: true });
        fs.rmSync(path.join(d, "seed=0", "checkpoint"), { recursive: true, force: true });
      }
      await expect(second.trainedModel(d2, "seed=0")).rejects.toThrow(
        /has neither its final weights \(model\/\) nor a checkpoint/,
      );
      await second.sweep({ ...spec, needWeights: true });
      expect(fs.existsSync(path.join(d2, "seed=0", "model", "model.json"))).toBe(true);
      expect(fs.readdirSync(path.join(d2, ".no-weights"))).toHaveLength(1);
      const after = JSON.parse(fs.readFileSync(path.join(second.root, RUNS_FILE), "utf8"));
      expect(after.runs).toMatchObject([{ status: "trained" }]);
    } finally {
      console.log = print;
    }
  });

  it("with SENET_LAB_REUSE_ONLY=1 a sweep that would train fails at once, naming the runs", async () => {
    const print = console.log;
    console.log = () => {};
    process.env[REUSE_ONLY_ENV] = "1";
    try {
      const lab = await startNotebook({ notebook: "nb3", preset: "smoke", workers: 1 });
      // Finished elsewhere (nb1): reused, nothing trained.
      await lab.sweep({ name: "base", base: { model: "resnet20" } });
      await expect(
        lab.sweep({ name: "other", base: { model: "resnet20", lr: 0.02 } }),
      ).rejects.toThrow(/SENET_LAB_REUSE_ONLY=1 and sweep other would train 1 run\(s\).*seed=0/);
      expect(fs.existsSync(path.join(lab.root, "other", "seed=0"))).toBe(false);
    } finally {
      delete process.env[REUSE_ONLY_ENV];
      console.log = print;
    }
  });
});
