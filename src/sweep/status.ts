/**
 * What state each run of a sweep folder is in, read from the files alone (no process needs to
 * be alive to answer): done, running (a live process holds its claim), failed (a worker failed
 * and no rerun has fixed it), or missing (never started, or interrupted; a rerun resumes it).
 * For sweeps submitted to SLURM, squeue is asked too: a claim held by an array task on another
 * host is stale once SLURM says the task ended (the run then counts as failed), and each run
 * that SLURM still has queued or starting carries that task in `queue` (states stay the four
 * above: a queued run is "missing" or "failed" until its task claims it).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CorruptFileError } from "../errors.js";
import { readJsonIfExists, readJsonl } from "../util/fs.js";
import type { RunSummary } from "./experiment.js";
import {
  type FailureRecord,
  failureFileOf,
  lockFileOf,
  METRICS_FILE,
  REUSED_FILE,
  type ReusedRecord,
  readManifest,
  readSlurmJobs,
  runDamage,
  runDirOf,
  type SlurmJobRecord,
  SUMMARY_FILE,
} from "./layout.js";
import { lockState, readLock } from "./lock.js";
import { type SlurmTaskState, slurmArrayTasks, slurmJobLabel } from "./slurm-queue.js";

/**
 * States a run can be in; "damaged": one of its JSON files is unreadable (see `error`), so it is
 * neither usable nor resumable as it is, and `sweep run` moves it aside and trains it again;
 * "preempted": stopped by SIGTERM/SIGINT after a checkpoint at its current step (a SLURM time
 * limit, scancel, Ctrl-C): the next `sweep run` (or `submit --failed`) continues it from there.
 */
export const RUN_STATES = ["done", "running", "failed", "missing", "damaged", "preempted"] as const;
/** A run's state. */
export type RunState = (typeof RUN_STATES)[number];

/** One run's status. */
export interface RunStatus {
  /** Folder name. */
  id: string;
  /** Position in the sweep. */
  index: number;
  /** Its state. */
  state: RunState;
  /** For done runs: the summary's status ("completed" or "diverged"). */
  result?: string;
  /** For done runs copied from an identical finished run: its folder, relative to that sweep's reuse root. */
  reusedFrom?: string;
  /** Epochs recorded in metrics.jsonl so far. */
  epochs: number;
  /** For running runs: the pid holding the claim. */
  pid?: number;
  /** For running runs: the host of the process holding the claim. */
  host?: string;
  /** For runs trained (or last tried) by a SLURM task: that task, e.g. "12_3". */
  slurm?: string;
  /** For failed runs: the recorded error; for damaged runs: which file is unreadable and why. */
  error?: string;
  /** For runs not done nor running: the SLURM task that is queued (or starting) to run it. */
  queue?: SlurmTaskState;
}

/** A submitted job array and how many of its tasks SLURM still holds. */
export interface SlurmJobStatus {
  /** The record from jobs.jsonl. */
  job: SlurmJobRecord;
  /** Tasks of it still pending or running; undefined when squeue could not be asked. */
  inQueue?: number;
}

/** A sweep folder's status. */
export interface SweepStatus {
  /** The sweep's name. */
  name: string;
  /** The folder. */
  outDir: string;
  /** Every run in sweep order. */
  runs: RunStatus[];
  /** Runs per state. */
  counts: Record<RunState, number>;
  /** Runs not done nor running that SLURM has a pending (or starting) task for. */
  queued: number;
  /** Job arrays submitted for this folder (from .slurm/jobs.jsonl), oldest first. */
  slurmJobs: SlurmJobStatus[];
  /** Why SLURM's queue is not part of this status (e.g. "squeue is not installed"), if so. */
  slurmNote?: string;
}

/** How many recent job arrays status asks squeue about. */
const RECENT_JOBS = 50;

/** Pending/running array tasks of a sweep's submitted jobs, by run index (latest job wins). */
function queuedTasks(jobs: SlurmJobRecord[]): {
  byIndex: Map<number, SlurmTaskState>;
  inQueue: Map<string, number> | undefined;
  note?: string;
} {
  const byIndex = new Map<number, SlurmTaskState>();
  if (jobs.length === 0) return { byIndex, inQueue: new Map() };
  const recent = jobs.slice(-RECENT_JOBS);
  const answer = slurmArrayTasks([...new Set(recent.map((j) => j.jobId))]);
  if ("error" in answer) return { byIndex, inQueue: undefined, note: answer.error };
  const inQueue = new Map<string, number>();
  for (const job of recent) {
    const mine = answer.tasks.filter(
      (t) => t.arrayJobId === job.jobId && t.taskId !== undefined && job.indices.includes(t.taskId),
    );
    inQueue.set(job.jobId, mine.length);
    for (const t of mine) byIndex.set(t.taskId!, t);
  }
  return { byIndex, inQueue };
}

