/**
 * A serving sweep worker that gets the same stop signal many times (Ctrl-C signals the whole
 * process group, and the sweep forwards the signal once more) checkpoints once and answers
 * "preempted" with exit 4. Before the worker guarded its signals, a copy that arrived after the
 * training loop had removed its handlers killed it by the default action, and the sweep recorded
 * "killed by SIGINT" instead of the checkpointed stop (a CI failure of the preemption test).
 * The burst below keeps signalling through that window, so the test fails without the guard.
 */
import { fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { EXIT_PREEMPTED } from "../../src/errors.js";
import { TSX_LOADER } from "../../src/sweep/pool.js";
import { checkSweep, writeSweepFolder } from "../../src/sweep/run-sweep.js";
import type { WorkerReply } from "../../src/sweep/worker.js";
import { listCheckpoints } from "../../src/train/checkpoint.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";
import { tinyBase } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-worker-signals-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// 64 steps of 8 per epoch: the signals land while the run trains.
const SPEC = {
  name: "worker-signals",
  base: tinyBase({ trainSubset: 512, batchSize: 8, epochs: 2 }),
  seeds: [5],
};

it("a burst of SIGINTs stops a serving worker once: checkpointed, answered 4, exit 4", async () => {
  const out = path.join(root, "sweep");
  const checked = checkSweep(SPEC, out);
  writeSweepFolder(checked);
  const [run] = checked.runs;
  const child = fork(path.join(PROJECT_ROOT, "src", "sweep", "worker.ts"), ["--serve", out], {
    execArgv: ["--import", TSX_LOADER],
    env: { ...process.env, SENET_LAB_BACKEND: "wasm", SENET_LAB_QUIET: "1" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d;
  });
  child.stdout!.resume();
  const lines: string[] = [];
  let result: Extract<WorkerReply, { type: "result" }> | undefined;
  let burst: NodeJS.Timeout | undefined;
  let sent = 0;
  child.on("message", (msg: WorkerReply) => {
    if (msg.type === "result") result = msg;
    if (msg.type !== "log") return;
    lines.push(msg.line);
    // Training has begun (the model line comes just before the first step): signal every 5 ms
    // for 1.5 s, well inside the 2 s after which a repeated signal means "stop now".
    if (!burst && / on synthetic \(/.test(msg.line)) {
      const t0 = performance.now();
      burst = setInterval(() => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (performance.now() - t0 > 1500) return clearInterval(burst);
        child.kill("SIGINT");
        sent++;
      }, 5);
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  child.send({ type: "run", id: run!.id });
  const { code, signal } = await exit;
  clearInterval(burst);
  const log = `${lines.join("\n")}\n${stderr}\n(${sent} signals sent)`;
  expect(sent, log).toBeGreaterThan(1);
  expect(signal, log).toBeNull();
  expect(code, log).toBe(EXIT_PREEMPTED);
  expect(result?.code, log).toBe(EXIT_PREEMPTED);
  expect(
    lines.filter((l) => l.includes("SIGINT: checkpointing")),
    log,
  ).toHaveLength(1);
  const ckpt = listCheckpoints(path.join(out, run!.id)).at(-1);
  expect(ckpt, log).toBeDefined();
  expect(ckpt!.step, log).toBeGreaterThan(0);
}, 120_000);
