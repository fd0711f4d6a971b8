/**
 * Where a sweep keeps things on disk: one folder per run under the sweep folder, the manifest
 * (sweep.json) beside them, and the run claims under .locks/, outside the run folders, so a
 * run folder only ever holds what the training loop wrote.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ConfigError, CorruptFileError, quote } from "../errors.js";
import { RUN_FILES } from "../train/run-folder.js";
import {
  appendJsonl,
  PROJECT_ROOT,
  readJsonIfExists,
  readJsonl,
  removeTempFiles,
  writeJsonAtomic,
} from "../util/fs.js";
import type { SweepRun } from "./expand.js";
import { checkSweepShape, type SweepSpec } from "./spec.js";

// A run folder's names come from src/train/run-folder.ts, the one module that owns them.
/** The name of the file a finished run writes last; its presence means "done". */
export const SUMMARY_FILE = RUN_FILES.summary;
/** The resolved config a run writes first. */
export const CONFIG_FILE = RUN_FILES.config;
/** One JSON record per epoch. */
export const METRICS_FILE = RUN_FILES.metrics;
/** What training wrote about where it ran, including the code hash (`code.codeHash`). */
export const ENV_FILE = RUN_FILES.env;
/** The final weights (saveModel format), written just before summary.json. */
export const MODEL_DIR = RUN_FILES.model;
/** The per-epoch checkpoints; a run that has any resumes rather than being reused. */
export const CHECKPOINT_DIR = RUN_FILES.checkpoint;
/** Written into a run folder whose results were copied from an identical finished run. */
export const REUSED_FILE = "reused.json";

/** What reused.json records: where the results came from, under which key, and when. */
export interface ReusedRecord {
  /** The source run folder, relative to the reuse root the sweep was given. */
  from: string;
  /** The content key both runs share (runKey of the config and the training code hash). */
  key: string;
  /** When the copy was made, ISO time. */
  at: string;
}

/** The manifest file a sweep folder holds. */
export const MANIFEST_FILE = "sweep.json";
/** The folder of run claims inside a sweep folder. */
export const LOCK_DIR = ".locks";
/** The folder damaged files and run folders are moved to (never deleted), with a timestamp. */
export const DAMAGED_DIR = ".damaged";
/** The folder of failure records (one JSON per failed run, removed when it later completes). */
export const FAILURE_DIR = ".failures";
/** Worker exit code meaning "another process holds this run; try again later" (EX_TEMPFAIL). */
export const EXIT_BUSY = 75;
/** Worker exit code meaning "the run was already finished (by another process); nothing done". */
export const EXIT_ALREADY_DONE = 3;

/** What sweep.json records: the resolved spec and the runs it expands to. */
export interface SweepManifest {
  /** Format version of this file. */
  version: 1;
  /** The resolved spec. */
  spec: SweepSpec;
  /** Every run: index, folder name, overrides and seed. */
  runs: Omit<SweepRun, "config">[];
  /** When the manifest was (re)written, ISO time. */
  updated: string;
}

/** The default sweep folder: results/<name> in the project. */
export function defaultOutDir(spec: SweepSpec): string {
  return path.join(PROJECT_ROOT, "results", spec.name);
}

/** A run's folder. */
export function runDirOf(outDir: string, id: string): string {
  return path.join(outDir, id);
}

/** A run's claim file. */
export function lockFileOf(outDir: string, id: string): string {
  return path.join(outDir, LOCK_DIR, `${id}.lock`);
}

/** A run's failure record. */
export function failureFileOf(outDir: string, id: string): string {
  return path.join(outDir, FAILURE_DIR, `${id}.json`);
}

/** What a failure record holds: the error text and when it happened (plus who, if known). */
export interface FailureRecord {
  /** Why the run failed: an exit status or error, and the last lines of its output. */
  error: string;
  /** When the failure was recorded, ISO time. */
  at: string;
  /** Where it happened, when recorded by the failing process itself (e.g. a SLURM task). */
  host?: string;
  /** The SLURM task that failed, e.g. "12_3", when it ran under SLURM. */
  slurm?: string;
  /** True when the run was preempted (SIGTERM/SIGINT, checkpointed), not failed: status says "preempted". */
  preempted?: boolean;
}

