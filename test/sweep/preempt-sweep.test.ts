/**
 * Issue 14, item 12, at the sweep level: a real `senet-lab sweep run` (CLI, a pool worker, real
 * training on the synthetic dataset) is sent SIGTERM mid-epoch: it passes the signal to its
 * worker, the worker checkpoints at its current step and answers 4, the sweep records the run
 * as preempted and the CLI exits 4. The rerun is stopped again by a Ctrl-C-like SIGINT to the
 * whole process group (CLI and worker both get it, and the worker once more from the CLI), and
 * the third call finishes the run with exactly the numbers of an uninterrupted sweep.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { EXIT_PREEMPTED } from "../../src/errors.js";
import { expandRunsUnchecked } from "../../src/sweep/expand.js";
import { failureFileOf } from "../../src/sweep/layout.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { listCheckpoints } from "../../src/train/checkpoint.js";
import { PROJECT_ROOT, readJsonl } from "../../src/util/fs.js";
import { epochNumbers, summaryNumbers } from "../util/timing-free.js";
import { tinyBase } from "./support.js";

const BIN = path.join(PROJECT_ROOT, "bin", "senet-lab.js");
// 64 steps of 8 per epoch (about a second on wasm), so a signal lands within an epoch. Same
// backend for every call (wasm, one thread: deterministic), so the numbers compare exactly.
const SPEC = {
  name: "preempt-sweep",
  description: "one tiny run for the sweep preemption test",
  base: tinyBase({ trainSubset: 512, batchSize: 8, epochs: 2, backend: "wasm" }),
  seeds: [3],
};
const ENV = { ...process.env, SENET_LAB_QUIET: "1" };

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-preempt-sweep-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const specFile = path.join(root, "spec.json");
fs.writeFileSync(specFile, JSON.stringify(SPEC));
const [RUN_ID] = expandRunsUnchecked(checkSweepShape(SPEC)).map((r) => r.id);

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Whether the signal was sent (its trigger line was seen before the CLI ended). */
  signalled: boolean;
}

/**
 * Runs the CLI in its own process group. With `stop`, sends `signal` once a line matching
 * `after` appears on its stdout: to the CLI alone, or to its whole group (as Ctrl-C does).
 */
function cli(
  args: string[],
  stop?: { after: RegExp; signal: NodeJS.Signals; group: boolean },
): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: PROJECT_ROOT,
    env: ENV,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let signalled = false;
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d;
    if (stop && !signalled && stop.after.test(stdout)) {
      signalled = true;
      process.kill(stop.group ? -child.pid! : child.pid!, stop.signal);
    }
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d;
  });
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      // A worker left behind would hold the run's claim: make sure the group is gone.
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* nothing left */
      }
      resolve({
        code,
        signal,
        stdout,
        stderr,
        signalled,
        seconds: (performance.now() - t0) / 1000,
      });
    });
  });
}

const steps = (n: number) => `${n} step${n === 1 ? "" : "s"}`;
const read = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
/** summary.json without the timing fields (and the metricsFile checksum, which covers them). */
const outcome = (dir: string) => summaryNumbers(read(path.join(dir, RUN_ID!, "summary.json")));
/** metrics.jsonl without the timing fields. */
const curves = (dir: string) =>
  epochNumbers(readJsonl<Record<string, unknown>>(path.join(dir, RUN_ID!, "metrics.jsonl")));
