/**
 * SLURM job arrays without a cluster: index lists, validation of the sbatch values, the script's
 * text and its behaviour when bash runs it (exit codes mapped, arguments passed), submitSlurm
 * against stand-in sbatch/squeue programs, and how claims from other hosts are judged by squeue.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { expandRunsUnchecked } from "../../src/sweep/expand.js";
import {
  lockFileOf,
  readSlurmJobs,
  recordFailure,
  recordSlurmJob,
  runDirOf,
  SUMMARY_FILE,
  writeManifest,
} from "../../src/sweep/layout.js";
import { isLockAlive, lockState, ownLockInfo, tryLock } from "../../src/sweep/lock.js";
import { clearSlurmCache, type SlurmIds, slurmIdsFromEnv } from "../../src/sweep/slurm-queue.js";
import {
  checkSlurmCpus,
  checkSlurmPartition,
  checkSlurmTime,
  compactRanges,
  expandRanges,
  type SlurmScriptOptions,
  slurmScript,
} from "../../src/sweep/slurm-script.js";
import { submitSlurm } from "../../src/sweep/slurm-submit.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { tinyBase } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-slurm-unit-"));
const bin = path.join(root, "bin");
fs.mkdirSync(bin);
const savedPath = process.env.PATH;
const savedEnv = { ...process.env };

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  process.env = { ...savedEnv };
  clearSlurmCache();
});

const SPEC = {
  name: "unit-slurm",
  base: tinyBase({ epochs: 1 }),
  grid: { lr: [0.05, 0.1, 0.2] },
  seeds: [1, 2],
};
const RUNS = expandRunsUnchecked(checkSweepShape(SPEC));

/** Writes an executable stand-in for a SLURM program into `bin`. */
function fake(name: string, script: string): void {
  const f = path.join(bin, name);
  fs.writeFileSync(f, `#!/bin/sh\n${script}\n`);
  fs.chmodSync(f, 0o755);
}

/** Puts the stand-ins first on PATH (restored after each test). */
function useFakes(): void {
  process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
}

describe("index lists", () => {
  it("compacts indices into the shortest SLURM array list", () => {
    expect(compactRanges([0, 1, 2, 3, 7, 9, 10, 11])).toBe("0-3,7,9-11");
    expect(compactRanges([11, 9, 10, 7, 3, 3, 2, 1, 0])).toBe("0-3,7,9-11");
    expect(compactRanges([5])).toBe("5");
    expect(compactRanges([4, 6, 8])).toBe("4,6,8");
    expect(compactRanges([])).toBe("");
    expect(() => compactRanges([1, -1])).toThrow(/integers >= 0; got -1/);
    expect(() => compactRanges([1.5])).toThrow(ConfigError);
  });

  it("expands back to the same set, for random sets", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let t = 0; t < 200; t++) {
      const set = new Set<number>();
      const n = 1 + Math.floor(rand() * 30);
      for (let i = 0; i < n; i++) set.add(Math.floor(rand() * 60));
      const sorted = [...set].sort((a, b) => a - b);
      const list = compactRanges(sorted);
      expect(expandRanges(list)).toEqual(sorted);
      // Shortest: no two adjacent parts could merge.
      const parts = list.split(",").map((p) => p.split("-").map(Number));
      for (let i = 1; i < parts.length; i++) {
        expect(parts[i]![0]! - parts[i - 1]!.at(-1)!).toBeGreaterThan(1);
      }
    }
    expect(() => expandRanges("3-1")).toThrow(/runs backwards/);
    expect(() => expandRanges("a")).toThrow(/not an index list/);
  });
});

describe("sbatch values", () => {
  it("accepts the time forms sbatch accepts and names a bad one with the allowed forms", () => {
    for (const t of [
      "90",
      "0",
      "5:30",
      "2:00:00",
      "1-12",
      "1-2:30",
      "1-02:30:00",
      "UNLIMITED",
      "infinite",
    ]) {
      expect(checkSlurmTime(t)).toBe(t);
    }
    for (const t of ["", "1h", "-5", "2-", "1:2:3:4", "1-2:3:4:5", "1.5", " 10"]) {
      expect(() => checkSlurmTime(t), t).toThrow(
        `--time ${JSON.stringify(t)} is not a SLURM time limit; use one of MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, UNLIMITED`,
      );
    }
  });

  it("checks partitions and CPUs", () => {
    expect(checkSlurmPartition("gpu,debug")).toBe("gpu,debug");
    expect(() => checkSlurmPartition("a b")).toThrow(/--partition "a b" is not a partition name/);
    expect(() => checkSlurmPartition("x;rm -rf")).toThrow(ConfigError);
    expect(checkSlurmCpus(4)).toBe(4);
    for (const c of [0, -1, 1.5, "2", Number.NaN]) {
      expect(() => checkSlurmCpus(c)).toThrow(/--cpus must be an integer >= 1; got/);
    }
  });
});

