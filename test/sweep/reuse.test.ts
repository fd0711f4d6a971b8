/**
 * Reuse across sweeps: an identical resolved config (same content key: config + training-code
 * hash) is trained once, whichever sweep asks for it, found by content and not by folder name.
 * Real sweeps on the synthetic dataset train the originals; the index's rules (which folders
 * count, which keys match) are checked on hand-made run folders, which train nothing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { expandRunsUnchecked, type SweepRun } from "../../src/sweep/expand.js";
import { resolveExperimentConfig } from "../../src/sweep/experiment.js";
import { REUSED_FILE, type ReusedRecord, runDirOf } from "../../src/sweep/layout.js";
import { findReusable, indexFinishedRuns, wantedRunKey } from "../../src/sweep/reuse.js";
import {
  checkSweep,
  runSweep,
  type SweepResult,
  type SweepRunOutcome,
} from "../../src/sweep/run-sweep.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { trainingCodeHash } from "../../src/util/code-hash.js";
import { tinyBase } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-reuse-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const BASE = tinyBase({ epochs: 1, lr: 0.05 });
/** The original: one run, lr=0.05 (from the base), seed 1. */
const SPEC_A = { name: "reuse-a", base: BASE, grid: { momentum: [0.9] }, seeds: [1] };
/**
 * Another sweep naming its runs by another key: weightDecay=0.0001 is the default, so that run's
 * resolved config equals SPEC_A's at seed 1; seed 2 and weightDecay=0.0005 differ.
 */
const SPEC_B = {
  name: "reuse-b",
  base: BASE,
  grid: { weightDecay: [0.0001, 0.0005] },
  seeds: [1, 2],
};
const A_ID = "momentum=0.9__seed=1";
const B_TWIN = "weightDecay=0.0001__seed=1";

interface Logged extends SweepResult {
  lines: string[];
  ended: SweepRunOutcome[];
}

async function sweep(spec: unknown, out: string, reuseRoot?: string): Promise<Logged> {
  const lines: string[] = [];
  const ended: SweepRunOutcome[] = [];
  const r = await runSweep(spec, {
    outDir: path.join(root, out),
    workers: 1,
    backend: "wasm",
    ...(reuseRoot ? { reuseRoot } : {}),
    log: (l) => lines.push(l),
    onRunEnd: (o) => ended.push(o),
  });
  return { ...r, lines, ended };
}

const file = (out: string, id: string, name: string) => path.join(root, out, id, name);
const read = (out: string, id: string, name: string) => fs.readFileSync(file(out, id, name));
/** Runs whose first epoch the sweep's workers trained (the training loop's own lines). */
const trainedIds = (lines: string[]) =>
  [...lines.join("\n").matchAll(/^\[\d\/\d ([^\]]+)\] epoch 1\/1/gm)].map((m) => m[1]!);