/** Reads the status of every run in a sweep folder. */
export function sweepStatus(outDir: string): SweepStatus {
  const manifest = readManifest(outDir);
  const jobs = readSlurmJobs(outDir);
  const queue = queuedTasks(jobs);
  const runs: RunStatus[] = manifest.runs.map((r) => {
    const dir = runDirOf(outDir, r.id);
    const damage = runDamage(outDir, r.id);
    let epochs = 0;
    try {
      epochs = fs.existsSync(dir) ? readJsonl(path.join(dir, METRICS_FILE)).length : 0;
    } catch (err) {
      if (damage)
        return { id: r.id, index: r.index, state: "damaged", epochs, error: damage.message };
      const why = `${JSON.stringify(path.join(dir, METRICS_FILE))} is damaged: a line before the last is not valid JSON (${(err as Error).message.split("\n")[0]})`;
      return { id: r.id, index: r.index, state: "damaged", epochs, error: why };
    }
    if (damage)
      return { id: r.id, index: r.index, state: "damaged", epochs, error: damage.message };
    const summary = readJsonIfExists<RunSummary>(path.join(dir, SUMMARY_FILE));
    if (summary) {
      const reused = readJsonIfExists<ReusedRecord>(path.join(dir, REUSED_FILE));
      return {
        id: r.id,
        index: r.index,
        state: "done",
        result: summary.status,
        epochs,
        ...(reused?.from ? { reusedFrom: reused.from } : {}),
      };
    }
    const lockFile = lockFileOf(outDir, r.id);
    const lock = readLock(lockFile);
    const slurm = lock?.slurm ? { slurm: slurmJobLabel(lock.slurm) } : {};
    const state = lockState(lockFile);
    if (state === "held") {
      return {
        id: r.id,
        index: r.index,
        state: "running",
        epochs,
        ...(lock ? { pid: lock.pid, host: lock.host } : {}),
        ...slurm,
      };
    }
    const queued = queue.byIndex.get(r.index);
    const q = queued ? { queue: queued } : {};
    let failure: FailureRecord | undefined;
    try {
      failure = readJsonIfExists<FailureRecord>(failureFileOf(outDir, r.id));
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      failure = { error: `(its failure record is unreadable: ${err.message})`, at: "" };
    }
    if (failure) {
      return {
        id: r.id,
        index: r.index,
        state: failure.preempted ? "preempted" : "failed",
        epochs,
        error: failure.error,
        ...(failure.slurm ? { slurm: failure.slurm } : {}),
        ...q,
      };
    }
    if (state === "stale" && lock?.slurm) {
      // A SLURM task died holding the claim without recording why: killed, out of time, or
      // its node went down. That is a failure (resubmit with --failed), not an untouched run.
      const where = lock.host === os.hostname() ? "" : ` on ${lock.host}`;
      const error = `SLURM task ${slurmJobLabel(lock.slurm)}${where} ended while training this run (cancelled, out of time, or its node died)`;
      return { id: r.id, index: r.index, state: "failed", epochs, error, ...slurm, ...q };
    }
    return { id: r.id, index: r.index, state: "missing", epochs, ...q };
  });
  const counts = { done: 0, running: 0, failed: 0, missing: 0, damaged: 0, preempted: 0 };
  for (const r of runs) counts[r.state]++;
  const slurmJobs: SlurmJobStatus[] = jobs.map((job) => {
    const n = queue.inQueue?.get(job.jobId);
    return n === undefined ? { job } : { job, inQueue: n };
  });
  return {
    name: manifest.spec.name,
    outDir,
    runs,
    counts,
    queued: runs.filter((r) => r.queue).length,
    slurmJobs,
    ...(queue.note ? { slurmNote: queue.note } : {}),
  };
}

/**
 * The first line of a recorded failure that says why: a record starts with the exit status
 * ("exit status 1", "killed by SIGKILL"), which alone tells nothing, so the first line of the
 * reason after it is joined on ("exit status 1: ConfigError: trainSubset 9999 exceeds ...").
 */
export function failureHeadline(error: string): string {
  const lines = error
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const first = lines[0] ?? "";
  const statusOnly = /^(exit status -?\d+|killed by [A-Z0-9]+)( without writing summary\.json)?$/;
  if (statusOnly.test(first) && lines.length > 1) return `${first}: ${lines[1]}`;
  return first;
}
