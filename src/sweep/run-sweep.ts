/**
 * Running a sweep: validate everything, write the manifest, skip finished runs, copy runs whose
 * identical twin another sweep finished (`reuseRoot`), and hand the rest to a pool of persistent
 * worker processes (each trains run after run, `threadsPerWorker` threads each), printing their
 * lines prefixed by run. Safe to kill at any moment and to start twice at once: every run
 * is claimed by a lock file, every file is written atomically, and a rerun resumes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BACKEND_CHOICES, type BackendChoice } from "../backend/index.js";
import { ConfigError, CorruptFileError, EXIT_PREEMPTED, oneOf, quote } from "../errors.js";
import { trainingCodeHash } from "../util/code-hash.js";
import { appendJsonl, checkWritableDir, readJsonIfExists } from "../util/fs.js";
import type { SweepRun } from "./expand.js";
import { type RunSummary, resolveExperimentConfig, runConfig } from "./experiment.js";
import {
  CONFIG_FILE,
  clearFailure,
  defaultOutDir,
  EXIT_ALREADY_DONE,
  EXIT_BUSY,
  isRunDone,
  lockFileOf,
  MANIFEST_FILE,
  readManifest,
  recordFailure,
  removeDeadTempFiles,
  runDamage,
  runDirOf,
  SUMMARY_FILE,
  type SweepManifest,
  setAside,
  writeManifest,
} from "./layout.js";
import { clearStaleLock, lockState } from "./lock.js";
import { WorkerPool } from "./pool.js";
import { resolvePoolShape, threadsFromEnv } from "./pool-shape.js";
import { checkSweepData, resolveSweep } from "./resolve.js";
import {
  findReusable,
  hasCheckpoint,
  indexFinishedRuns,
  type ReuseCandidate,
  type ReuseIndex,
  tryReuse,
  wantedRunKey,
} from "./reuse.js";
import { formatErrors, jsonEqual, type SweepSpec } from "./spec.js";

/** Options for runSweep. */
export interface RunSweepOptions {
  /** Sweep folder; default results/<name> in the project. */
  outDir?: string;
  /**
   * Parallel worker processes; default: cores ÷ threadsPerWorker (at least 1), or the
   * calibrated shape (see poolFile) when neither this nor threadsPerWorker is given.
   */
  workers?: number;
  /**
   * Threads per worker (SENET_LAB_THREADS in each worker); default SENET_LAB_THREADS, else the
   * calibrated shape's, else 1.
   */
  threadsPerWorker?: number;
  /**
   * The calibration (`senet-lab sweep calibrate`) to take the default shape from when neither
   * workers nor threadsPerWorker is given and SENET_LAB_THREADS is unset; used only if measured
   * on this host with this core count and backend, under 30 days ago. Default
   * .senet-lab/pool.json in the project.
   */
  poolFile?: string;
  /** Receives every output line (already prefixed by run); default console.log. */
  log?: (line: string) => void;
  /** How often to look again at runs another process holds, in ms; default 2000. */
  pollMs?: number;
  /**
   * A folder of sweeps to reuse finished runs from: a pending run whose content key (resolved
   * config + training-code hash) matches a finished run of a sweep under it is copied, not
   * trained. Scanned once per call.
   */
  reuseRoot?: string;
  /** Backend for the workers (SENET_LAB_BACKEND in their environment, never in this process's). */
  backend?: BackendChoice;
  /** Called once per run as its outcome is known (already-done runs at the start), e.g. for a progress file. */
  onRunEnd?: (outcome: SweepRunOutcome) => void;
  /** Refuse a spec of more runs than this before expanding it (default 10,000; see checkRunCount). */
  maxRuns?: number;
}

