/**
 * Running a sweep: validate everything, write the manifest, skip finished runs, and hand the rest
 * to a pool of worker processes (one process per run, `threadsPerWorker` threads each), printing
 * their lines prefixed by run. Safe to kill at any moment and to start twice at once: every run
 * is claimed by a lock file, every file is written atomically, and a rerun resumes.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConfigError, quote } from "../errors.js";
import { readJsonIfExists } from "../util/fs.js";
import { expandRunsUnchecked, type SweepRun } from "./expand.js";
import { type RunSummary, resolveExperimentConfig } from "./experiment.js";
import {
  CONFIG_FILE,
  clearFailure,
  defaultOutDir,
  EXIT_ALREADY_DONE,
  EXIT_BUSY,
  isRunDone,
  lockFileOf,
  MANIFEST_FILE,
  recordFailure,
  removeDeadTempFiles,
  runDirOf,
  SUMMARY_FILE,
  type SweepManifest,
  writeManifest,
} from "./layout.js";
import { lockState } from "./lock.js";
import { resolveSweepSpec } from "./resolve.js";
import { formatErrors, jsonEqual, type SweepSpec } from "./spec.js";

/** Options for runSweep. */
export interface RunSweepOptions {
  /** Sweep folder; default results/<name> in the project. */
  outDir?: string;
  /** Parallel worker processes; default: cores ÷ threadsPerWorker (at least 1). */
  workers?: number;
  /** Threads per worker (SENET_LAB_THREADS in each worker); default SENET_LAB_THREADS or 1. */
  threadsPerWorker?: number;
  /** Receives every output line (already prefixed by run); default console.log. */
  log?: (line: string) => void;
  /** How often to look again at runs another process holds, in ms; default 2000. */
  pollMs?: number;
}

/** What became of one run in this invocation. */
export interface SweepRunOutcome {
  /** The run's folder name. */
  id: string;
  /** Position in the sweep's expansion. */
  index: number;
  /**
   * "completed"/"diverged": trained now; "done": finished earlier (or by a concurrent sweep);
   * "failed": the worker failed (see error); the next rerun tries it again.
   */
  status: "completed" | "diverged" | "done" | "failed";
  /** The run's summary.json, when it has one. */
  summary?: RunSummary;
  /** Wall-clock seconds of the worker process (start-up included); absent when not run now. */
  seconds?: number;
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
}

