/**
 * `sweep submit --slurm` on a real one-node SLURM cluster started from Debian's packages: the
 * sweep runs as a job array, status sees queued, running and failed tasks (also a claim left by
 * a task on another host, judged through squeue), `--failed` resubmits only the failed run,
 * and the finished folder's table equals a local `sweep run` of the same spec, to the last bit.
 * Skipped, with the reason printed, where the cluster cannot start.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expandRunsUnchecked } from "../../src/sweep/expand.js";
import { lockFileOf, readSlurmJobs, SUMMARY_FILE } from "../../src/sweep/layout.js";
import { clearSlurmCache } from "../../src/sweep/slurm-queue.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";
import { startTestCluster, type TestCluster } from "./slurm-cluster.js";
import { tinyBase } from "./support.js";

const BIN = path.join(PROJECT_ROOT, "bin", "senet-lab.js");
const SPEC = {
  name: "slurm-array",
  base: tinyBase({ trainSubset: 128 }),
  grid: { lr: [0.05, 0.2] },
  seeds: [1, 2],
};
const RUNS = expandRunsUnchecked(checkSweepShape(SPEC));
const FAILING = RUNS[3]!;

const started = await startTestCluster({ cpus: 2 });
const cluster: TestCluster | undefined = "error" in started ? undefined : started;
if (!cluster) {
  console.warn(`[slurm-cluster.test] skipped: ${(started as { error: string }).error}`);
} else {
  console.log(`[slurm-cluster.test] cluster idle after ${cluster.startSeconds.toFixed(2)} s`);
}
// sweepStatus in this process asks squeue too: point it at the test cluster.
const savedConf = process.env.SLURM_CONF;
if (cluster) process.env.SLURM_CONF = cluster.env.SLURM_CONF;

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-slurm-sweep-"));
const specFile = path.join(root, "spec.json");
fs.writeFileSync(specFile, JSON.stringify(SPEC));
const slurmOut = path.join(root, "slurm");
const localOut = path.join(root, "local");

afterAll(async () => {
  if (savedConf === undefined) delete process.env.SLURM_CONF;
  else process.env.SLURM_CONF = savedConf;
  await cluster?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI with the cluster's environment (SLURM_CONF, the wasm backend for bit-equal runs). */
function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const env = { ...cluster?.env, SENET_LAB_BACKEND: "wasm", SENET_LAB_QUIET: "1" };
  const c = spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, env });
  let out = "";
  c.stdout.on("data", (d) => {
    out += d;
  });
  c.stderr.on("data", (d) => {
    out += d;
  });
  return new Promise((resolve) => c.on("close", (code) => resolve({ code, out })));
}

