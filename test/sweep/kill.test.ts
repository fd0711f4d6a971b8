/**
 * The sweep survives SIGKILL: a real `senet-lab sweep run` (CLI, worker processes, real training
 * on the synthetic dataset) is killed with its whole process group at random moments, restarted,
 * and must end with every run present exactly once, every file parseable, nothing half-written
 * left behind, and the same table as an uninterrupted run of the same spec.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/data/rng.js";
import { expandRunsUnchecked } from "../../src/sweep/expand.js";
import { LOCK_DIR, MANIFEST_FILE } from "../../src/sweep/layout.js";
import { POOL_LOG_FILE } from "../../src/sweep/run-sweep.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { PROJECT_ROOT, readJsonl } from "../../src/util/fs.js";
import { tinyBase } from "./support.js";

const BIN = path.join(PROJECT_ROOT, "bin", "senet-lab.js");
const EPOCHS = 3;
const SPEC = {
  name: "kill-test",
  description: "tiny sweep for the SIGKILL test",
  base: tinyBase({ epochs: EPOCHS }),
  grid: { attention: ["none", "se"] },
  seeds: [1, 2],
};
const ENV = { ...process.env, SENET_LAB_BACKEND: "wasm", SENET_LAB_QUIET: "1" };

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-kill-"));
const specFile = path.join(root, "spec.json");
fs.writeFileSync(specFile, JSON.stringify(SPEC));

/** Seeded generator (the library's, src/data/rng.ts) so a failing sequence of kill delays can be replayed (seed is printed). */
function mulberry32(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  seconds: number;
}

/** When to SIGKILL a CLI run: after `ms`, or `ms` after its `epochLines`-th epoch line. */
interface KillPlan {
  /** Epoch lines to wait for first (0: count from the start). */
  epochLines: number;
  /** Milliseconds after that. */
  ms: number;
}

/** Runs the CLI in its own process group; kills the whole group as `kill` says, if given. */
function cli(args: string[], kill?: KillPlan): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: PROJECT_ROOT,
    env: ENV,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer ??= setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL"); // the CLI and every worker it started
      } catch {
        /* already finished */
      }
    }, kill!.ms);
  };
  if (kill && kill.epochLines === 0) arm();
  const onData = (d: Buffer) => {
    output += d;
    if (kill && (output.match(/ epoch \d+\/\d+ /g)?.length ?? 0) >= kill.epochLines) arm();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  return new Promise((resolve) => {
    child.on("close", async (code, signal) => {
      if (timer) clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      // SIGKILL is delivered to the group at once, but workers take a moment to disappear.
      await groupGone(child.pid!);
      resolve({ code, signal, output, seconds });
    });
  });
}

/** Waits (up to 10 s) until no live process is left in process group `pgid`. */
async function groupGone(pgid: number): Promise<void> {
  const members = () =>
    fs.readdirSync("/proc").filter((d) => {
      if (!/^\d+$/.test(d)) return false;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(f[2]) === pgid && f[0] !== "Z";
      } catch {
        return false;
      }
    });
  for (let i = 0; i < 200 && members().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
}

/** Every file under a folder, relative paths. */
function walk(dir: string, prefix = ""): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? walk(path.join(dir, e.name), path.join(prefix, e.name))
        : [path.join(prefix, e.name)],
    );
}

/** Checks that every file the sweep wrote parses; returns the run folders' names. */
function checkFilesParse(dir: string): void {
  for (const f of walk(dir)) {
    const p = path.join(dir, f);
    if (f.endsWith(".json")) expect(() => JSON.parse(fs.readFileSync(p, "utf8")), f).not.toThrow();
    if (f.endsWith(".jsonl")) expect(() => readJsonl(p), f).not.toThrow();
  }
}