describe("reuse across sweeps (real training)", () => {
  it("trains a config shared by two sweeps in different folders once; the second copies it", async () => {
    const a = await sweep(SPEC_A, "a", root);
    expect(a.counts).toEqual({
      completed: 1,
      diverged: 0,
      done: 0,
      reused: 0,
      failed: 0,
      pending: 0,
      preempted: 0,
    });
    const env = JSON.parse(read("a", A_ID, "env.json").toString()) as {
      backend: { name: string };
      code: { codeHash: string };
    };
    expect(env.backend.name).toBe("wasm"); // the backend option reached the worker
    expect(env.code.codeHash).toBe(trainingCodeHash());
    expect(process.env.SENET_LAB_BACKEND).toBeUndefined();

    const b = await sweep(SPEC_B, "b", root);
    const byId = new Map(b.runs.map((r) => [r.id, r]));
    expect(byId.get(B_TWIN)?.status, b.lines.join("\n")).toBe("reused");
    expect(byId.get(B_TWIN)?.reusedFrom).toBe(path.join("a", A_ID));
    // A different seed, or a different value of a key, is a different experiment.
    expect(byId.get("weightDecay=0.0001__seed=2")?.status).toBe("completed");
    expect(byId.get("weightDecay=0.0005__seed=1")?.status).toBe("completed");
    expect(byId.get("weightDecay=0.0005__seed=2")?.status).toBe("completed");
    expect(b.counts).toEqual({
      completed: 3,
      diverged: 0,
      done: 0,
      reused: 1,
      failed: 0,
      pending: 0,
      preempted: 0,
    });
    expect(trainedIds(b.lines).sort()).toEqual([
      "weightDecay=0.0001 seed=2",
      "weightDecay=0.0005 seed=1",
      "weightDecay=0.0005 seed=2",
    ]);
    expect(b.lines.join("\n")).toMatch(/1 to reuse, 3 to run/);
    expect(b.lines.join("\n")).toMatch(
      /\] reused \(completed\) from a\/momentum=0\.9__seed=1, key [0-9a-f]{24}/,
    );
    // onRunEnd: once per run, with the run's outcome.
    expect(b.ended.map((o) => `${o.id}:${o.status}`).sort()).toEqual(
      b.runs.map((o) => `${o.id}:${o.status}`).sort(),
    );

    // The copy: byte-identical results, the model, and where it came from.
    for (const f of ["summary.json", "metrics.jsonl", "env.json"]) {
      expect(read("b", B_TWIN, f).equals(read("a", A_ID, f)), f).toBe(true);
    }
    expect(read("b", B_TWIN, "model/model.json").equals(read("a", A_ID, "model/model.json"))).toBe(
      true,
    );
    expect(JSON.parse(read("b", B_TWIN, "config.json").toString())).toEqual(
      JSON.parse(read("a", A_ID, "config.json").toString()),
    );
    const rec = JSON.parse(read("b", B_TWIN, REUSED_FILE).toString()) as ReusedRecord;
    expect(rec.from).toBe(path.join("a", A_ID));
    expect(rec.key).toMatch(/^[0-9a-f]{24}$/);
    expect(Number.isNaN(Date.parse(rec.at))).toBe(false);
    expect(fs.existsSync(file("b", B_TWIN, "checkpoint"))).toBe(false);

    // Status shows the copy as done, saying where from; a rerun finds everything done.
    const st = sweepStatus(path.join(root, "b"));
    expect(st.counts.done).toBe(4);
    expect(st.runs.find((r) => r.id === B_TWIN)?.reusedFrom).toBe(path.join("a", A_ID));
    const again = await sweep(SPEC_B, "b", root);
    expect(again.counts).toEqual({
      completed: 0,
      diverged: 0,
      done: 4,
      reused: 0,
      failed: 0,
      pending: 0,
      preempted: 0,
    });
    expect(again.ended.map((o) => o.status)).toEqual(["done", "done", "done", "done"]);
  }, 300_000);

  it("redoes a killed copy: files without summary.json are copied again, or trained without a source", async () => {
    // A copy killed just before its summary: everything else already in place.
    const spec = { ...SPEC_A, name: "reuse-killed" };
    for (const out of ["killed", "killed-alone"]) {
      const dir = path.join(root, out, A_ID);
      fs.mkdirSync(path.join(dir, "model"), { recursive: true });
      for (const f of ["config.json", "env.json", "metrics.jsonl", "model/model.json"]) {
        fs.copyFileSync(file("a", A_ID, f), path.join(dir, f));
      }
      fs.writeFileSync(
        path.join(dir, REUSED_FILE),
        JSON.stringify({ from: "x", key: "k", at: "" }),
      );
      fs.writeFileSync(path.join(dir, `.summary.json.${2 ** 22 + 7}.0badc0de.tmp`), '{"sta');
    }
    const r = await sweep(spec, "killed", path.join(root, "a"));
    expect(r.runs[0]?.status, r.lines.join("\n")).toBe("reused");
    expect(r.runs[0]?.reusedFrom).toBe(A_ID);
    expect(read("killed", A_ID, "summary.json").equals(read("a", A_ID, "summary.json"))).toBe(true);
    expect(
      fs.readdirSync(path.join(root, "killed", A_ID)).filter((f) => f.endsWith(".tmp")),
    ).toEqual([]);
    // Without anything to copy from, the half-copied folder trains from scratch and loses the
    // stale reused.json (its results are now its own).
    const alone = await sweep(spec, "killed-alone");
    expect(alone.runs[0]?.status, alone.lines.join("\n")).toBe("completed");
    expect(fs.existsSync(file("killed-alone", A_ID, REUSED_FILE))).toBe(false);
    expect(trainedIds(alone.lines)).toEqual(["momentum=0.9 seed=1"]);
    expect(read("killed-alone", A_ID, "summary.json").toString()).not.toBe("");
    const s1 = JSON.parse(read("killed-alone", A_ID, "summary.json").toString());
    const s0 = JSON.parse(read("a", A_ID, "summary.json").toString());
    expect(s1.testTop1).toBe(s0.testTop1); // same config, same code: same numbers
  }, 300_000);
});