const OPTS: SlurmScriptOptions = {
  name: "unit-slurm",
  indices: [0, 1, 2, 5],
  outDir: "/shared/results/unit-slurm",
  specFile: "/shared/results/unit-slurm/.slurm/t.spec.json",
  logDir: "/shared/results/unit-slurm/.slurm/logs",
  cpus: 4,
  partition: "debug",
  time: "1-00:00:00",
  projectDir: "/home/me/senet lab",
  node: "/opt/node/bin/node",
  cli: "/home/me/senet lab/bin/senet-lab.js",
};

describe("slurmScript", () => {
  it("writes the array, logs, resources and this checkout's CLI into the script", () => {
    const text = slurmScript(OPTS);
    const lines = text.split("\n");
    expect(lines[0]).toBe("#!/bin/bash");
    expect(lines.filter((l) => l.startsWith("#SBATCH"))).toEqual([
      "#SBATCH --job-name=unit-slurm",
      "#SBATCH --array=0-2,5",
      "#SBATCH --output=/shared/results/unit-slurm/.slurm/logs/%A_%a.out",
      "#SBATCH --error=/shared/results/unit-slurm/.slurm/logs/%A_%a.out",
      "#SBATCH --ntasks=1",
      "#SBATCH --cpus-per-task=4",
      "#SBATCH --partition=debug",
      "#SBATCH --time=1-00:00:00",
      "#SBATCH --signal=B:TERM@120",
    ]);
    expect(text).toContain("export SENET_LAB_THREADS=4\n");
    expect(text).toContain("cd '/home/me/senet lab' || exit 1\n");
    expect(text).toContain(
      `/opt/node/bin/node '/home/me/senet lab/bin/senet-lab.js' sweep run-one /shared/results/unit-slurm/.slurm/t.spec.json --index "$SLURM_ARRAY_TASK_ID" --out /shared/results/unit-slurm &\n`,
    );
    const minimal = slurmScript({ ...OPTS, partition: undefined, time: undefined, indices: [3] });
    expect(minimal).toContain("#SBATCH --array=3\n");
    expect(minimal).not.toContain("--partition");
    expect(minimal).not.toContain("--time");
    expect(spawnSync("bash", ["-n"], { input: text }).status).toBe(0);
  });

  it("refuses what sbatch would misread, naming it", () => {
    expect(() => slurmScript({ ...OPTS, indices: [] })).toThrow(/at least one run index/);
    expect(() => slurmScript({ ...OPTS, logDir: "/shared/my logs" })).toThrow(
      'log folder "/shared/my logs" cannot go into an sbatch script',
    );
    expect(() => slurmScript({ ...OPTS, logDir: "/shared/100%" })).toThrow(ConfigError);
    expect(() => slurmScript({ ...OPTS, time: "soon" })).toThrow(/--time "soon"/);
  });

  it("runs the CLI with the task's index and maps busy (75) and done (3) to exit 0", () => {
    const argsFile = path.join(root, "args.txt");
    const stubNode = path.join(bin, "stub node");
    // Stands in for node: records its arguments and SENET_LAB_THREADS, exits with $STUB_CODE.
    fs.writeFileSync(
      stubNode,
      `#!/bin/sh\nprintf '%s\\n' "$@" "threads=$SENET_LAB_THREADS" "pwd=$(pwd)" > '${argsFile}'\nexit "$STUB_CODE"\n`,
    );
    fs.chmodSync(stubNode, 0o755);
    const text = slurmScript({ ...OPTS, node: stubNode, projectDir: root });
    const script = path.join(root, "task.sbatch");
    fs.writeFileSync(script, text);
    const run = (code: number) =>
      spawnSync("bash", [script], {
        encoding: "utf8",
        env: { ...process.env, SLURM_ARRAY_TASK_ID: "5", STUB_CODE: String(code) },
      });
    const ok = run(0);
    expect(ok.status).toBe(0);
    expect(fs.readFileSync(argsFile, "utf8").split("\n")).toEqual([
      OPTS.cli,
      "sweep",
      "run-one",
      OPTS.specFile,
      "--index",
      "5",
      "--out",
      OPTS.outDir,
      "threads=4",
      `pwd=${root}`,
      "",
    ]);
    expect(ok.stdout).toMatch(/run-one exited 0 after \d+ ms/);
    const busy = run(75);
    expect(busy.status).toBe(0);
    expect(busy.stdout).toContain("run 5 is held by another live process");
    const done = run(3);
    expect(done.status).toBe(0);
    expect(done.stdout).toContain("run 5 was already done");
    expect(run(1).status).toBe(1);
    expect(run(2).status).toBe(2);
    const preempted = run(4);
    expect(preempted.status).toBe(4);
    expect(preempted.stdout).toContain("run 5 was preempted and checkpointed");
  });

  it("passes SLURM's SIGTERM (sent to the batch shell) on to run-one and ends with its status", async () => {
    const stub = path.join(bin, "term node");
    // Stands in for run-one: on SIGTERM it "checkpoints" and exits 4, as training does.
    fs.writeFileSync(
      stub,
      `#!/bin/bash\ntrap 'echo checkpointed; exit 4' TERM\necho started\nwhile true; do sleep 0.05; done\n`,
    );
    fs.chmodSync(stub, 0o755);
    const script = path.join(root, "term.sbatch");
    fs.writeFileSync(script, slurmScript({ ...OPTS, node: stub, projectDir: root }));
    const child = spawn("bash", [script], {
      env: { ...process.env, SLURM_ARRAY_TASK_ID: "5" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    for (let i = 0; i < 200 && !out.includes("started"); i++)
      await new Promise((r) => setTimeout(r, 25));
    child.kill("SIGTERM"); // the shell only, as --signal=B:TERM does
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    expect(out).toContain("senet-lab: SIGTERM (time limit near, or scancel): checkpointing");
    expect(out).toContain("checkpointed");
    expect(out).toContain("run-one exited 4");
    expect(code).toBe(4);
  });
});

describe("submitSlurm", () => {
  beforeEach(() => {
    // sbatch stand-in: records the script path it got and prints a job id like --parsable does.
    fake("sbatch", `echo "$@" >> '${root}/sbatch-calls.txt'\necho "4242;cluster"`);
    fake("squeue", "exit 0");
    fs.rmSync(path.join(root, "sbatch-calls.txt"), { force: true });
  });

  it("validates before writing anything", () => {
    useFakes();
    const out = path.join(root, "never");
    expect(() => submitSlurm(SPEC, { outDir: out, time: "2h" })).toThrow(/--time "2h"/);
    expect(() => submitSlurm(SPEC, { outDir: out, cpus: 0 })).toThrow(/--cpus/);
    expect(() => submitSlurm(SPEC, { outDir: out, partition: "a b" })).toThrow(/--partition/);
    expect(() => submitSlurm({ ...SPEC, grid: { lrr: [1] } }, { outDir: out })).toThrow(
      /unknown experiment config key "lrr"/,
    );
    expect(() => submitSlurm(SPEC, { outDir: path.join(root, "with space") })).toThrow(
      /sweep folder ".*with space" cannot go into an sbatch script/,
    );
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(path.join(root, "sbatch-calls.txt"))).toBe(false);
  });

  it("says which Debian package has sbatch when it is missing", () => {
    const empty = path.join(root, "empty-bin");
    fs.mkdirSync(empty, { recursive: true });
    fs.symlinkSync("/bin/sh", path.join(empty, "sh"));
    process.env.PATH = empty;
    const out = path.join(root, "nosbatch");
    expect(() => submitSlurm(SPEC, { outDir: out, log: () => {} })).toThrow(
      /sbatch is not installed.*apt-get install slurm-client/,
    );
    expect(fs.existsSync(out)).toBe(false);
    // A dry run needs no sbatch.
    expect(submitSlurm(SPEC, { outDir: out, dryRun: true, log: () => {} }).indices).toHaveLength(6);
  });

  it("dry run: returns the script, writes and submits nothing", () => {
    useFakes();
    const out = path.join(root, "dry");
    const lines: string[] = [];
    const r = submitSlurm(SPEC, { outDir: out, dryRun: true, cpus: 2, log: (l) => lines.push(l) });
    expect(r.indices).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.scriptText).toContain("#SBATCH --array=0-5\n");
    expect(r.jobId).toBeUndefined();
    expect(lines.join("\n")).toContain("dry run: would submit 6 of 6 runs as array 0-5");
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(path.join(root, "sbatch-calls.txt"))).toBe(false);
  });

  it("submits only the runs not done (or only the failed ones) and records the job", () => {
    useFakes();
    const out = path.join(root, "submit");
    const spec = checkSweepShape(SPEC);
    writeManifest(out, spec, RUNS);
    // Runs 0 and 4 are done, 2 failed earlier.
    for (const i of [0, 4]) {
      fs.mkdirSync(runDirOf(out, RUNS[i]!.id), { recursive: true });
      fs.writeFileSync(
        path.join(runDirOf(out, RUNS[i]!.id), SUMMARY_FILE),
        '{"status":"completed"}',
      );
    }
    recordFailure(out, RUNS[2]!.id, "boom");
    const r = submitSlurm(SPEC, { outDir: out, cpus: 3, time: "30", log: () => {} });
    expect(r.jobId).toBe("4242");
    expect(r.indices).toEqual([1, 2, 3, 5]);
    expect(r.leftOut).toBe("2 done");
    const calls = fs.readFileSync(path.join(root, "sbatch-calls.txt"), "utf8").trim().split("\n");
    expect(calls).toEqual([`--parsable ${r.script}`]);
    const script = fs.readFileSync(r.script!, "utf8");
    expect(script).toBe(r.scriptText);
    expect(script).toContain("#SBATCH --array=1-3,5\n");
    expect(script).toContain("#SBATCH --time=30\n");
    expect(script).toContain(`--out ${out} &\n`);
    expect(fs.statSync(r.logDir).isDirectory()).toBe(true);
    // The tasks read a frozen copy of the spec, not the user's file.
    const copy = /run-one (\S+) --index/.exec(script)![1]!;
    expect(path.dirname(copy)).toBe(path.join(out, ".slurm"));
    expect(JSON.parse(fs.readFileSync(copy, "utf8"))).toEqual(spec);
    const jobs = readSlurmJobs(out);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      jobId: "4242",
      indices: [1, 2, 3, 5],
      array: "1-3,5",
      failedOnly: false,
    });

    const failed = submitSlurm(SPEC, { outDir: out, failedOnly: true, log: () => {} });
    expect(failed.indices).toEqual([2]);
    expect(failed.leftOut).toBe("2 done, 3 not failed");
    expect(readSlurmJobs(out).map((j) => j.array)).toEqual(["1-3,5", "2"]);
  });

  it("leaves out runs SLURM still has queued or running, and submits nothing when none is left", () => {
    useFakes();
    const out = path.join(root, "queued");
    writeManifest(out, checkSweepShape(SPEC), RUNS);
    recordSlurmJob(out, {
      jobId: "77",
      indices: [0, 1, 2, 3, 4, 5],
      array: "0-5",
      script: "/x",
      spec: "/x",
      logDir: "/x",
      submitted: new Date().toISOString(),
      failedOnly: false,
    });
    // squeue stand-in: tasks 0-3 of array 77 pending, 4 running, 5 completed.
    fake(
      "squeue",
      `echo "$@" >> '${root}/squeue-calls.txt'
printf '77_0|77|0|PENDING|Priority\\n77_1|77|1|PENDING|Priority\\n77_2|77|2|PENDING|Priority\\n77_3|77|3|PENDING|Priority\\n77_4|77|4|RUNNING|None\\n77_5|77|5|COMPLETED|None\\n'`,
    );
    const s = sweepStatus(out);
    expect(s.queued).toBe(5);
    expect(s.runs.map((r) => r.queue?.state ?? "-")).toEqual([
      "PENDING",
      "PENDING",
      "PENDING",
      "PENDING",
      "RUNNING",
      "-",
    ]);
    expect(s.runs.map((r) => r.state)).toEqual(Array(6).fill("missing"));
    expect(s.slurmJobs.map((j) => j.inQueue)).toEqual([5]);
    expect(fs.readFileSync(path.join(root, "squeue-calls.txt"), "utf8")).toContain(
      "-h -r -j 77 -o %i|%F|%K|%T|%r",
    );
    clearSlurmCache();
    const r = submitSlurm(SPEC, { outDir: out, log: () => {} });
    expect(r.indices).toEqual([5]);
    clearSlurmCache();
    fake("squeue", "printf '77_5|77|5|PENDING|Priority\\n'");
    for (const i of [0, 1, 2, 3, 4]) {
      fs.mkdirSync(runDirOf(out, RUNS[i]!.id), { recursive: true });
      fs.writeFileSync(path.join(runDirOf(out, RUNS[i]!.id), SUMMARY_FILE), "{}");
    }
    const lines: string[] = [];
    const none = submitSlurm(SPEC, { outDir: out, log: (l) => lines.push(l) });
    expect(none.indices).toEqual([]);
    expect(none.jobId).toBeUndefined();
    expect(lines.join("\n")).toContain(
      "nothing to submit: 6 runs (5 done, 1 already running or queued)",
    );
  });

  it("reports squeue's absence as a note, not as an error", () => {
    const empty = path.join(root, "empty-bin2");
    fs.mkdirSync(empty, { recursive: true });
    const out = path.join(root, "nosqueue");
    writeManifest(out, checkSweepShape(SPEC), RUNS);
    recordSlurmJob(out, {
      jobId: "5",
      indices: [0],
      array: "0",
      script: "/x",
      spec: "/x",
      logDir: "/x",
      submitted: new Date().toISOString(),
      failedOnly: false,
    });
    process.env.PATH = empty;
    const s = sweepStatus(out);
    expect(s.slurmNote).toBe("squeue is not installed");
    expect(s.slurmJobs[0]!.inQueue).toBeUndefined();
    expect(s.counts.missing).toBe(6);
  });
});

