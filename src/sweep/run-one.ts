/**
 * Running one run of a sweep in this process, under its claim: take the lock, skip if the
 * summary already exists, train (the training loop resumes from its last checkpoint), release.
 * The worker process, and later a cluster's array task, are thin wrappers around this.
 */

import fs from "node:fs";
import path from "node:path";
import { readJsonIfExists } from "../util/fs.js";
import type { SweepRun } from "./expand.js";
import { type RunSummary, runConfig, runExperiment } from "./experiment.js";
import {
  clearPartialCopy,
  isRunDone,
  lockFileOf,
  REUSED_FILE,
  runDirOf,
  SUMMARY_FILE,
} from "./layout.js";
import { type LockInfo, tryLock } from "./lock.js";

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
    // (runExperiment clears the temp files killed writers left, once, as it starts.)
    // A copy from another sweep that was killed before its summary: train from a clean folder
    // (its reused.json would otherwise claim results this run computes itself).
    if (fs.existsSync(path.join(runDir, REUSED_FILE))) clearPartialCopy(runDir);
    const config = runConfig(run);
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