describe("sweep under SIGKILL", () => {
  it("finishes every run exactly once with the uninterrupted run's table", async () => {
    const ids = expandRunsUnchecked(checkSweepShape(SPEC)).map((r) => r.id);
    const refDir = path.join(root, "reference");
    const killDir = path.join(root, "killed");

    const ref = await cli(["sweep", "run", specFile, "--out", refDir, "--workers", "2"]);
    expect(ref.code, ref.output).toBe(0);
    console.log(`uninterrupted sweep: ${ref.seconds.toFixed(1)} s for ${ids.length} runs`);

    const seed = Number(process.env.SENET_LAB_KILL_SEED ?? Date.now() % 1e6);
    const rand = mulberry32(seed);
    const kills: string[] = [];
    // The delays after an epoch line stay within one epoch of the reference run, so the kill
    // lands while that run is still training (fixed delays let fast machines finish every run
    // between kills, and then nothing resumed from a checkpoint).
    const epochMs =
      1000 *
      Math.min(
        ...ids.map((id) =>
          Math.min(
            ...readJsonl<{ seconds: number }>(path.join(refDir, id, "metrics.jsonl")).map(
              (r) => r.seconds,
            ),
          ),
        ),
      );
    // Three kills at random moments: during start-up, after the first epoch of this attempt,
    // and after its second, each with a random extra delay (so mid-epoch and mid-write too).
    for (const plan of [
      { epochLines: 0, ms: 200 + Math.round(2300 * rand()) },
      { epochLines: 1, ms: Math.round(0.8 * epochMs * rand()) },
      { epochLines: 2, ms: Math.round(0.8 * epochMs * rand()) },
    ]) {
      const r = await cli(["sweep", "run", specFile, "--out", killDir, "--workers", "2"], plan);
      const delay = `${plan.ms} ms after ${plan.epochLines ? `epoch line ${plan.epochLines}` : "start"}`;
      const s = fs.existsSync(path.join(killDir, MANIFEST_FILE)) ? sweepStatus(killDir) : undefined;
      kills.push(
        `${delay} (${r.seconds.toFixed(1)} s) → ${r.signal ?? `exit ${r.code}`}, ${s ? `${s.counts.done} done, ${s.runs.reduce((a, x) => a + x.epochs, 0)} epochs on disk` : "no manifest yet"}`,
      );
      if (s) {
        expect(s.counts.running, "a killed sweep leaves nothing running").toBe(0);
        checkFilesParse(killDir);
      }
    }
    console.log(`kill seed ${seed} (epoch ${epochMs.toFixed(0)} ms):\n  ${kills.join("\n  ")}`);

    const last = await cli(["sweep", "run", specFile, "--out", killDir, "--workers", "2"]);
    expect(last.code, last.output).toBe(0);
    console.log(`final rerun: ${last.seconds.toFixed(1)} s`);

    // Every run exactly once, nothing else, nothing half-written.
    // The pool log is there when the last call trained something (a kill may leave nothing to do).
    const entries = fs.readdirSync(killDir).filter((f) => f !== POOL_LOG_FILE);
    expect(entries.sort()).toEqual([LOCK_DIR, ...ids, MANIFEST_FILE].sort());
    expect(fs.readdirSync(path.join(killDir, LOCK_DIR))).toEqual([]);
    expect(walk(killDir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    checkFilesParse(killDir);
    const status = sweepStatus(killDir);
    expect(status.counts).toEqual({
      done: ids.length,
      running: 0,
      failed: 0,
      missing: 0,
      damaged: 0,
      preempted: 0,
    });
    for (const id of ids) {
      const run = path.join(killDir, id);
      const epochs = readJsonl<{ epoch: number }>(path.join(run, "metrics.jsonl")).map(
        (r) => r.epoch,
      );
      expect(epochs, `${id} has each epoch once`).toEqual([1, 2, 3]);
      const config = JSON.parse(fs.readFileSync(path.join(run, "config.json"), "utf8"));
      const refConfig = JSON.parse(fs.readFileSync(path.join(refDir, id, "config.json"), "utf8"));
      expect(config).toEqual(refConfig);
      const summary = JSON.parse(fs.readFileSync(path.join(run, "summary.json"), "utf8"));
      const refSummary = JSON.parse(fs.readFileSync(path.join(refDir, id, "summary.json"), "utf8"));
      for (const k of [
        "status",
        "epochs",
        "testTop1",
        "testTop5",
        "testLoss",
        "trainLoss",
        "params",
      ]) {
        expect(summary[k], `${id} ${k}`).toEqual(refSummary[k]);
      }
    }

    // At least one run was killed mid-way and resumed from its checkpoint.
    const resumed = ids.filter(
      (id) =>
        JSON.parse(fs.readFileSync(path.join(killDir, id, "summary.json"), "utf8"))
          .resumedFromEpoch > 0,
    );
    console.log(`runs resumed from a checkpoint: ${resumed.join(", ") || "none"}`);
    expect(resumed.length).toBeGreaterThan(0);

    // Same seeds, same numbers: the tables printed by the CLI are identical.
    const table = (dir: string) =>
      cli(["sweep", "table", dir, "--csv", "-m", "testTop1", "-m", "testLoss", "-m", "trainLoss"]);
    const [a, b] = await Promise.all([table(refDir), table(killDir)]);
    expect(a.code, a.output).toBe(0);
    expect(b.output).toBe(a.output);
    expect(a.output.trim().split("\n")).toHaveLength(3);
  }, 200_000);
});