/** A finished run folder made by hand (nothing trained): what the index reads. */
function fakeRun(
  dir: string,
  config: Record<string, unknown>,
  opts: { codeHash?: string | null; status?: string; backend?: string } = {},
): void {
  fs.mkdirSync(dir, { recursive: true });
  const resolved = resolveExperimentConfig(config);
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(resolved));
  const code =
    opts.codeHash === null ? {} : { code: { codeHash: opts.codeHash ?? trainingCodeHash() } };
  fs.writeFileSync(
    path.join(dir, "env.json"),
    JSON.stringify({ backend: { name: opts.backend ?? "wasm" }, ...code }),
  );
  fs.writeFileSync(
    path.join(dir, "summary.json"),
    JSON.stringify({ status: opts.status ?? "completed" }),
  );
}

/** A sweep manifest listing `ids`, so the index counts those folders as sweep runs. */
function fakeManifest(dir: string, ids: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "sweep.json"),
    JSON.stringify({ version: 1, runs: ids.map((id) => ({ id })) }),
  );
}

function runOf(config: Record<string, unknown>, seed: number): SweepRun {
  const spec = checkSweepShape({ name: "probe", base: config, grid: {}, seeds: [seed] });
  return expandRunsUnchecked(spec)[0]!;
}

describe("the reuse index (hand-made folders, no training)", () => {
  const idx = path.join(root, "index");
  const cfg = tinyBase({ epochs: 1 });

  it("keys runs by config and code hash, and counts only finished runs of sweeps", () => {
    fakeManifest(path.join(idx, "s1"), ["r1", "old", "running", "diverged", "other-code"]);
    fakeRun(path.join(idx, "s1", "r1"), { ...cfg, seed: 1 });
    fakeRun(path.join(idx, "s1", "old"), { ...cfg, seed: 2 }, { codeHash: null });
    fakeRun(path.join(idx, "s1", "running"), { ...cfg, seed: 3 }, { status: "running" });
    fakeRun(path.join(idx, "s1", "diverged"), { ...cfg, seed: 4 }, { status: "diverged" });
    fakeRun(path.join(idx, "s1", "other-code"), { ...cfg, seed: 5 }, { codeHash: "0".repeat(64) });
    // Not sweep runs, or in folders the scan skips: never candidates.
    fakeRun(path.join(idx, "no-manifest", "r"), { ...cfg, seed: 6 });
    for (const skipped of [".locks", "checkpoint", "model"]) {
      fakeManifest(path.join(idx, "s1", "r1", skipped), ["x"]);
      fakeRun(path.join(idx, "s1", "r1", skipped, "x"), { ...cfg, seed: 7 });
      fakeManifest(path.join(idx, skipped), ["x"]);
      fakeRun(path.join(idx, skipped, "x"), { ...cfg, seed: 7 });
    }
    fakeManifest(path.join(idx, "deep", "er", "s2"), ["r"]);
    fakeRun(path.join(idx, "deep", "er", "s2", "r"), { ...cfg, seed: 8 });

    const index = indexFinishedRuns(idx);
    // r1, diverged, other-code (indexed under its own code's key), deep/er/s2/r.
    expect(index.runs).toBe(4);
    const hit = (seed: number) =>
      findReusable(index, wantedRunKey(runOf(cfg, seed)), runOf(cfg, seed), "/nowhere")?.dir;
    expect(hit(1)).toBe(path.join(idx, "s1", "r1"));
    expect(hit(2)).toBeUndefined(); // env.json without code: never matched
    expect(hit(3)).toBeUndefined(); // not finished
    expect(hit(4)).toBe(path.join(idx, "s1", "diverged")); // a diverged run is a result too
    expect(hit(5)).toBeUndefined(); // trained by other code
    expect(hit(6)).toBeUndefined(); // not listed by a sweep manifest
    expect(hit(7)).toBeUndefined(); // under .locks/, checkpoint/, model/
    expect(hit(8)).toBe(path.join(idx, "deep", "er", "s2", "r"));
    // A run is never its own source; the scan is cheap.
    const self = runOf(cfg, 1);
    expect(
      findReusable(index, wantedRunKey(self), self, path.join(idx, "s1", "r1")),
    ).toBeUndefined();
    expect(index.seconds).toBeLessThan(1);
  });

  it("ignores where the data lives and the default backend, but honours an explicit backend", () => {
    const dir = path.join(idx, "backends");
    fakeManifest(dir, ["cpu"]);
    fakeRun(path.join(dir, "cpu"), { ...cfg, seed: 11, backend: "cpu" }, { backend: "cpu" });
    const index = indexFinishedRuns(dir);
    const probe = (backend: string | null) => {
      const run = runOf({ ...cfg, ...(backend ? { backend } : {}) }, 11);
      return findReusable(index, wantedRunKey(run), run, "/nowhere")?.dir;
    };
    expect(probe(null)).toBe(path.join(dir, "cpu"));
    expect(probe("cpu")).toBe(path.join(dir, "cpu"));
    expect(probe("wasm")).toBeUndefined(); // a backend comparison keeps its own runs
  });

  it("refuses a missing reuse root or a bad backend before writing anything", async () => {
    const out = path.join(root, "never");
    await expect(
      runSweep(SPEC_A, { outDir: out, reuseRoot: path.join(root, "nope"), log: () => {} }),
    ).rejects.toThrow(/reuseRoot ".*nope" does not exist/);
    await expect(
      runSweep(SPEC_A, { outDir: out, backend: "gpu" as never, log: () => {} }),
    ).rejects.toThrow(ConfigError);
    await expect(
      runSweep(SPEC_A, { outDir: out, backend: "gpu" as never, log: () => {} }),
    ).rejects.toThrow(
      'backend must be one of "auto", "tensorflow", "onednn", "wasm", "cpu"; got "gpu"',
    );
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe("checkExistingRuns and keys added to the config since a run started", () => {
  const spec = { name: "added-keys", base: tinyBase({ epochs: 1 }), grid: {}, seeds: [1] };
  const out = path.join(root, "added");
  const [run] = expandRunsUnchecked(checkSweepShape(spec));

  function storeWithout(key: string, config: Record<string, unknown> = spec.base): void {
    const stored = resolveExperimentConfig({ ...config, seed: 1 }) as unknown as Record<
      string,
      unknown
    >;
    delete stored[key];
    const dir = runDirOf(out, run!.id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(stored));
  }

  it("takes a missing key at its default (as resuming does), so the run is not refused", () => {
    storeWithout("testFlip");
    expect(() => checkSweep(spec, out)).not.toThrow();
    // A default that depends on other keys (cropPad on the dataset) is resolved from them.
    storeWithout("cropPad");
    expect(() => checkSweep(spec, out)).not.toThrow();
  });

  it("still refuses a spec that sets an added key to a non-default value, naming it", () => {
    storeWithout("testFlip");
    const changed = { ...spec, base: { ...spec.base, testFlip: true } };
    expect(() => checkSweep(changed, out)).toThrow(
      `run ${run!.id} was started with another config (testFlip: stored false, spec true)`,
    );
  });

  it("reports a stored config that no longer resolves as different, naming the missing key", () => {
    storeWithout("testFlip", spec.base);
    const dir = runDirOf(out, run!.id);
    const stored = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...stored, removedKey: 1 }));
    expect(() => checkSweep(spec, out)).toThrow(/testFlip: stored undefined, spec false/);
  });
});