/** What became of one run in this invocation. */
export interface SweepRunOutcome {
  /** The run's folder name. */
  id: string;
  /** Position in the sweep's expansion. */
  index: number;
  /**
   * "completed"/"diverged": trained now; "done": finished earlier (or by a concurrent sweep);
   * "reused": copied now from an identical finished run under reuseRoot (see reusedFrom);
   * "failed": the worker failed (see error); the next rerun tries it again;
   * "preempted": stopped by SIGTERM/SIGINT after a checkpoint at its current step (recorded, so
   * status shows it), the next rerun continues it; "pending": the sweep was stopped before it started.
   */
  status: "completed" | "diverged" | "done" | "reused" | "failed" | "preempted" | "pending";
  /** The run's summary.json, when it has one. */
  summary?: RunSummary;
  /** Wall-clock seconds of the worker process (start-up included), or of the copy; absent when not run now. */
  seconds?: number;
  /** For reused runs: the source folder, relative to reuseRoot. */
  reusedFrom?: string;
  /** Why it failed: the worker's exit status and last lines of its stderr. */
  error?: string;
}

/** The result of runSweep. */
export interface SweepResult {
  /** The sweep folder. */
  outDir: string;
  /** Every run of the sweep, in expansion order. */
  runs: SweepRunOutcome[];
  /** How many runs ended in each status. */
  counts: Record<SweepRunOutcome["status"], number>;
  /** Workers used and threads each. */
  workers: number;
  /** Threads per worker. */
  threadsPerWorker: number;
  /** Wall-clock seconds of the whole call. */
  seconds: number;
  /** The pool's shape and measured per-run overhead, as appended to the folder's pool log. */
  pool: PoolRecord;
  /** The signal (SIGTERM/SIGINT) that stopped the sweep early, if one did. */
  stopped?: string;
}

/** Per-run overhead of the pool: a run's wall time in the pool minus its summary's wallSeconds. */
export interface OverheadStats {
  /** Runs measured. */
  n: number;
  /** Mean seconds. */
  mean: number;
  /** Median seconds. */
  median: number;
  /** Largest seconds. */
  max: number;
}

/**
 * One line of a sweep folder's pool log (.pool.jsonl), one per runSweep call that trained: the
 * pool's shape on this machine with what it measured, so workers × threads can be chosen (and
 * checked) from recorded numbers rather than guessed.
 */
export interface PoolRecord {
  /** When the call ended, ISO time. */
  at: string;
  /** This machine. */
  host: string;
  /** Cores available to this process. */
  cores: number;
  /** Worker processes used. */
  workers: number;
  /** Threads per worker. */
  threadsPerWorker: number;
  /**
   * Where the shape came from, e.g. "calibrated 2026-12-02 on vm: 2×1 at 443 img/s vs 1×2 at
   * 250" or "default: cores ÷ 1 thread" (see resolvePoolShape).
   */
  shapeSource: string;
  /** The backend asked of the workers ("auto" when none was). */
  backend: string;
  /** Runs trained now. */
  trained: number;
  /** Runs copied now. */
  reused: number;
  /** Wall seconds of the whole call. */
  seconds: number;
  /** Sum of the trained runs' wallSeconds divided by the call's seconds: how busy the pool kept training. */
  trainingShare: number;
  /** Overhead of runs that started a worker process (its start-up included). */
  coldOverhead: OverheadStats | null;
  /** Overhead of runs handed to a warm worker: what issue 12 bounds by 0.3 s. */
  warmOverhead: OverheadStats | null;
}

/** The pool log in a sweep folder: one JSON line per runSweep call that trained or copied. */
export const POOL_LOG_FILE = ".pool.jsonl";

function overheadStats(xs: number[]): OverheadStats | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: xs.length,
    mean: r(xs.reduce((a, b) => a + b, 0) / xs.length),
    median: r(median),
    max: r(sorted[sorted.length - 1]!),
  };
}

/** Threads per worker without a calibration: SENET_LAB_THREADS, else 1. */
export function defaultThreadsPerWorker(): number {
  return threadsFromEnv() ?? 1;
}

/** Default worker count: cores ÷ threads per worker, at least 1. */
export function defaultWorkers(threadsPerWorker: number): number {
  return Math.max(1, Math.floor(os.availableParallelism() / threadsPerWorker));
}

/**
 * Gives a stored config the keys added to the config schema since its run started, with the
 * values resolving it now gives them (their defaults, which may depend on its other keys), as
 * resuming it does. Keys it has are left as stored; an old config that no longer resolves keeps
 * its gaps, which are then reported as differences.
 */