const statusText = () => {
  const r = spawnSync(process.execPath, [BIN, "sweep", "status", outDir], {
    cwd: PROJECT_ROOT,
    env: ENV,
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};
const outDir = path.join(root, "preempted");
const run = ["sweep", "run", specFile, "--out", outDir, "--workers", "1"];

it("SIGTERM/SIGINT stop a sweep with exit 4, status says preempted, reruns end as an uninterrupted sweep", async () => {
  const refDir = path.join(root, "reference");
  const ref = await cli(["sweep", "run", specFile, "--out", refDir, "--workers", "1"]);
  expect(ref.code, ref.stdout + ref.stderr).toBe(0);

  // 1. SIGTERM to the CLI alone once the run has started training (its first line: the model,
  // logged just before the first step; the loop sees signals only after 50 ms of steps).
  const t = await cli(run, { after: / on synthetic \(/, signal: "SIGTERM", group: false });
  const tOut = t.stdout + t.stderr;
  expect(t.signalled, tOut).toBe(true);
  expect(t.code, tOut).toBe(EXIT_PREEMPTED);
  expect(t.stderr, tOut).toBe("");
  const afterTerm = listCheckpoints(path.join(outDir, RUN_ID!)).at(-1);
  expect(afterTerm, tOut).toBeDefined();
  expect(afterTerm!.epoch, tOut).toBe(0);
  expect(afterTerm!.step, tOut).toBeGreaterThan(0);
  expect(afterTerm!.step, tOut).toBeLessThan(64);
  expect(fs.existsSync(path.join(outDir, RUN_ID!, "summary.json"))).toBe(false);
  expect(tOut).toContain(`stopped by SIGTERM after 0 epochs and ${steps(afterTerm!.step)}`);
  expect(tOut).toMatch(/PREEMPTED/);
  expect(tOut).toMatch(/stopped by SIGTERM in [\d.]+ s: .*1 preempted; rerun to continue/);

  const s1 = sweepStatus(outDir);
  expect(s1.runs.map((r) => r.state)).toEqual(["preempted"]);
  expect(s1.counts).toMatchObject({ preempted: 1, failed: 0, running: 0, done: 0 });
  const text1 = statusText();
  expect(text1).toContain("1 preempted");
  expect(text1).toMatch(new RegExp(`^ {2}preempted {2}${RUN_ID}  .*stopped by SIGTERM`, "m"));

  // 2. The rerun continues from that step; Ctrl-C (SIGINT to the group) during its second epoch.
  const i = await cli(run, { after: / epoch 1\/2 /, signal: "SIGINT", group: true });
  const iOut = i.stdout + i.stderr;
  expect(i.signalled, iOut).toBe(true);
  expect(iOut).toContain(`resuming after epoch 0 and ${afterTerm!.step} steps`);
  expect(i.code, iOut).toBe(EXIT_PREEMPTED);
  expect(i.stderr, iOut).toBe("");
  const afterInt = listCheckpoints(path.join(outDir, RUN_ID!)).at(-1)!;
  expect(afterInt.epoch, iOut).toBe(1);
  expect(afterInt.step, iOut).toBeGreaterThan(0);
  expect(afterInt.step, iOut).toBeLessThan(64);
  expect(iOut).toContain(`stopped by SIGINT after 1 epoch and ${steps(afterInt.step)}`);
  expect(sweepStatus(outDir).runs.map((r) => r.state)).toEqual(["preempted"]);
  expect(statusText()).toContain("stopped by SIGINT");

  // 3. The last call finishes it: the uninterrupted sweep's numbers, each epoch once.
  const last = await cli(run);
  const lastOut = last.stdout + last.stderr;
  expect(last.code, lastOut).toBe(0);
  expect(lastOut).toContain(`resuming after epoch 1 and ${afterInt.step} steps`);
  expect(sweepStatus(outDir).counts).toMatchObject({ done: 1, preempted: 0, failed: 0 });
  // The state column is as wide as its longest name, "preempted": ids line up under it.
  expect(statusText()).toMatch(new RegExp(`^ {2}done {7}${RUN_ID}  completed$`, "m"));
  expect(fs.existsSync(failureFileOf(outDir, RUN_ID!))).toBe(false);
  expect(read(path.join(outDir, RUN_ID!, "summary.json")).resumedFromEpoch).toBe(1);
  expect(curves(outDir).map((m) => m.epoch)).toEqual([1, 2]);
  expect(outcome(outDir)).toEqual(outcome(refDir));
  expect(curves(outDir)).toEqual(curves(refDir));
  console.log(
    `reference ${ref.seconds.toFixed(1)} s; SIGTERM call ${t.seconds.toFixed(1)} s (step ${afterTerm!.step}); SIGINT call ${i.seconds.toFixed(1)} s (epoch 1, step ${afterInt.step}); last ${last.seconds.toFixed(1)} s`,
  );
}, 180_000);
