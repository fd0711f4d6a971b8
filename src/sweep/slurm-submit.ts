/**
 * Submitting a sweep to SLURM as one job array: validate the spec, the folder and every sbatch
 * value first; pick the runs still to do (or, with `failedOnly`, only the failed ones); write the
 * manifest, a frozen copy of the spec and the sbatch script under <out>/.slurm/; run
 * `sbatch --parsable`; and append the job to <out>/.slurm/jobs.jsonl for `sweep status`.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type CorruptFileError, quote, SenetLabError } from "../errors.js";
import { checkWritableDir, PROJECT_ROOT, writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import {
  isRunDone,
  MANIFEST_FILE,
  recordSlurmJob,
  type SlurmJobRecord,
  slurmDirOf,
} from "./layout.js";
import {
  type CheckedSweep,
  checkSweep,
  setAsideDamaged,
  setAsideDamagedManifest,
  writeSweepFolder,
} from "./run-sweep.js";
import { clearSlurmCache } from "./slurm-queue.js";
import {
  checkSbatchPath,
  checkSlurmCpus,
  checkSlurmPartition,
  checkSlurmTime,
  compactRanges,
  slurmScript,
} from "./slurm-script.js";
import type { SweepSpec } from "./spec.js";
import { sweepStatus } from "./status.js";

/** Options for submitSlurm (the flags of `sweep submit --slurm`). */
export interface SlurmSubmitOptions {
  /** Sweep folder on the shared filesystem; default results/<name> in the project. */
  outDir?: string;
  /** SLURM partition; default: the cluster's default partition. */
  partition?: string;
  /** Time limit per task in an sbatch form (MM, HH:MM:SS, D-HH, ...); default: the partition's. */
  time?: string;
  /** CPUs per task, also the training threads; default 1. */
  cpus?: number;
  /** Resubmit only runs with a failed status (a failure record, or a task that died). */
  failedOnly?: boolean;
  /** Build the script and return it without writing or submitting anything. */
  dryRun?: boolean;
  /** Line logger; default console.log. */
  log?: (line: string) => void;
  /** Refuse a spec of more runs than this before expanding it (default 10,000; `--max-runs`). */
  maxRuns?: number;
}

/** What submitSlurm did. */
export interface SlurmSubmitResult {
  /** The absolute sweep folder. */
  outDir: string;
  /** Run indices in the array (empty: nothing to submit). */
  indices: number[];
  /** The sbatch script's text (absent when nothing was left to run). */
  scriptText?: string;
  /** Where the script was written (absent on dry runs and when nothing was left). */
  script?: string;
  /** The array's job id from sbatch (absent unless submitted). */
  jobId?: string;
  /** Folder of the per-task logs. */
  logDir: string;
  /** Why runs were left out, e.g. "2 done, 1 queued or running". */
  leftOut: string;
}

/** Debian's package that provides sbatch/squeue (for the error when they are missing). */
export const SLURM_CLIENT_PACKAGE = "slurm-client";

/** Throws a clear error when sbatch is not on PATH, naming the Debian package that has it. */
export function requireSbatch(): void {
  const r = spawnSync("sh", ["-c", "command -v sbatch"], { stdio: "ignore" });
  if (r.status !== 0) {
    throw new SenetLabError(
      `sbatch is not installed (or not on PATH); on Debian/Ubuntu: apt-get install ${SLURM_CLIENT_PACKAGE} (and point SLURM_CONF at your cluster's slurm.conf if it is not in /etc/slurm)`,
    );
  }
}

/** A file-name-safe UTC timestamp, e.g. 2026-11-23T15-40-12-345Z. */
function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

/** The runs to submit and a sentence on those left out. */
function pickRuns(
  sweep: CheckedSweep,
  failedOnly: boolean,
  damaged: ReadonlyMap<string, unknown> = new Map(),
): { indices: number[]; leftOut: string } {
  const { runs, outDir } = sweep;
  const hasManifest = fs.existsSync(path.join(outDir, MANIFEST_FILE));
  // With a manifest the folder's status says what is running, queued (SLURM) or failed.
  let status: ReturnType<typeof sweepStatus> | undefined;
  try {
    status = hasManifest ? sweepStatus(outDir) : undefined;
  } catch (err) {
    // A dry run leaves an unreadable manifest in place: judge the runs by their files alone.
    if (!(err instanceof SenetLabError)) throw err;
  }
  const byIndex = new Map(status?.runs.map((r) => [r.index, r]));
  const counts = { done: 0, busy: 0, notFailed: 0 };
  const indices: number[] = [];
  for (const run of runs) {
    const s = byIndex.get(run.index);
    if (damaged.has(run.id)) indices.push(run.index);
    else if (isRunDone(outDir, run.id) || s?.state === "done") counts.done++;
    else if (s?.state === "running" || s?.queue) counts.busy++;
    else if (failedOnly && s?.state !== "failed" && s?.state !== "preempted") counts.notFailed++;
    else indices.push(run.index);
  }
  const parts = [
    `${counts.done} done`,
    ...(counts.busy ? [`${counts.busy} already running or queued`] : []),
    ...(failedOnly ? [`${counts.notFailed} not failed`] : []),
  ];
  return { indices, leftOut: parts.join(", ") };
}