export function fillAddedKeys(
  stored: Record<string, unknown>,
  wanted: Record<string, unknown>,
): void {
  const missing = Object.keys(wanted).filter((k) => !(k in stored));
  if (missing.length === 0) return;
  let resolved: Record<string, unknown>;
  try {
    resolved = resolveExperimentConfig({ ...stored }) as unknown as Record<string, unknown>;
  } catch {
    return;
  }
  for (const k of missing) stored[k] = resolved[k];
}

/**
 * Errors (before any training) when a run folder already holds a config that differs from what
 * the spec now asks for: resuming or skipping it would mix two experiments in one table.
 */
export function checkExistingRuns(
  outDir: string,
  runs: SweepRun[],
  damaged?: Map<string, CorruptFileError>,
): void {
  const errors: string[] = [];
  const unreadable: string[] = [];
  for (const run of runs) {
    // A run whose files are unreadable cannot be compared: collected for the caller to set
    // aside and retrain (damaged given), else refused with a way out.
    const damage = runDamage(outDir, run.id);
    if (damage) {
      if (damaged) damaged.set(run.id, damage);
      else unreadable.push(`run ${run.id}: ${damage.message}`);
      continue;
    }
    const stored = readJsonIfExists<Record<string, unknown>>(
      path.join(runDirOf(outDir, run.id), CONFIG_FILE),
    );
    if (!stored) continue;
    const wanted = runConfig(run) as unknown as Record<string, unknown>;
    fillAddedKeys(stored, wanted);
    const diff = Object.keys(wanted).filter((k) => !jsonEqual(wanted[k], stored[k]));
    if (diff.length > 0) {
      const d = diff
        .slice(0, 4)
        .map((k) => `${k}: stored ${quote(stored[k])}, spec ${quote(wanted[k])}`)
        .join("; ");
      errors.push(`run ${run.id} was started with another config (${d})`);
    }
  }
  if (unreadable.length > 0) {
    throw new ConfigError(
      `${formatErrors(`${quote(outDir)} holds damaged runs`, unreadable)}\nRun 'senet-lab sweep run <spec.json> --out ${outDir}' to move them to ${quote(path.join(outDir, ".damaged"))} and train them again.`,
    );
  }
  if (errors.length > 0) {
    throw new ConfigError(
      `${formatErrors(`${quote(outDir)} holds runs of a different spec`, errors)}\nUse another --out folder, or delete those run folders.`,
    );
  }
}

/** A sweep validated against its folder, ready to run or submit. */
export interface CheckedSweep {
  /** The resolved spec. */
  spec: SweepSpec;
  /** Every run it expands to, in index order. */
  runs: SweepRun[];
  /** The absolute sweep folder. */
  outDir: string;
}

/**
 * Validates a spec in full (every run config, and its values against its dataset's sizes) and
 * checks the run folders already in `outDir` (default results/<name>) against it. Writes
 * nothing: every caller does this before any work.
 */
export function checkSweep(
  rawSpec: SweepSpec | unknown,
  outDir?: string,
  options: CheckSweepOptions = {},
): CheckedSweep {
  const { spec, runs } = resolveSweep(rawSpec, {
    ...(options.maxRuns !== undefined ? { maxRuns: options.maxRuns } : {}),
  });
  checkSweepData(spec, runs);
  const dir = path.resolve(outDir ?? defaultOutDir(spec));
  checkExistingRuns(dir, runs, options.damaged);
  return { spec, runs, outDir: dir };
}

/** Options of checkSweep. */
export interface CheckSweepOptions {
  /** Refuse more runs than this before expanding (default 10,000). */
  maxRuns?: number;
  /** Collects runs with unreadable files (by id) instead of refusing them, for setAsideDamaged. */
  damaged?: Map<string, CorruptFileError>;
}

/**
 * Moves each damaged run folder (see checkExistingRuns) to `<outDir>/.damaged/<id>.<stamp>` so it
 * is trained again from scratch, keeping the unreadable files as evidence; a run another live
 * process holds is left alone. Logs one line per run moved.
 */
