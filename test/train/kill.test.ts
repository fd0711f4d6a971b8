/**
 * A run killed with SIGKILL in a child process, mid-training after its first checkpoint,
 * resumes in a new process to exactly the numbers of an uninterrupted run, and leaves no
 * partial file behind.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { listCheckpoints } from "../../src/train/checkpoint.js";
import { runExperiment } from "../../src/train/run.js";
import { type RunSummary, readRun } from "../../src/train/run-folder.js";
import { summaryNumbers } from "../util/timing-free.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-kill-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

const config = {
  dataset: "synthetic",
  model: "resnet20",
  depth: 8,
  width: 4,
  trainSubset: 64,
  batchSize: 16,
  epochs: 3,
  seed: 11,
  backend: "cpu",
};
const outcome = (s: RunSummary) => summaryNumbers(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("resumes after SIGKILL to the numbers of an uninterrupted run", async () => {
  const dir = path.join(tmp, "killed");
  const tsx = path.resolve("node_modules/.bin/tsx");
  const child = spawn(tsx, [path.resolve("test/train/child-run.ts"), JSON.stringify(config), dir], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, SENET_LAB_QUIET: "1" },
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let killed = false;
  for (let i = 0; i < 1200 && child.exitCode === null; i++) {
    if (listCheckpoints(dir).length > 0) {
      child.kill("SIGKILL");
      killed = true;
      break;
    }
    await sleep(50);
  }
  await exited;
  expect(stderr).toBe("");
  expect(killed).toBe(true);
  expect(fs.existsSync(path.join(dir, "summary.json"))).toBe(false);

  const resumed = await runExperiment(config, { runDir: dir, progress: "none" });
  expect(resumed.resumedFromEpoch).toBeGreaterThanOrEqual(1);
  const straight = await runExperiment(config, {
    runDir: path.join(tmp, "straight"),
    progress: "none",
  });
  expect(outcome(resumed)).toEqual(outcome(straight));
  expect(readRun(dir).metrics.map((m) => m.testTop1)).toEqual(
    readRun(path.join(tmp, "straight")).metrics.map((m) => m.testTop1),
  );
  // No temp file of an interrupted atomic write survives the resume.
  const leftovers = fs.readdirSync(dir, { recursive: true }).map(String);
  expect(leftovers.filter((f) => f.endsWith(".tmp"))).toEqual([]);
});