/** Records that a run failed (atomically); the next successful attempt clears it. */
export function recordFailure(
  outDir: string,
  id: string,
  error: string,
  extra: Pick<FailureRecord, "host" | "slurm" | "preempted"> = {},
): void {
  const record: FailureRecord = { error, at: new Date().toISOString(), ...extra };
  writeJsonAtomic(failureFileOf(outDir, id), record);
}

/** Removes a run's failure record (after it completed). */
export function clearFailure(outDir: string, id: string): void {
  fs.rmSync(failureFileOf(outDir, id), { force: true });
}

/** The folder of a sweep's SLURM submissions: scripts, spec copies, jobs.jsonl, logs/. */
export const SLURM_DIR = ".slurm";
/** One JSON line per submitted job array, in SLURM_DIR. */
export const SLURM_JOBS_FILE = "jobs.jsonl";

/** What jobs.jsonl records about one submitted job array. */
export interface SlurmJobRecord {
  /** The array's job id as sbatch printed it. */
  jobId: string;
  /** Run indices the array covers (its array task ids). */
  indices: number[];
  /** The same indices as the sbatch index list, e.g. "0-3,7". */
  array: string;
  /** Absolute path of the submitted sbatch script. */
  script: string;
  /** Absolute path of the spec copy the tasks read. */
  spec: string;
  /** Folder of the per-task logs (`<jobId>_<index>.out`). */
  logDir: string;
  /** When it was submitted, ISO time. */
  submitted: string;
  /** Whether only failed runs were resubmitted (`--failed`). */
  failedOnly: boolean;
}

/** A sweep's SLURM folder. */
export function slurmDirOf(outDir: string): string {
  return path.join(outDir, SLURM_DIR);
}

/** Every job array submitted for a sweep folder, oldest first ([] when none). */
export function readSlurmJobs(outDir: string): SlurmJobRecord[] {
  return readJsonl<SlurmJobRecord>(path.join(slurmDirOf(outDir), SLURM_JOBS_FILE));
}

/** Appends a submitted job array to the sweep's jobs.jsonl. */
export function recordSlurmJob(outDir: string, record: SlurmJobRecord): void {
  appendJsonl(path.join(slurmDirOf(outDir), SLURM_JOBS_FILE), record);
}

/** Whether a run has finished (its summary, written last, exists). */
export function isRunDone(outDir: string, id: string): boolean {
  return fs.existsSync(path.join(runDirOf(outDir, id), SUMMARY_FILE));
}

/**
 * Removes what an unfinished copy left in a run folder (reused.json, env.json, metrics.jsonl,
 * model/), so training starts clean. Only for folders without a summary or checkpoint, under
 * the run's claim; config.json stays (it is this run's own).
 */