const WORKER_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "worker.ts");
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** Default threads per worker: SENET_LAB_THREADS, else 1. */
export function defaultThreadsPerWorker(): number {
  const raw = process.env.SENET_LAB_THREADS;
  const n = raw ? Number(raw) : 1;
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** Default worker count: cores ÷ threads per worker, at least 1. */
export function defaultWorkers(threadsPerWorker: number): number {
  return Math.max(1, Math.floor(os.availableParallelism() / threadsPerWorker));
}

/**
 * Errors (before any training) when a run folder already holds a config that differs from what
 * the spec now asks for: resuming or skipping it would mix two experiments in one table.
 */
export function checkExistingRuns(outDir: string, runs: SweepRun[]): void {
  const errors: string[] = [];
  for (const run of runs) {
    const stored = readJsonIfExists<Record<string, unknown>>(
      path.join(runDirOf(outDir, run.id), CONFIG_FILE),
    );
    if (!stored) continue;
    const wanted = resolveExperimentConfig(run.config) as unknown as Record<string, unknown>;
    const diff = Object.keys(wanted).filter((k) => !jsonEqual(wanted[k], stored[k]));
    if (diff.length > 0) {
      const d = diff
        .slice(0, 4)
        .map((k) => `${k}: stored ${quote(stored[k])}, spec ${quote(wanted[k])}`)
        .join("; ");
      errors.push(`run ${run.id} was started with another config (${d})`);
    }
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
 * Validates a spec in full (every run config) and checks the run folders already in `outDir`
 * (default results/<name>) against it. Writes nothing: every caller does this before any work.
 */
export function checkSweep(rawSpec: SweepSpec | unknown, outDir?: string): CheckedSweep {
  const spec = resolveSweepSpec(rawSpec);
  const runs = expandRunsUnchecked(spec);
  const dir = path.resolve(outDir ?? defaultOutDir(spec));
  checkExistingRuns(dir, runs);
  return { spec, runs, outDir: dir };
}

/**
 * Creates the sweep folder and writes its manifest. `removeDeadTemp` also deletes temporary
 * files of dead local writers (only safe where no other host writes into the folder at the
 * same time: it judges pids on this host); `onlyIfChanged` leaves an equal manifest untouched,
 * so array tasks starting together on many nodes do not all rewrite it.
 */
export function writeSweepFolder(
  sweep: CheckedSweep,
  options: { removeDeadTemp?: boolean; onlyIfChanged?: boolean } = {},
): void {
  const { spec, runs, outDir } = sweep;
  fs.mkdirSync(outDir, { recursive: true });
  if (options.removeDeadTemp) removeDeadTempFiles(outDir);
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

interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string[];
  seconds: number;
}

function spawnWorker(
  outDir: string,
  run: SweepRun,
  threads: number,
  prefix: string,
  log: (line: string) => void,
): Promise<WorkerExit> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", TSX_LOADER, WORKER_FILE, outDir, run.id], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      SENET_LAB_THREADS: String(threads),
      SENET_LAB_QUIET: process.env.SENET_LAB_QUIET ?? "1",
    },
  });
  const stderrTail: string[] = [];
  const pump = (stream: NodeJS.ReadableStream, isErr: boolean) =>
    new Promise<void>((resolve) => {
      const rl = readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      rl.on("line", (line) => {
        // Progress bars redraw with \r; keep only the last state of such a line.
        const text = line.slice(line.lastIndexOf("\r") + 1).replace(/^\[senet-lab\] /, "");
        if (text.trim() === "") return;
        if (isErr) {
          stderrTail.push(text);
          if (stderrTail.length > 20) stderrTail.shift();
        }
        log(`[${prefix}] ${text}`);
      });
      rl.on("close", resolve);
    });
  const pumps = Promise.all([pump(child.stdout, false), pump(child.stderr, true)]);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", async (code, signal) => {
      await pumps;
      resolve({ code, signal, stderrTail, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/**
 * Runs every pending run of a sweep in worker processes and returns what became of each.
 * The spec (raw JSON or resolved) is validated in full, and existing run folders are checked
 * against it, before anything trains. Runs already finished are skipped; diverged and failed
 * runs do not stop the others.
 */
export async function runSweep(
  rawSpec: SweepSpec | unknown,
  options: RunSweepOptions = {},
): Promise<SweepResult> {
  const t0 = performance.now();
  const prepared = checkSweep(rawSpec, options.outDir);
  const { spec, runs, outDir } = prepared;
  const threadsPerWorker = options.threadsPerWorker ?? defaultThreadsPerWorker();
  if (!Number.isInteger(threadsPerWorker) || threadsPerWorker < 1) {
    throw new ConfigError(
      `threadsPerWorker must be an integer >= 1; got ${quote(threadsPerWorker)}`,
    );
  }
  const workers = options.workers ?? defaultWorkers(threadsPerWorker);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new ConfigError(`workers must be an integer >= 1; got ${quote(workers)}`);
  }
  const log = options.log ?? ((line: string) => console.log(line));
  const pollMs = options.pollMs ?? 2000;

  writeSweepFolder(prepared, { removeDeadTemp: true });

  const outcomes = new Map<string, SweepRunOutcome>();
  const readSummary = (run: SweepRun) =>
    readJsonIfExists<RunSummary>(path.join(runDirOf(outDir, run.id), SUMMARY_FILE));
  const queue: SweepRun[] = [];
  for (const run of runs) {
    if (isRunDone(outDir, run.id)) {
      const summary = readSummary(run);
      outcomes.set(run.id, {
        id: run.id,
        index: run.index,
        status: "done",
        ...(summary ? { summary } : {}),
      });
    } else {
      queue.push(run);
    }
  }
  const nWorkers = Math.max(1, Math.min(workers, queue.length));
  log(
    `[sweep ${spec.name}] ${runs.length} runs: ${runs.length - queue.length} done, ${queue.length} to run on ${nWorkers} worker${nWorkers === 1 ? "" : "s"} × ${threadsPerWorker} thread${threadsPerWorker === 1 ? "" : "s"} → ${outDir}`,
  );

  const waiting: SweepRun[] = [];
  const active = new Set<Promise<void>>();
  const start = (run: SweepRun) => {
    const label = runLabel(run, runs.length);
    const p = spawnWorker(outDir, run, threadsPerWorker, label, log).then(
      (exit) => {
        active.delete(p);
        if (exit.code === EXIT_BUSY) {
          waiting.push(run);
          return;
        }
        const summary = readSummary(run);
        if (exit.code === EXIT_ALREADY_DONE && summary) {
          outcomes.set(run.id, { id: run.id, index: run.index, status: "done", summary });
          log(`[${label}] already finished by another process`);
        } else if (exit.code === 0 && summary) {
          const status = summary.status === "diverged" ? "diverged" : "completed";
          outcomes.set(run.id, {
            id: run.id,
            index: run.index,
            status,
            summary,
            seconds: exit.seconds,
          });
          clearFailure(outDir, run.id);
          log(
            `[${label}] ${status}: worker ${exit.seconds.toFixed(1)} s${trainingSeconds(summary)}`,
          );
        } else {
          const why = exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
          const error = `${why}${exit.code === 0 ? " without writing summary.json" : ""}${exit.stderrTail.length ? `\n${exit.stderrTail.slice(-8).join("\n")}` : ""}`;
          outcomes.set(run.id, {
            id: run.id,
            index: run.index,
            status: "failed",
            seconds: exit.seconds,
            error,
          });
          recordFailure(outDir, run.id, error);
          log(`[${label}] FAILED (${why})`);
        }
      },
      (err: unknown) => {
        active.delete(p);
        outcomes.set(run.id, {
          id: run.id,
          index: run.index,
          status: "failed",
          error: String(err),
        });
        log(`[${label}] FAILED to start: ${String(err)}`);
      },
    );
    active.add(p);
  };
  const recheckWaiting = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      const run = waiting[i]!;
      if (isRunDone(outDir, run.id)) {
        const summary = readSummary(run);
        outcomes.set(run.id, {
          id: run.id,
          index: run.index,
          status: "done",
          ...(summary ? { summary } : {}),
        });
        waiting.splice(i, 1);
      } else if (lockState(lockFileOf(outDir, run.id)) !== "held") {
        queue.push(run);
        waiting.splice(i, 1);
      }
    }
  };
  let announcedWait = false;
  while (queue.length > 0 || waiting.length > 0 || active.size > 0) {
    while (queue.length > 0 && active.size < nWorkers) start(queue.shift()!);
    if (active.size > 0) {
      await (waiting.length > 0 ? Promise.race([...active, sleep(pollMs)]) : Promise.race(active));
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

  const ordered = runs.map((r) => outcomes.get(r.id)!);
  const counts = { completed: 0, diverged: 0, done: 0, failed: 0 };
  for (const o of ordered) counts[o.status]++;
  const seconds = (performance.now() - t0) / 1000;
  log(
    `[sweep ${spec.name}] finished in ${seconds.toFixed(1)} s: ${counts.completed} completed, ${counts.diverged} diverged, ${counts.done} already done, ${counts.failed} failed`,
  );
  return { outDir, runs: ordered, counts, workers: nWorkers, threadsPerWorker, seconds };
}
