/**
 * What state each run of a sweep folder is in, read from the files alone (no process needs to
 * be alive to answer): done, running (a live process holds its claim), failed (a worker failed
 * and no rerun has fixed it), or missing (never started, or interrupted; a rerun resumes it).
 */
import fs from "node:fs";
import path from "node:path";
import { readJsonIfExists, readJsonl } from "../util/fs.js";
import type { RunSummary } from "./experiment.js";
import {
  failureFileOf,
  lockFileOf,
  METRICS_FILE,
  readManifest,
  runDirOf,
  SUMMARY_FILE,
} from "./layout.js";
import { lockState, readLock } from "./lock.js";

/** States a run can be in. */
export const RUN_STATES = ["done", "running", "failed", "missing"] as const;
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
  /** Epochs recorded in metrics.jsonl so far. */
  epochs: number;
  /** For running runs: the pid holding the claim. */
  pid?: number;
  /** For failed runs: the recorded error. */
  error?: string;
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
}

/** Reads the status of every run in a sweep folder. */
export function sweepStatus(outDir: string): SweepStatus {
  const manifest = readManifest(outDir);
  const runs: RunStatus[] = manifest.runs.map((r) => {
    const dir = runDirOf(outDir, r.id);
    const epochs = fs.existsSync(dir) ? readJsonl(path.join(dir, METRICS_FILE)).length : 0;
    const summary = readJsonIfExists<RunSummary>(path.join(dir, SUMMARY_FILE));
    if (summary) return { id: r.id, index: r.index, state: "done", result: summary.status, epochs };
    const lockFile = lockFileOf(outDir, r.id);
    if (lockState(lockFile) === "held") {
      const pid = readLock(lockFile)?.pid;
      return { id: r.id, index: r.index, state: "running", epochs, ...(pid ? { pid } : {}) };
    }
    const failure = readJsonIfExists<{ error: string }>(failureFileOf(outDir, r.id));
    if (failure) return { id: r.id, index: r.index, state: "failed", epochs, error: failure.error };
    return { id: r.id, index: r.index, state: "missing", epochs };
  });
  const counts = { done: 0, running: 0, failed: 0, missing: 0 };
  for (const r of runs) counts[r.state]++;
  return { name: manifest.spec.name, outDir, runs, counts };
}
