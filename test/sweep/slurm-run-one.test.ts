/**
 * `senet-lab sweep run-one`, what each SLURM array task runs, without a cluster: the index from
 * --index or SLURM_ARRAY_TASK_ID, its errors, and the exit codes 0 (trained), 3 (already done),
 * 75 (another live process holds the run) and 1 (failed, with the same failure record the local
 * pool writes, cleared when the run later completes).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expandRunsUnchecked } from "../../src/sweep/expand.js";
import {
  failureFileOf,
  lockFileOf,
  MANIFEST_FILE,
  runDirOf,
  SUMMARY_FILE,
} from "../../src/sweep/layout.js";
import { ownLockInfo } from "../../src/sweep/lock.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";
import { tinyBase } from "./support.js";

const BIN = path.join(PROJECT_ROOT, "bin", "senet-lab.js");
const SPEC = {
  name: "run-one",
  base: tinyBase({ epochs: 1 }),
  grid: { lr: [0.05, 0.1] },
  seeds: [1],
};
const RUNS = expandRunsUnchecked(checkSweepShape(SPEC));
const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-run-one-"));
const specFile = path.join(root, "spec.json");
fs.writeFileSync(specFile, JSON.stringify(SPEC));
const out = path.join(root, "sweep");

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function runOne(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const base = { ...process.env };
  for (const k of ["SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"]) delete base[k];
  const c = spawn(process.execPath, [BIN, "sweep", "run-one", specFile, "--out", out, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...base, SENET_LAB_BACKEND: "wasm", SENET_LAB_QUIET: "1", ...env },
  });
  let text = "";
  c.stdout.on("data", (d) => {
    text += d;
  });
  c.stderr.on("data", (d) => {
    text += d;
  });
  return new Promise((resolve) => c.on("close", (code) => resolve({ code, out: text })));
}

describe("sweep run-one", () => {
  it("refuses a bad or missing index before writing anything, naming it", async () => {
    const [range, word, none, env] = await Promise.all([
      runOne(["--index", "2"]),
      runOne(["--index", "one"]),
      runOne([]),
      runOne([], { SLURM_ARRAY_TASK_ID: "-1" }),
    ]);
    expect(range.code).toBe(2);
    expect(range.out).toContain(
      'run index 2 is out of range: sweep "run-one" has 2 runs (indices 0-1)',
    );
    expect(word.code).toBe(2);
    expect(word.out).toContain('--index must be an integer >= 0 (a run index); got "one"');
    expect(none.code).toBe(2);
    expect(none.out).toContain("--index N is required outside a SLURM array task");
    expect(env.code).toBe(2);
    expect(env.out).toContain(
      'SLURM_ARRAY_TASK_ID must be an integer >= 0 (a run index); got "-1"',
    );
    expect(fs.existsSync(out)).toBe(false);
  }, 60_000);

  it("trains the run SLURM_ARRAY_TASK_ID names (0), then reports it done (3)", async () => {
    const first = await runOne([], { SLURM_ARRAY_TASK_ID: "1" });
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/run 1 lr=0\.1__seed=1: completed in [\d.]+ s \(training [\d.]+ s\)/);
    expect(fs.existsSync(path.join(out, MANIFEST_FILE))).toBe(true);
    expect(fs.existsSync(path.join(runDirOf(out, RUNS[1]!.id), SUMMARY_FILE))).toBe(true);
    expect(fs.existsSync(path.join(runDirOf(out, RUNS[0]!.id)))).toBe(false);
    expect(fs.existsSync(lockFileOf(out, RUNS[1]!.id))).toBe(false);
    const again = await runOne(["--index", "1"]);
    expect(again.code, again.out).toBe(3);
    expect(again.out).toContain("run 1 lr=0.1__seed=1: already done");
  }, 60_000);

  it("leaves a run a live process holds (75)", async () => {
    const lock = lockFileOf(out, RUNS[0]!.id);
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, JSON.stringify(ownLockInfo())); // held by this (live) test process
    const r = await runOne(["--index", "0"]);
    fs.rmSync(lock);
    expect(r.code, r.out).toBe(75);
    expect(r.out).toContain(`held by pid ${process.pid} on ${os.hostname()}; leaving it`);
    expect(fs.existsSync(runDirOf(out, RUNS[0]!.id))).toBe(false);
  }, 60_000);

  it("records a failure (1) with its SLURM task, and clears it when the run completes", async () => {
    const blocker = runDirOf(out, RUNS[0]!.id);
    fs.writeFileSync(blocker, "a file where the run's folder belongs\n");
    const slurm = { SLURM_JOB_ID: "31", SLURM_ARRAY_JOB_ID: "30", SLURM_ARRAY_TASK_ID: "0" };
    const failed = await runOne([], slurm);
    expect(failed.code, failed.out).toBe(1);
    expect(failed.out).toContain("run 0 lr=0.05__seed=1: FAILED:");
    const record = JSON.parse(fs.readFileSync(failureFileOf(out, RUNS[0]!.id), "utf8"));
    expect(record).toMatchObject({ host: os.hostname(), slurm: "30_0" });
    expect(record.error).toMatch(/ENOTDIR|EEXIST|not a directory|already exists/i);
    const s = sweepStatus(out);
    expect(s.runs.map((r) => r.state)).toEqual(["failed", "done"]);
    expect(s.runs[0]!.slurm).toBe("30_0");
    expect(fs.existsSync(lockFileOf(out, RUNS[0]!.id))).toBe(false);

    fs.rmSync(blocker);
    const ok = await runOne(["--index", "0"]);
    expect(ok.code, ok.out).toBe(0);
    expect(fs.existsSync(failureFileOf(out, RUNS[0]!.id))).toBe(false);
    expect(sweepStatus(out).counts).toEqual({
      done: 2,
      running: 0,
      failed: 0,
      missing: 0,
      damaged: 0,
      preempted: 0,
    });
  }, 60_000);
});
