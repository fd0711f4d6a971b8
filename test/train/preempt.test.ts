/**
 * Issue 14, item 12: a training run (a real child process) sent SIGTERM mid-epoch checkpoints
 * at its current step and exits EXIT_PREEMPTED; resumed in a new start it continues from that
 * step (same batches: data order and augmentation are functions of seed, epoch and step) and
 * ends with exactly the numbers of an uninterrupted run on the same backend.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { EXIT_PREEMPTED } from "../../src/errors.js";
import { TSX_LOADER } from "../../src/sweep/pool.js";
import { listCheckpoints } from "../../src/train/checkpoint.js";
import { runExperiment } from "../../src/train/run.js";
import { type RunSummary, readRun } from "../../src/train/run-folder.js";
import { epochNumbers, summaryNumbers } from "../util/timing-free.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-preempt-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

// 64 steps per epoch, so a signal lands within an epoch, not at its end.
const config = {
  dataset: "synthetic",
  model: "resnet20",
  depth: 8,
  width: 4,
  trainSubset: 512,
  batchSize: 8,
  epochs: 3,
  seed: 5,
  backend: "cpu",
};
const outcome = (s: RunSummary) => summaryNumbers(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Metrics without the timing fields. */
const curves = (dir: string) => epochNumbers(readRun(dir).metrics);

it("SIGTERM mid-epoch: checkpoint at the step, exit 4, resume to the uninterrupted numbers", async () => {
  const dir = path.join(tmp, "preempted");
  // Time-based checkpoints every 0.1 s show how far it got, so the signal can land mid-epoch 2.
  // node itself (with the tsx loader), not the tsx wrapper, so the signal reaches the trainer.
  const child = spawn(
    process.execPath,
    [
      "--import",
      TSX_LOADER,
      path.resolve("test/train/preempt-child.ts"),
      JSON.stringify(config),
      dir,
      String(0.1 / 60),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SENET_LAB_QUIET: "1" } },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let signalled = false;
  for (let i = 0; i < 2400 && child.exitCode === null; i++) {
    if (listCheckpoints(dir).some((c) => c.epoch === 1 && c.step > 0)) {
      child.kill("SIGTERM");
      signalled = true;
      break;
    }
    await sleep(25);
  }
  const code = await exited;
  expect(signalled).toBe(true);
  expect(stderr).toBe("");
  expect(code).toBe(EXIT_PREEMPTED);
  expect(fs.existsSync(path.join(dir, "summary.json"))).toBe(false);
  const last = listCheckpoints(dir).at(-1)!;
  expect(last.epoch).toBe(1);
  expect(last.step).toBeGreaterThan(0);
  expect(last.step).toBeLessThan(64);
  expect(stdout).toContain(`stopped by SIGTERM after 1 epoch and ${last.step} step`);

  const logs: string[] = [];
  const resumed = await runExperiment(config, {
    runDir: dir,
    progress: "none",
    log: (l) => logs.push(l),
  });
  expect(logs[0]).toContain(`resuming after epoch 1 and ${last.step} steps`);
  const straight = await runExperiment(config, {
    runDir: path.join(tmp, "straight"),
    progress: "none",
  });
  expect(outcome(resumed)).toEqual(outcome(straight));
  expect(curves(dir)).toEqual(curves(path.join(tmp, "straight")));
}, 240_000);