/**
 * Submits the sweep's pending runs (or only its failed ones) as one SLURM job array, one task
 * per run. Everything is checked before anything is written; with `dryRun` nothing is written
 * or submitted and the script is returned. Returns no job when nothing is left to run.
 */
export function submitSlurm(
  rawSpec: SweepSpec | unknown,
  options: SlurmSubmitOptions = {},
): SlurmSubmitResult {
  const cpus = checkSlurmCpus(options.cpus ?? 1);
  const time = options.time === undefined ? undefined : checkSlurmTime(options.time);
  const partition =
    options.partition === undefined ? undefined : checkSlurmPartition(options.partition);
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.outDir !== undefined) checkWritableDir(options.outDir, "sweep folder");
  const damaged = new Map<string, CorruptFileError>();
  const sweep = checkSweep(rawSpec, options.outDir, {
    damaged,
    ...(options.maxRuns !== undefined ? { maxRuns: options.maxRuns } : {}),
  });
  const { spec, runs, outDir } = sweep;
  if (options.outDir === undefined) checkWritableDir(outDir, "sweep folder");
  checkSbatchPath("sweep folder", outDir);
  checkSbatchPath("project folder", PROJECT_ROOT);
  const slurmDir = slurmDirOf(outDir);
  const logDir = path.join(slurmDir, "logs");
  if (!options.dryRun) requireSbatch();

  if (!options.dryRun) {
    // Damaged runs are set aside (kept in .damaged/) and submitted again; a damaged manifest is
    // rewritten from the spec.
    const aside = setAsideDamagedManifest(outDir);
    if (aside) {
      log(`[sweep ${spec.name}] ${MANIFEST_FILE} was damaged; moved it to ${aside}`);
      writeSweepFolder(sweep, { onlyIfChanged: true, log });
    }
    setAsideDamaged(outDir, damaged, (line) =>
      log(line.replace("[sweep]", `[sweep ${spec.name}]`)),
    );
  }
  const { indices, leftOut } = pickRuns(sweep, options.failedOnly ?? false, damaged);
  if (indices.length === 0) {
    log(`[sweep ${spec.name}] nothing to submit: ${runs.length} runs (${leftOut}) → ${outDir}`);
    return { outDir, indices, logDir, leftOut };
  }
  const base = stamp();
  const script = path.join(slurmDir, `${base}.sbatch`);
  const specFile = path.join(slurmDir, `${base}.spec.json`);
  const scriptText = slurmScript({
    name: spec.name,
    indices,
    outDir,
    specFile,
    logDir,
    cpus,
    ...(partition !== undefined ? { partition } : {}),
    ...(time !== undefined ? { time } : {}),
    projectDir: PROJECT_ROOT,
    node: process.execPath,
    cli: path.join(PROJECT_ROOT, "bin", "senet-lab.js"),
  });
  const what = `${indices.length} of ${runs.length} runs as array ${compactRanges(indices)} (left out: ${leftOut})`;
  if (options.dryRun) {
    log(`[sweep ${spec.name}] dry run: would submit ${what}`);
    return { outDir, indices, scriptText, logDir, leftOut };
  }

  writeSweepFolder(sweep, { onlyIfChanged: true });
  fs.mkdirSync(logDir, { recursive: true });
  // The tasks read this frozen copy, so editing the spec file later cannot change a queued array.
  writeJsonAtomic(specFile, spec);
  writeFileAtomic(script, scriptText);
  fs.chmodSync(script, 0o755);
  const r = spawnSync("sbatch", ["--parsable", script], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}: ${r.stderr.trim()}`;
    throw new SenetLabError(`sbatch refused ${quote(script)}: ${why}`);
  }
  // --parsable prints "<jobid>" or "<jobid>;<cluster>".
  const jobId = r.stdout.trim().split(";")[0]!;
  if (!/^\d+$/.test(jobId)) {
    throw new SenetLabError(
      `sbatch printed ${quote(r.stdout.trim())} instead of a job id (script ${quote(script)})`,
    );
  }
  const record: SlurmJobRecord = {
    jobId,
    indices,
    array: compactRanges(indices),
    script,
    spec: specFile,
    logDir,
    submitted: new Date().toISOString(),
    failedOnly: options.failedOnly ?? false,
  };
  recordSlurmJob(outDir, record);
  clearSlurmCache();
  log(`[sweep ${spec.name}] submitted job ${jobId}: ${what}`);
  log(`[sweep ${spec.name}] logs: ${logDir}/${jobId}_<index>.out`);
  return { outDir, indices, scriptText, script, jobId, logDir, leftOut };
}