function slurm(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { env: cluster?.env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Waits until squeue no longer lists the job (bounded); returns the seconds waited. */
async function waitForJob(jobId: string, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (slurm("squeue", ["-h", "-j", jobId, "-o", "%i"]) === "") {
      return (performance.now() - t0) / 1000;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`job ${jobId} still queued after ${timeoutMs} ms: ${slurm("squeue", ["-h"])}`);
}

function status() {
  clearSlurmCache();
  return sweepStatus(slurmOut);
}

/** The "[sweep x] submitted job N" line's job id. */
function submittedJob(out: string): string {
  const m = /submitted job (\d+):/.exec(out);
  if (!m) throw new Error(`no job id in:\n${out}`);
  return m[1]!;
}

/**
 * Per finished task, from its log: the whole run-one process (the script's "run-one exited 0
 * after N ms") and the training loop's own seconds ("completed in X s (training Y s)").
 */
function taskTimes(logDir: string): { process: number; training: number }[] {
  const out: { process: number; training: number }[] = [];
  for (const f of fs.readdirSync(logDir)) {
    const text = fs.readFileSync(path.join(logDir, f), "utf8");
    const t = /completed in [\d.]+ s \(training ([\d.]+) s\)/.exec(text);
    const p = /run-one exited 0 after (\d+) ms/.exec(text);
    if (t && p) out.push({ process: Number(p[1]) / 1000, training: Number(t[1]) });
  }
  return out;
}

describe.skipIf(!cluster)("sweep submit --slurm on a real one-node SLURM cluster", () => {
  let firstJob = "";

  it("runs the sweep as a job array: queued tasks show, a failing task is reported failed", async () => {
    // A file where the run's folder belongs makes that run's training fail (ENOTDIR/EEXIST).
    fs.mkdirSync(slurmOut, { recursive: true });
    fs.writeFileSync(path.join(slurmOut, FAILING.id), "in the way\n");
    const t0 = performance.now();
    const r = await cli(["sweep", "submit", specFile, "--slurm", "--out", slurmOut, "--cpus", "1"]);
    expect(r.code, r.out).toBe(0);
    firstJob = submittedJob(r.out);
    expect(r.out).toContain("4 of 4 runs as array 0-3");
    // Just submitted: 2 CPUs for 4 tasks, so every run is queued or running, none finished.
    const s0 = status();
    expect(s0.counts.done, JSON.stringify(s0.runs)).toBe(0);
    expect(s0.runs.every((x) => x.state === "running" || x.queue)).toBe(true);
    expect(s0.queued).toBeGreaterThanOrEqual(2);
    const waited = await waitForJob(firstJob);
    const s = status();
    expect(s.counts).toEqual({
      done: 3,
      running: 0,
      failed: 1,
      missing: 0,
      damaged: 0,
      preempted: 0,
    });
    const failed = s.runs.find((x) => x.state === "failed")!;
    expect(failed.id).toBe(FAILING.id);
    expect(failed.slurm).toBe(`${firstJob}_3`);
    expect(failed.error).toMatch(/ENOTDIR|EEXIST|not a directory|file already exists/i);
    expect(s.slurmJobs.map((j) => [j.job.jobId, j.job.array, j.inQueue])).toEqual([
      [firstJob, "0-3", 0],
    ]);
    const logDir = path.join(slurmOut, ".slurm", "logs");
    expect(fs.readFileSync(path.join(logDir, `${firstJob}_3.out`), "utf8")).toContain("FAILED");
    const times = taskTimes(logDir);
    expect(times).toHaveLength(3);
    const over = times.map((t) => t.process - t.training);
    console.log(
      `[slurm-cluster.test] array of 4 finished ${waited.toFixed(1)} s after status (submit→end ${((performance.now() - t0) / 1000).toFixed(1)} s); per task: run-one process ${Math.min(...times.map((t) => t.process)).toFixed(1)}-${Math.max(...times.map((t) => t.process)).toFixed(1)} s, of which beyond training ${Math.min(...over).toFixed(1)}-${Math.max(...over).toFixed(1)} s`,
    );
    const statusCli = await cli(["sweep", "status", slurmOut]);
    expect(statusCli.out).toContain("4 runs: 3 done, 0 running, 1 failed, 0 missing; 0 queued");
    expect(statusCli.out).toMatch(new RegExp(`${firstJob} +\\S+ +runs 0-3: finished`));
  }, 90_000);

  it("judges a claim from another host by asking SLURM whether its job still lives", async () => {
    const lockFile = lockFileOf(slurmOut, FAILING.id);
    const forge = (slurmIds: Record<string, string>) =>
      fs.writeFileSync(
        lockFile,
        JSON.stringify({
          pid: 4_000_000,
          host: "another-node",
          procStart: null,
          since: new Date().toISOString(),
          slurm: slurmIds,
        }),
      );
    // A job that is running right now: its claim is live although its host is unknown here.
    const live = slurm("sbatch", ["--parsable", "--wrap", "sleep 60", "-o", "/dev/null"]);
    for (let i = 0; i < 80 && slurm("squeue", ["-h", "-j", live, "-o", "%T"]) !== "RUNNING"; i++) {
      await new Promise((r) => setTimeout(r, 250));
    }
    forge({ jobId: live });
    const running = status().runs.find((x) => x.id === FAILING.id)!;
    expect(running.state).toBe("running");
    expect(running.host).toBe("another-node");
    slurm("scancel", [live]);
    await waitForJob(live);
    // Same claim, job gone: stale, so the run is failed again (not running forever).
    expect(status().runs.find((x) => x.id === FAILING.id)!.state).toBe("failed");
    // A task of the (finished) first array on a node that died, without a failure record.
    fs.renameSync(
      path.join(slurmOut, ".failures", `${FAILING.id}.json`),
      path.join(root, "failure.json"),
    );
    forge({ jobId: "999999", arrayJobId: firstJob, arrayTaskId: "3" });
    const died = status().runs.find((x) => x.id === FAILING.id)!;
    expect(died.state).toBe("failed");
    expect(died.error).toContain(`SLURM task ${firstJob}_3 on another-node ended`);
    // The stale claim stays in place: the resubmitted task must take it over.
    expect(fs.existsSync(lockFile)).toBe(true);
  }, 60_000);

  it("a task cancelled mid-training (scancel) leaves its run preempted, resumable", async () => {
    const longSpec = {
      ...SPEC,
      name: "slurm-long",
      base: { ...SPEC.base, epochs: 40 },
      grid: {},
      seeds: [1],
    };
    const longFile = path.join(root, "long.json");
    fs.writeFileSync(longFile, JSON.stringify(longSpec));
    const longOut = path.join(root, "long");
    const r = await cli(["sweep", "submit", longFile, "--slurm", "--out", longOut]);
    expect(r.code, r.out).toBe(0);
    const job = submittedJob(r.out);
    clearSlurmCache();
    let s = sweepStatus(longOut);
    for (let i = 0; i < 120 && !(s.runs[0]!.state === "running" && s.runs[0]!.epochs > 0); i++) {
      await new Promise((res) => setTimeout(res, 250));
      clearSlurmCache();
      s = sweepStatus(longOut);
    }
    expect(s.runs[0]!.state, JSON.stringify(s.runs[0])).toBe("running");
    expect(s.runs[0]!.slurm).toBe(`${job}_0`);
    slurm("scancel", [job]);
    await waitForJob(job);
    clearSlurmCache();
    const after = sweepStatus(longOut).runs[0]!;
    // scancel sends SIGTERM first: the task checkpoints and records the run as preempted.
    expect(after.state, JSON.stringify(after)).toBe("preempted");
    expect(after.error).toMatch(/stopped by SIGTERM after \d+ epochs?/);
    expect(after.slurm).toBe(`${job}_0`);
    expect(after.epochs).toBeGreaterThan(0);
    expect(after.epochs).toBeLessThan(40);
    // Resumable: --failed picks it up again.
    const dry = await cli([
      "sweep",
      "submit",
      longFile,
      "--slurm",
      "--out",
      longOut,
      "--failed",
      "--dry-run",
    ]);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toContain("#SBATCH --array=0\n");
  }, 60_000);

  it("resubmits only the failed run with --failed; the table then equals a local run's", async () => {
    fs.rmSync(path.join(slurmOut, FAILING.id));
    const args = ["sweep", "submit", specFile, "--slurm", "--out", slurmOut, "--failed"];
    const dry = await cli([...args, "--dry-run"]);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toContain("#SBATCH --array=3\n");
    expect(readSlurmJobs(slurmOut)).toHaveLength(1);
    const r = await cli(args);
    expect(r.code, r.out).toBe(0);
    const job = submittedJob(r.out);
    expect(r.out).toContain("1 of 4 runs as array 3 (left out: 3 done, 0 not failed)");
    const resubmitted = await waitForJob(job);
    const s = status();
    expect(s.counts).toEqual({
      done: 4,
      running: 0,
      failed: 0,
      missing: 0,
      damaged: 0,
      preempted: 0,
    });
    expect(fs.readdirSync(path.join(slurmOut, ".failures"))).toEqual([]);
    expect(fs.readdirSync(path.join(slurmOut, ".locks"))).toEqual([]);
    const jobs = readSlurmJobs(slurmOut);
    expect(jobs.map((j) => [j.jobId, j.indices, j.failedOnly])).toEqual([
      [firstJob, [0, 1, 2, 3], false],
      [job, [3], true],
    ]);
    // Nothing left: a new submission submits nothing.
    const again = await cli(["sweep", "submit", specFile, "--slurm", "--out", slurmOut]);
    expect(again.out).toContain("nothing to submit: 4 runs (4 done)");
    expect(readSlurmJobs(slurmOut)).toHaveLength(2);

    const t0 = performance.now();
    const local = await cli(["sweep", "run", specFile, "--out", localOut, "--workers", "2"]);
    expect(local.code, local.out).toBe(0);
    console.log(
      `[slurm-cluster.test] resubmitted task done ${resubmitted.toFixed(1)} s after submit; local sweep run of the same 4 runs: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const table = async (dir: string) =>
      (
        await cli([
          "sweep",
          "table",
          dir,
          "--csv",
          "-m",
          "testLoss",
          "-m",
          "trainLoss",
          "-m",
          "testTop1",
        ])
      ).out;
    const [a, b] = [await table(slurmOut), await table(localOut)];
    expect(a).toMatch(/^lr,runs,diverged,testLoss_mean/);
    expect(a).toBe(b);
    // Per run, every number but the timings is identical.
    const strip = (dir: string, id: string) => {
      const v = JSON.parse(fs.readFileSync(path.join(dir, id, SUMMARY_FILE), "utf8"));
      for (const k of ["imagesPerSec", "wallSeconds", "loopOverhead", "metricsFile"]) delete v[k];
      return v;
    };
    for (const run of RUNS) expect(strip(slurmOut, run.id)).toEqual(strip(localOut, run.id));
    // The runs differ from each other (the comparison above is not between constants).
    expect(new Set(RUNS.map((x) => strip(localOut, x.id).trainLoss)).size).toBe(4);
  }, 90_000);
});
