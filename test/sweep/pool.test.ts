/**
 * The persistent worker pool: one worker process trains run after run (start-up paid once), the
 * numbers equal a fresh process's bit for bit, a failed run costs its worker and not the sweep,
 * and workers whose sweep process dies exit at once, leaving stale claims a rerun takes over.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { failureFileOf, lockFileOf, runDirOf } from "../../src/sweep/layout.js";
import { isLockAlive, readLock } from "../../src/sweep/lock.js";
import {
  checkSweep,
  POOL_LOG_FILE,
  type PoolRecord,
  runSweep,
  writeSweepFolder,
} from "../../src/sweep/run-sweep.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { PROJECT_ROOT, readJsonl } from "../../src/util/fs.js";
import { tinyBase } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-pool-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const ENV = { ...process.env, SENET_LAB_BACKEND: "wasm", SENET_LAB_QUIET: "1" };

const SPEC = {
  name: "pool",
  base: tinyBase({ epochs: 1 }),
  grid: { lr: [0.01, 0.02, 0.03, 0.04, 0.05] },
  seeds: [1],
};

async function sweep(spec: unknown, out: string, workers = 1) {
  const lines: string[] = [];
  const r = await runSweep(spec, {
    outDir: path.join(root, out),
    workers,
    backend: "wasm",
    log: (l) => lines.push(l),
  });
  return { ...r, lines };
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

describe("persistent sweep workers", () => {
  it("one worker trains run after run, with a fresh process's numbers and little overhead", async () => {
    const r = await sweep(SPEC, "serial");
    expect(r.counts.completed, r.lines.join("\n")).toBe(5);
    // One process served every run: only the first paid the start-up.
    expect(r.lines.filter((l) => l.includes("(new worker)"))).toHaveLength(1);
    expect(r.pool.coldOverhead?.n).toBe(1);
    expect(r.pool.warmOverhead?.n).toBe(4);
    console.log(
      `pool overhead: cold ${JSON.stringify(r.pool.coldOverhead)}, warm ${JSON.stringify(r.pool.warmOverhead)}`,
    );
    // Issue 12's bound on the per-run overhead of a warm worker (was 1.3-2 s per run).
    expect(r.pool.warmOverhead!.median).toBeLessThanOrEqual(0.3);
    const logged = readJsonl<PoolRecord>(path.join(root, "serial", POOL_LOG_FILE));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      workers: 1,
      threadsPerWorker: 1,
      backend: "wasm",
      trained: 5,
    });

    // The last run, trained by a process that had trained four before, equals a run trained by
    // a fresh one-shot worker process (`worker.ts <dir> <id>`), bit for bit.
    const id = "lr=0.05__seed=1";
    const fresh = path.join(root, "fresh");
    writeSweepFolder(checkSweep(SPEC, fresh));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const worker = path.join(PROJECT_ROOT, "src", "sweep", "worker.ts");
    const child = spawn(process.execPath, ["--import", tsx, worker, fresh, id], {
      env: ENV,
      stdio: "ignore",
    });
    expect(await exited(child)).toBe(0);
    const file = (dir: string, f: string) => fs.readFileSync(path.join(dir, id, f));
    const serial = path.join(root, "serial");
    expect(file(fresh, "model/weights.bin").equals(file(serial, "model/weights.bin"))).toBe(true);
    expect(file(fresh, "model/model.json").equals(file(serial, "model/model.json"))).toBe(true);
    const numbers = (dir: string) => {
      const {
        wallSeconds: _w,
        imagesPerSec: _i,
        loopOverhead: _l,
        metricsFile: _m,
        ...rest
      } = JSON.parse(file(dir, "summary.json").toString());
      return rest;
    };
    expect(numbers(fresh)).toEqual(numbers(serial));
  }, 240_000);

  it("a failed run costs its worker, not the sweep: the next run gets a fresh one", async () => {
    const spec = { ...SPEC, name: "pool-fail", grid: { lr: [0.06, 0.07] } };
    // A checkpoint of another config makes training throw (a ConfigError) in the worker.
    const bad = runDirOf(path.join(root, "fail"), "lr=0.06__seed=1");
    fs.mkdirSync(bad, { recursive: true });
    fs.cpSync(
      path.join(root, "serial", "lr=0.01__seed=1", "checkpoint"),
      path.join(bad, "checkpoint"),
      { recursive: true },
    );
    const r = await sweep(spec, "fail");
    expect(r.counts, r.lines.join("\n")).toMatchObject({ failed: 1, completed: 1 });
    const failed = r.runs.find((o) => o.status === "failed")!;
    expect(failed.error).toContain("exit status 1");
    expect(failed.error).toContain("its checkpoint belongs to a different config");
    expect(fs.readFileSync(failureFileOf(path.join(root, "fail"), failed.id), "utf8")).toContain(
      "belongs to a different config",
    );
    expect(r.lines.filter((l) => l.includes("(new worker)"))).toHaveLength(1); // the second run
    expect(r.lines.join("\n")).toMatch(/FAILED \(exit status 1\): .*different config/);
  }, 240_000);

  it("workers exit when their sweep process is killed, leaving claims a rerun takes over", async () => {
    const spec = path.join(root, "orphan.json");
    const body = { ...SPEC, name: "orphan", base: tinyBase({ epochs: 4, trainSubset: 256 }) };
    fs.writeFileSync(spec, JSON.stringify({ ...body, grid: { lr: [0.05, 0.1] } }));
    const out = path.join(root, "orphan");
    const bin = path.join(PROJECT_ROOT, "bin", "senet-lab.js");
    const cli = spawn(
      process.execPath,
      [bin, "sweep", "run", spec, "--out", out, "--workers", "2"],
      {
        env: ENV,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let text = "";
    await new Promise<void>((resolve) => {
      const on = (d: Buffer) => {
        text += d;
        if (/epoch 1\/4/.test(text)) resolve();
      };
      cli.stdout!.on("data", on);
      cli.stderr!.on("data", on);
      cli.on("exit", () => resolve());
    });
    const ids = ["lr=0.05__seed=1", "lr=0.1__seed=1"];
    const holders = ids.map((id) => readLock(lockFileOf(out, id))).filter((l) => l);
    expect(holders.length, text).toBeGreaterThan(0);
    expect(holders.every((h) => h!.pid !== cli.pid)).toBe(true); // the workers hold the claims
    cli.kill("SIGKILL"); // the sweep process only, not its workers
    const t0 = performance.now();
    while (holders.some((h) => isLockAlive(h!)) && performance.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`orphaned workers gone ${seconds.toFixed(2)} s after their sweep was killed`);
    expect(holders.filter((h) => isLockAlive(h!))).toEqual([]);
    expect(sweepStatus(out).counts.running).toBe(0);
  }, 120_000);
});