export function setAsideDamaged(
  outDir: string,
  damaged: Map<string, CorruptFileError>,
  log: (line: string) => void,
): number {
  let moved = 0;
  for (const [id, err] of damaged) {
    if (lockState(lockFileOf(outDir, id)) === "held") continue;
    const to = setAside(outDir, runDirOf(outDir, id));
    if (!to) continue;
    clearFailure(outDir, id);
    moved++;
    log(
      `[sweep] run ${id} is damaged (${err.message}); moved it to ${to}; it runs again from scratch`,
    );
  }
  return moved;
}

/**
 * Moves an unreadable sweep.json aside (to .damaged/) so it is written again from the spec;
 * returns where it went, or undefined when it is absent or readable.
 */
export function setAsideDamagedManifest(outDir: string): string | undefined {
  try {
    if (fs.existsSync(path.join(outDir, MANIFEST_FILE))) readManifest(outDir);
    return undefined;
  } catch (err) {
    if (!(err instanceof CorruptFileError)) return undefined; // another sweep's manifest: rewritten as before
    return setAside(outDir, path.join(outDir, MANIFEST_FILE));
  }
}

/**
 * Creates the sweep folder and writes its manifest. `removeDeadTemp` also deletes temporary
 * files of dead local writers (only safe where no other host writes into the folder at the
 * same time: it judges pids on this host); `onlyIfChanged` leaves an equal manifest untouched,
 * so array tasks starting together on many nodes do not all rewrite it.
 */
