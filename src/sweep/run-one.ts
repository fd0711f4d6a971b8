/**
 * Running one run of a sweep in this process, under its claim: take the lock, skip if the
 * summary already exists, train (the training loop resumes from its last checkpoint), release.
 * The worker process, and later a cluster's array task, are thin wrappers around this.
 */

import fs from "node:fs";
import path from "node:path";
import { readJsonIfExists } from "../util/fs.js";
import type { SweepRun } from "./expand.js";
import { type RunSummary, resolveExperimentConfig, runExperiment } from "./experiment.js";
import {
  clearPartialCopy,
  isRunDone,
  lockFileOf,
  REUSED_FILE,
  runDirOf,
  SUMMARY_FILE,
} from "./layout.js";
import { type LockInfo, tryLock } from "./lock.js";

/**
 * Deletes temporary files a killed writer left in a run folder (atomic writes go through
 * `.<name>.<pid>.<hex>.tmp`). Only called while holding the run's claim, so no live process
 * can be writing them.
 */
export function removeTempFiles(dir: string): number {
  let removed = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) removed += removeTempFiles(p);
    else if (e.name.startsWith(".") && e.name.endsWith(".tmp")) {
      fs.rmSync(p, { force: true });
      removed++;
    }
  }
  return removed;
}

/** What happened to one run attempt. */
export type RunOneResult =
  | { outcome: "completed" | "diverged"; summary: RunSummary }
  | { outcome: "done"; summary: RunSummary | undefined }
  | { outcome: "busy"; heldBy: LockInfo | null };

/** Options for runOne. */
export interface RunOneOptions {
  /** Line logger for the training loop's per-epoch lines. */
  log?: (line: string) => void;
  /** Passed to runExperiment: show a progress bar (off in workers: one line per epoch instead). */
  progress?: boolean;
}

/**
 * Runs `run` into `outDir/<run.id>` unless it is done or claimed by a live process. A run that
 * diverges is a result ("diverged"), not an error; anything thrown by training propagates.
 */
export async function runOne(
  outDir: string,
  run: SweepRun,
  options: RunOneOptions = {},
): Promise<RunOneResult> {
  const claim = tryLock(lockFileOf(outDir, run.id));
  if ("heldBy" in claim) return { outcome: "busy", heldBy: claim.heldBy };
  try {
    const runDir = runDirOf(outDir, run.id);
    if (isRunDone(outDir, run.id)) {
      return {
        outcome: "done",
        summary: readJsonIfExists<RunSummary>(path.join(runDir, SUMMARY_FILE)),
      };
    }
    removeTempFiles(runDir);
    // A copy from another sweep that was killed before its summary: train from a clean folder
    // (its reused.json would otherwise claim results this run computes itself).
    if (fs.existsSync(path.join(runDir, REUSED_FILE))) clearPartialCopy(runDir);
    const config = resolveExperimentConfig(run.config);
    const summary = await runExperiment(config, {
      runDir,
      progress: options.progress ?? false,
      log: options.log ?? ((line: string) => console.log(line)),
    });
    return { outcome: summary.status === "diverged" ? "diverged" : "completed", summary };
  } finally {
    claim.lock.release();
  }
}
