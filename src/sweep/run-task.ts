/**
 * One run of a sweep picked by its index, as a scheduler's task runs it (`senet-lab sweep run-one`,
 * one SLURM array task): validate the spec and the folder like `sweep run`, make sure the manifest
 * is there, train the run under its claim, and keep the same failure records the local pool keeps,
 * so `sweep status` and `submit --failed` see cluster failures exactly like local ones.
 */
import os from "node:os";
import { ConfigError, EXIT_PREEMPTED, PreemptedError, quote, SenetLabError } from "../errors.js";
import type { RunSummary } from "./experiment.js";
import { clearFailure, EXIT_ALREADY_DONE, EXIT_BUSY, recordFailure } from "./layout.js";
import { runOne } from "./run-one.js";
import { checkSweep, writeSweepFolder } from "./run-sweep.js";
import { slurmIdsFromEnv, slurmJobLabel } from "./slurm-queue.js";
import type { SweepSpec } from "./spec.js";

/** Exit code of a task whose training failed (a failure record was written). */
export const EXIT_FAILED = 1;

/** Options for runSweepTask. */
export interface RunTaskOptions {
  /** Sweep folder; default results/<name> in the project. */
  outDir?: string;
  /** The run's index as typed (--index); default: $SLURM_ARRAY_TASK_ID. */
  index?: string;
  /** Line logger (training epochs and the final line); default console.log. */
  log?: (line: string) => void;
  /** Environment to read SLURM_ARRAY_TASK_ID from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What one task did; `code` is the process exit code run-one ends with. */
export interface RunTaskResult {
  /** 0 trained now, 3 already done, 75 another live process holds the run, 4 preempted, 1 training failed. */
  code: 0 | 1 | 3 | 4 | 75;
  /** The run's index in the sweep. */
  index: number;
  /** The run's folder name. */
  id: string;
  /** What happened. */
  outcome: "completed" | "diverged" | "done" | "busy" | "failed" | "preempted";
  /** The summary, for trained or finished runs. */
  summary?: RunSummary;
  /** The error text recorded in the failure record, for failed runs. */
  error?: string;
  /** Wall-clock seconds of the whole task in this process (validation included). */
  seconds: number;
}

/**
 * The run index a task should run: `--index` when given, else $SLURM_ARRAY_TASK_ID. Errors name
 * the value and where it came from; the range is checked by runSweepTask once the spec is read.
 */
export function taskIndex(raw: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = raw === undefined;
  const value = raw ?? env.SLURM_ARRAY_TASK_ID;
  if (value === undefined) {
    throw new ConfigError(
      "--index N is required outside a SLURM array task (where SLURM_ARRAY_TASK_ID gives it)",
    );
  }
  const what = fromEnv ? "SLURM_ARRAY_TASK_ID" : "--index";
  if (!/^\d+$/.test(value.trim())) {
    throw new ConfigError(`${what} must be an integer >= 0 (a run index); got ${quote(value)}`);
  }
  return Number(value.trim());
}

/** The text a failure record keeps for a thrown error: its message, or stack for a bug. */
function errorText(err: unknown): string {
  if (err instanceof SenetLabError) return `${err.name}: ${err.message}`;
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

/**
 * Runs one run of a sweep by index. Bad input (spec, folder, index) throws ConfigError before
 * anything is written; a training error is caught, recorded in .failures/<id>.json and returned
 * with code 1; a later successful attempt removes the record, as in the local pool.
 */
export async function runSweepTask(
  rawSpec: SweepSpec | unknown,
  options: RunTaskOptions = {},
): Promise<RunTaskResult> {
  const t0 = performance.now();
  const env = options.env ?? process.env;
  const index = taskIndex(options.index, env);
  // No run-count limit here: the submitter checked it (a raised --max-runs is not passed on).
  const sweep = checkSweep(rawSpec, options.outDir, { maxRuns: Number.POSITIVE_INFINITY });
  const { runs, outDir, spec } = sweep;
  const run = runs[index];
  if (!run) {
    throw new ConfigError(
      `run index ${index} is out of range: sweep ${quote(spec.name)} has ${runs.length} run${runs.length === 1 ? "" : "s"} (indices 0-${runs.length - 1})`,
    );
  }
  const log = options.log ?? ((line: string) => console.log(line));
  writeSweepFolder(sweep, { onlyIfChanged: true });
  const seconds = () => (performance.now() - t0) / 1000;
  const base = { index, id: run.id };
  try {
    const r = await runOne(outDir, run, { log, progress: false });
    if (r.outcome === "busy") {
      const h = r.heldBy;
      const who = h
        ? `pid ${h.pid} on ${h.host}${h.slurm ? ` (SLURM ${slurmJobLabel(h.slurm)})` : ""}`
        : "an unreadable claim";
      log(`run ${index} ${run.id}: held by ${who}; leaving it`);
      return { ...base, code: EXIT_BUSY, outcome: "busy", seconds: seconds() };
    }
    if (r.outcome === "done") {
      log(`run ${index} ${run.id}: already done`);
      return {
        ...base,
        code: EXIT_ALREADY_DONE,
        outcome: "done",
        ...(r.summary ? { summary: r.summary } : {}),
        seconds: seconds(),
      };
    }
    clearFailure(outDir, run.id);
    log(
      `run ${index} ${run.id}: ${r.outcome} in ${seconds().toFixed(1)} s (training ${r.summary.wallSeconds.toFixed(1)} s)`,
    );
    return { ...base, code: 0, outcome: r.outcome, summary: r.summary, seconds: seconds() };
  } catch (err) {
    const error = errorText(err);
    const slurm = slurmIdsFromEnv(env);
    const preempted = err instanceof PreemptedError;
    recordFailure(outDir, run.id, error, {
      host: os.hostname(),
      ...(slurm ? { slurm: slurmJobLabel(slurm) } : {}),
      ...(preempted ? { preempted: true } : {}),
    });
    if (preempted) {
      log(`run ${index} ${run.id}: PREEMPTED: ${error}`);
      return { ...base, code: EXIT_PREEMPTED, outcome: "preempted", error, seconds: seconds() };
    }
    log(`run ${index} ${run.id}: FAILED: ${error.split("\n")[0]}`);
    return { ...base, code: EXIT_FAILED, outcome: "failed", error, seconds: seconds() };
  }
}