export function writeSweepFolder(
  sweep: CheckedSweep,
  options: {
    removeDeadTemp?: boolean;
    onlyIfChanged?: boolean;
    log?: (line: string) => void;
  } = {},
): void {
  const { spec, runs, outDir } = sweep;
  fs.mkdirSync(outDir, { recursive: true });
  if (options.removeDeadTemp) removeDeadTempFiles(outDir);
  // The spec is given, so an unreadable manifest is rebuilt from it; the bad copy is kept.
  const aside = setAsideDamagedManifest(outDir);
  if (aside) {
    (options.log ?? console.log)(
      `[sweep ${spec.name}] ${MANIFEST_FILE} was damaged; moved it to ${aside} and wrote it again from the spec`,
    );
  }
  if (options.onlyIfChanged) {
    const old = readJsonIfExists<Partial<SweepManifest>>(path.join(outDir, MANIFEST_FILE));
    const wanted = runs.map(({ index, id, overrides, seed }) => ({ index, id, overrides, seed }));
    if (old && old.version === 1 && jsonEqual(old.spec, spec) && jsonEqual(old.runs, wanted)) {
      return;
    }
  }
  writeManifest(outDir, spec, runs);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A short, readable label for a run's lines. */
export function runLabel(run: SweepRun, total: number): string {
  return `${String(run.index + 1).padStart(String(total).length)}/${total} ${run.id.replaceAll("__", " ")}`;
}

/** The training loop's own seconds, from its summary, to show the per-run overhead. */
function trainingSeconds(summary: RunSummary | undefined): string {
  const w = (summary as unknown as Record<string, unknown> | undefined)?.wallSeconds;
  return typeof w === "number" ? ` (training ${w.toFixed(1)} s)` : "";
}

/**
 * Runs every pending run of a sweep in worker processes and returns what became of each.
 * The spec (raw JSON or resolved) is validated in full, and existing run folders are checked
 * against it, before anything trains. Runs already finished are skipped, runs with an identical
 * finished twin under `reuseRoot` are copied; diverged and failed runs do not stop the others.
 */
export async function runSweep(
  rawSpec: SweepSpec | unknown,
  options: RunSweepOptions = {},
): Promise<SweepResult> {
  const t0 = performance.now();
  if (options.outDir !== undefined) checkWritableDir(options.outDir, "sweep folder");
  const damaged = new Map<string, CorruptFileError>();
  const prepared = checkSweep(rawSpec, options.outDir, {
    damaged,
    ...(options.maxRuns !== undefined ? { maxRuns: options.maxRuns } : {}),
  });
  const { spec, runs, outDir } = prepared;
  if (options.outDir === undefined) checkWritableDir(outDir, "sweep folder");
  const backend =
    options.backend === undefined ? undefined : oneOf("backend", options.backend, BACKEND_CHOICES);
  const shape = resolvePoolShape({
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.threadsPerWorker !== undefined
      ? { threadsPerWorker: options.threadsPerWorker }
      : {}),
    ...(options.poolFile !== undefined ? { poolFile: options.poolFile } : {}),
    ...(backend !== undefined ? { backend } : {}),
  });
  const { workers, threadsPerWorker } = shape;
  const log = options.log ?? ((line: string) => console.log(line));
  const pollMs = options.pollMs ?? 2000;
  const reuseIndex: ReuseIndex | undefined =
    options.reuseRoot === undefined ? undefined : indexFinishedRuns(options.reuseRoot);

  writeSweepFolder(prepared, { removeDeadTemp: true, log });
  setAsideDamaged(outDir, damaged, (line) => log(line.replace("[sweep]", `[sweep ${spec.name}]`)));

  const outcomes = new Map<string, SweepRunOutcome>();
  const finish = (outcome: SweepRunOutcome) => {
    outcomes.set(outcome.id, outcome);
    try {
      options.onRunEnd?.(outcome);
    } catch (err) {
      log(`[sweep ${spec.name}] onRunEnd threw for ${outcome.id}: ${String(err)}`);
    }
  };
  const readSummary = (run: SweepRun): RunSummary | undefined => {
    try {
      return readJsonIfExists<RunSummary>(path.join(runDirOf(outDir, run.id), SUMMARY_FILE));
    } catch (err) {
      // Damaged while another process held it (not set aside): reported, not fatal.
      if (err instanceof CorruptFileError) return undefined;
      throw err;
    }
  };
  const doneOutcome = (run: SweepRun): SweepRunOutcome => {
    const summary = readSummary(run);
    return { id: run.id, index: run.index, status: "done", ...(summary ? { summary } : {}) };
  };
  const queue: SweepRun[] = [];
  for (const run of runs) {
    if (isRunDone(outDir, run.id)) {
      // A worker killed between writing the summary and releasing its claim left the lock.
      clearStaleLock(lockFileOf(outDir, run.id));
      finish(doneOutcome(run));
    } else queue.push(run);
  }
  // The finished twin each pending run could be copied from, looked up once.
  const sources = new Map<string, ReuseCandidate>();
  if (reuseIndex) {
    const codeHash = trainingCodeHash();
    for (const run of queue) {
      const c = findReusable(
        reuseIndex,
        wantedRunKey(run, codeHash),
        run,
        runDirOf(outDir, run.id),
      );
      if (c && !hasCheckpoint(runDirOf(outDir, run.id))) sources.set(run.id, c);
    }
  }
  const toTrain = queue.length - sources.size;
  const nWorkers = Math.max(1, Math.min(workers, toTrain));
  // The first line: what runs where, and why this shape.
  log(
    `[sweep ${spec.name}] ${runs.length} runs: ${runs.length - queue.length} done, ${sources.size ? `${sources.size} to reuse, ` : ""}${toTrain} to run on ${nWorkers} worker${nWorkers === 1 ? "" : "s"} × ${threadsPerWorker} thread${threadsPerWorker === 1 ? "" : "s"} (${shape.source}) → ${outDir}`,
  );
  if (reuseIndex) {
    log(
      `[sweep ${spec.name}] reuse: ${reuseIndex.runs} finished run(s) under ${reuseIndex.root} (scanned in ${reuseIndex.seconds.toFixed(2)} s); ${sources.size} of ${queue.length} pending match`,
    );
  }

  const waiting: SweepRun[] = [];
  const active = new Set<Promise<void>>();
  /** Copies the run from its twin when it has one; false when it must be trained. */
  const reuse = (run: SweepRun): boolean => {
    const source = sources.get(run.id);
    if (!source || !reuseIndex) return false;
    const label = runLabel(run, runs.length);
    const c0 = performance.now();
    const r = tryReuse(outDir, run, source, reuseIndex);
    if (r.outcome === "busy") {
      waiting.push(run);
      return true;
    }
    if (r.outcome === "done") {
      finish({
        id: run.id,
        index: run.index,
        status: "done",
        ...(r.summary ? { summary: r.summary } : {}),
      });
      log(`[${label}] already finished by another process`);
      return true;
    }
    // Tried once: a run that must train (a checkpoint of its own, a failed copy) stays trained.
    sources.delete(run.id);
    if (r.outcome === "train") {
      if (r.error) log(`[${label}] could not reuse ${source.dir} (${r.error}); training it`);
      return false;
    }
    clearFailure(outDir, run.id);
    const seconds = (performance.now() - c0) / 1000;
    finish({
      id: run.id,
      index: run.index,
      status: "reused",
      summary: r.summary,
      seconds,
      reusedFrom: r.record.from,
    });
    log(
      `[${label}] reused (${r.summary.status}) from ${r.record.from}, key ${r.record.key}, in ${seconds.toFixed(2)} s`,
    );
    return true;
  };
  // SIGTERM/SIGINT: start nothing new, pass the signal to the workers (each checkpoints at its
  // current step and answers "preempted"), wait for them, then return. A second signal 2 s or
  // more later ends this process at once.
  let stopping: NodeJS.Signals | undefined;
  let stopAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping && performance.now() - stopAt >= 2000) {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      process.kill(process.pid, sig);
      return;
    }
    if (stopping) return;
    stopping = sig;
    stopAt = performance.now();
    log(`[sweep ${spec.name}] ${sig}: stopping; runs in training checkpoint and stop (preempted)`);
    pool.signal(sig);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  const coldOverheads: number[] = [];
  const warmOverheads: number[] = [];
  let trainingWall = 0;
  const pool = new WorkerPool({ outDir, size: nWorkers, threads: threadsPerWorker, backend, log });
  const start = (run: SweepRun) => {
    const label = runLabel(run, runs.length);
    const p = pool.run(run.id, label).then(
      (exit) => {
        active.delete(p);
        if (exit.code === EXIT_BUSY) {
          waiting.push(run);
          return;
        }
        const summary = readSummary(run);
        const worker = `worker ${exit.seconds.toFixed(1)} s${exit.coldStart ? " (new worker)" : ""}`;
        if (exit.code === EXIT_ALREADY_DONE && summary) {
          finish({ id: run.id, index: run.index, status: "done", summary });
          log(`[${label}] already finished by another process`);
        } else if (exit.code === 0 && summary) {
          const status = summary.status === "diverged" ? "diverged" : "completed";
          const overhead = exit.seconds - (summary.wallSeconds ?? 0);
          (exit.coldStart ? coldOverheads : warmOverheads).push(overhead);
          trainingWall += summary.wallSeconds ?? 0;
          clearFailure(outDir, run.id);
          finish({ id: run.id, index: run.index, status, summary, seconds: exit.seconds });
          log(`[${label}] ${status}: ${worker}${trainingSeconds(summary)}`);
        } else if (exit.code === EXIT_PREEMPTED || (stopping && exit.signal)) {
          const error =
            exit.error?.split("\n")[0] ??
            `killed by ${exit.signal} while the sweep stopped (it resumes from its last checkpoint)`;
          recordFailure(outDir, run.id, `preempted: ${error}`, { preempted: true });
          finish({
            id: run.id,
            index: run.index,
            status: "preempted",
            seconds: exit.seconds,
            error,
          });
          log(`[${label}] PREEMPTED: ${error}`);
        } else {
          const why = exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
          const detail = exit.error ? exit.error.split("\n") : exit.stderrTail;
          const error = `${why}${exit.code === 0 ? " without writing summary.json" : ""}${detail.length ? `\n${detail.slice(0, 8).join("\n")}` : ""}`;
          recordFailure(outDir, run.id, error);
          finish({ id: run.id, index: run.index, status: "failed", seconds: exit.seconds, error });
          log(`[${label}] FAILED (${why})${exit.error ? `: ${exit.error.split("\n")[0]}` : ""}`);
        }
      },
      (err: unknown) => {
        active.delete(p);
        finish({ id: run.id, index: run.index, status: "failed", error: String(err) });
        log(`[${label}] FAILED to start: ${String(err)}`);
      },
    );
    active.add(p);
  };
  const recheckWaiting = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      const run = waiting[i]!;
      if (isRunDone(outDir, run.id)) {
        finish(doneOutcome(run));
        waiting.splice(i, 1);
      } else if (lockState(lockFileOf(outDir, run.id)) !== "held") {
        queue.push(run);
        waiting.splice(i, 1);
      }
    }
  };
  let announcedWait = false;
  try {
    while ((!stopping && (queue.length > 0 || waiting.length > 0)) || active.size > 0) {
      // Copies take no worker slot: do them all before (and between) trainings.
      const rest = stopping ? queue.splice(0) : queue.splice(0).filter((run) => !reuse(run));
      queue.push(...rest);
      while (!stopping && queue.length > 0 && active.size < nWorkers) start(queue.shift()!);
      if (active.size > 0) {
        await (waiting.length > 0
          ? Promise.race([...active, sleep(pollMs)])
          : Promise.race(active));
      } else if (waiting.length > 0) {
        if (!announcedWait) {
          log(
            `[sweep ${spec.name}] waiting for ${waiting.length} run(s) another process is training`,
          );
          announcedWait = true;
        }
        await sleep(pollMs);
      }
      recheckWaiting();
    }
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    await pool.close();
  }

  const ordered = runs.map(
    (r): SweepRunOutcome => outcomes.get(r.id) ?? { id: r.id, index: r.index, status: "pending" },
  );
  const counts = {
    completed: 0,
    diverged: 0,
    done: 0,
    reused: 0,
    failed: 0,
    preempted: 0,
    pending: 0,
  };
  for (const o of ordered) counts[o.status]++;
  const seconds = (performance.now() - t0) / 1000;
  log(
    `[sweep ${spec.name}] ${stopping ? `stopped by ${stopping}` : "finished"} in ${seconds.toFixed(1)} s: ${counts.completed} completed, ${counts.diverged} diverged, ${counts.reused} reused, ${counts.done} already done, ${counts.failed} failed${counts.preempted ? `, ${counts.preempted} preempted` : ""}${counts.pending ? `, ${counts.pending} not started` : ""}${stopping ? "; rerun to continue" : ""}`,
  );
  const trained = counts.completed + counts.diverged;
  const record: PoolRecord = {
    at: new Date().toISOString(),
    host: os.hostname(),
    cores: os.availableParallelism(),
    workers: nWorkers,
    threadsPerWorker,
    shapeSource: shape.source,
    backend: backend ?? process.env.SENET_LAB_BACKEND ?? "auto",
    trained,
    reused: counts.reused,
    seconds: Math.round(seconds * 1000) / 1000,
    trainingShare: seconds > 0 ? Math.round((trainingWall / seconds) * 1000) / 1000 : 0,
    coldOverhead: overheadStats(coldOverheads),
    warmOverhead: overheadStats(warmOverheads),
  };
  if (trained + counts.reused > 0) appendJsonl(path.join(outDir, POOL_LOG_FILE), record);
  const w = record.warmOverhead;
  if (trained > 0) {
    log(
      `[sweep ${spec.name}] per-run overhead (pool wall − training wall): ${w ? `warm worker median ${w.median.toFixed(2)} s (max ${w.max.toFixed(2)} s, ${w.n} runs)` : "no warm runs"}${record.coldOverhead ? `; with worker start-up median ${record.coldOverhead.median.toFixed(2)} s (${record.coldOverhead.n} runs)` : ""}`,
    );
  }
  return {
    outDir,
    runs: ordered,
    counts,
    workers: nWorkers,
    threadsPerWorker,
    seconds,
    pool: record,
    ...(stopping ? { stopped: stopping } : {}),
  };
}