export function clearPartialCopy(dir: string): void {
  for (const f of [REUSED_FILE, ENV_FILE, METRICS_FILE, MODEL_DIR]) {
    fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
}

/** Writes sweep.json atomically. */
export function writeManifest(outDir: string, spec: SweepSpec, runs: SweepRun[]): SweepManifest {
  const manifest: SweepManifest = {
    version: 1,
    spec,
    runs: runs.map(({ index, id, overrides, seed }) => ({ index, id, overrides, seed })),
    updated: new Date().toISOString(),
  };
  writeJsonAtomic(path.join(outDir, MANIFEST_FILE), manifest);
  return manifest;
}

/** Reads a sweep folder's manifest; a ConfigError naming the folder when it has none. */
export function readManifest(outDir: string): SweepManifest {
  const file = path.join(outDir, MANIFEST_FILE);
  let m: SweepManifest | undefined;
  try {
    m = readJsonIfExists<SweepManifest>(file);
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    throw new CorruptFileError(
      file,
      `${err.reason}; to proceed, rerun 'senet-lab sweep run <spec.json> --out ${outDir}' with the sweep's spec: it moves the damaged manifest to ${DAMAGED_DIR}/ and writes it again from the spec (run folders are kept)`,
      { cause: err },
    );
  }
  if (!m) {
    throw new ConfigError(
      `${quote(outDir)} is not a sweep folder: no ${MANIFEST_FILE} (run 'senet-lab sweep run <spec.json>' first)`,
    );
  }
  if (m.version !== 1 || !Array.isArray(m.runs)) {
    throw new ConfigError(
      `${quote(file)} is not a senet-lab sweep manifest (version ${quote(m.version)})`,
    );
  }
  return { ...m, spec: checkSweepShape(m.spec) };
}

/**
 * Deletes temporary files of atomic writes (`.<name>.<pid>.<hex>.tmp`) that dead processes left
 * in the sweep folder and its failure records; files of live writers are left alone.
 */
export function removeDeadTempFiles(outDir: string): number {
  return (
    removeTempFiles(outDir, { keepLive: true }) +
    removeTempFiles(path.join(outDir, FAILURE_DIR), { keepLive: true })
  );
}

/** A file-name-safe UTC timestamp, e.g. 2026-11-23T15-40-12-345Z, for names under DAMAGED_DIR. */
function damagedStamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

/**
 * Moves a damaged file or run folder of a sweep to `<outDir>/.damaged/<name>.<stamp>` so it can be
 * rebuilt (evidence is kept, never deleted). Returns the new path, or undefined when `from` was
 * already gone (another process moved it first).
 */
export function setAside(outDir: string, from: string): string | undefined {
  const dir = path.join(outDir, DAMAGED_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const to = path.join(dir, `${path.basename(from)}.${damagedStamp()}`);
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return to;
}

/** The files of a run folder whose damage makes the run unusable (read as JSON by sweeps). */
export const RUN_JSON_FILES = [CONFIG_FILE, SUMMARY_FILE, REUSED_FILE] as const;

/**
 * Why a finished run's metrics.jsonl no longer matches what its summary.json recorded (record
 * count and SHA-256, `metricsFile`), or undefined when it matches, when the run is not finished,
 * or when the summary predates the check (no `metricsFile`: nothing to compare, not damage).
 */
export function metricsDamage(
  runDir: string,
  summary: { metricsFile?: { lines?: unknown; sha256?: unknown } } | undefined,
): CorruptFileError | undefined {
  const check = summary?.metricsFile;
  if (!check || typeof check.lines !== "number" || typeof check.sha256 !== "string") {
    return undefined;
  }
  const file = path.join(runDir, METRICS_FILE);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return new CorruptFileError(
      file,
      `the file is missing, but ${SUMMARY_FILE} records ${check.lines} epoch records in it`,
    );
  }
  if (createHash("sha256").update(bytes).digest("hex") === check.sha256) return undefined;
  const lines = bytes
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "").length;
  const what =
    lines < check.lines
      ? "truncated"
      : lines === check.lines
        ? "altered (same record count, other bytes)"
        : "altered (records added)";
  return new CorruptFileError(
    file,
    `${what}: it holds ${lines} epoch record${lines === 1 ? "" : "s"} (${bytes.length} bytes), but ${SUMMARY_FILE} records ${check.lines} with sha256 ${check.sha256.slice(0, 12)}…`,
  );
}

/**
 * Why a run folder cannot be used (the first of its JSON files that is unreadable, then a
 * finished run's metrics.jsonl that no longer matches its summary), or undefined when all is
 * well. Lets status, tables and resume tell one damaged run from the rest.
 */
export function runDamage(outDir: string, id: string): CorruptFileError | undefined {
  let summary: Record<string, unknown> | undefined;
  for (const f of RUN_JSON_FILES) {
    try {
      const value = readJsonIfExists<Record<string, unknown>>(path.join(runDirOf(outDir, id), f));
      if (f === SUMMARY_FILE) summary = value;
    } catch (err) {
      if (err instanceof CorruptFileError) return err;
      throw err;
    }
  }
  return metricsDamage(runDirOf(outDir, id), summary);
}