describe("claims under SLURM", () => {
  const otherHost = (slurm?: SlurmIds) => ({
    pid: 123,
    host: `not-${os.hostname()}`,
    procStart: null,
    since: new Date().toISOString(),
    ...(slurm ? { slurm } : {}),
  });

  it("records the SLURM ids of the process that takes a claim", () => {
    process.env.SLURM_JOB_ID = "812";
    process.env.SLURM_ARRAY_JOB_ID = "800";
    process.env.SLURM_ARRAY_TASK_ID = "12";
    expect(ownLockInfo().slurm).toEqual({ jobId: "812", arrayJobId: "800", arrayTaskId: "12" });
    expect(slurmIdsFromEnv({ SLURM_JOB_ID: "9" })).toEqual({ jobId: "9" });
    expect(slurmIdsFromEnv({})).toBeUndefined();
    delete process.env.SLURM_JOB_ID;
    expect(ownLockInfo().slurm).toBeUndefined();
  });

  it("asks squeue about a claim from another host that names a SLURM job", () => {
    useFakes();
    const ids = { jobId: "812", arrayJobId: "800", arrayTaskId: "12" };
    const answers: [string, boolean][] = [
      ["printf '800_12|800|12|RUNNING|None\\n'", true],
      ["printf '800_12|800|12|COMPLETING|None\\n'", true],
      ["printf '800_12|800|12|PENDING|BeginTime\\n'", true],
      ["printf '800_12|800|12|COMPLETED|None\\n'", false],
      ["printf '800_12|800|12|TIMEOUT|None\\n'", false],
      ["exit 0", false], // squeue no longer lists it
      ["echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1", false],
      ["echo 'Unable to contact slurm controller' >&2; exit 1", true], // unknown: keep it
    ];
    for (const [script, alive] of answers) {
      clearSlurmCache();
      fake("squeue", `echo "$@" > '${root}/squeue-args.txt'\n${script}`);
      expect(isLockAlive(otherHost(ids)), script).toBe(alive);
    }
    expect(fs.readFileSync(path.join(root, "squeue-args.txt"), "utf8")).toContain("-j 800_12 ");
    // Without SLURM ids, or without squeue, a claim from another host stays alive.
    clearSlurmCache();
    fake("squeue", "exit 0");
    expect(isLockAlive(otherHost())).toBe(true);
    process.env.PATH = path.join(root, "empty-bin2");
    clearSlurmCache();
    expect(isLockAlive(otherHost(ids))).toBe(true);
  });

  it("a stale SLURM claim makes the run failed in status, and is taken over", () => {
    useFakes();
    fake("squeue", "exit 0");
    const out = path.join(root, "stale");
    writeManifest(out, checkSweepShape(SPEC), RUNS);
    const lock = lockFileOf(out, RUNS[1]!.id);
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, JSON.stringify(otherHost({ jobId: "900" })));
    expect(lockState(lock)).toBe("stale");
    const s = sweepStatus(out);
    expect(s.runs[1]!.state).toBe("failed");
    expect(s.runs[1]!.error).toContain(
      `SLURM task 900 on not-${os.hostname()} ended while training`,
    );
    // The next attempt takes the stale claim over.
    const taken = tryLock(lock);
    expect("lock" in taken).toBe(true);
    if ("lock" in taken) taken.lock.release();
    // A claim from another host without SLURM ids is never judged stale.
    fs.writeFileSync(lock, JSON.stringify(otherHost()));
    expect(sweepStatus(out).runs[1]!.state).toBe("running");
    expect("heldBy" in tryLock(lock)).toBe(true);
  });
});
