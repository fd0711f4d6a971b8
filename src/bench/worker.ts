/**
 * The benchmark's child process: one per backend, so backends never share a process (tfjs keeps
 * global state, the wasm module and native thread pools stay put once loaded). Started by
 * runBench as `node --import tsx worker.ts <job JSON>`; prints one line
 * `RESULT_PREFIX<WorkerOutput JSON>` on stdout and progress on stderr.
 */
import * as tf from "@tensorflow/tfjs";
import { type BackendName, initBackend } from "../backend/index.js";
import { buildModel, type ModelConfig } from "../models/index.js";
import { type LeakCheckResult, runLeakCheck } from "./leak-check.js";
import { peakRssMiB, resetPeakRss, timeCalls } from "./measure.js";
import type { Workload } from "./plan.js";
import { makeInference, makeSgdStep } from "./train-step.js";

/** Marks the result line among anything else a library might print on stdout. */
export const RESULT_PREFIX = "@@senet-lab-bench@@";

/** What the parent asks a worker to do. */
export interface WorkerJob {
  /** The tfjs backend to load (by our name). */
  backend: BackendName;
  /** Workloads in order. */
  workloads: Workload[];
  /** Leak check to run after the workloads, or null. */
  leakCheck: {
    /** Preset trained. */
    model: string;
    /** Its resolved config. */
    config: ModelConfig;
    /** Images per step. */
    batch: number;
    /** Steps to run. */
    steps: number;
    /** SGD learning rate. */
    lr: number;
    /** SGD momentum. */
    momentum: number;
  } | null;
  /** Epoch milliseconds after which remaining workloads are skipped (--quick), or null. */
  deadline: number | null;
}

/** One workload's raw measurements. */
export interface WorkerWorkloadResult {
  /** Workload id. */
  id: string;
  /** Milliseconds of each timed call (empty when skipped or failed). */
  timesMs: number[];
  /** Peak RSS while building and running this workload (MiB), null if not measurable. */
  peakRssMiB: number | null;
  /** tf.memory().numTensors after the workload (model disposed) minus before. */
  numTensorsLeaked: number;
  /** Error message if the workload threw. */
  error?: string;
  /** Why it was not run (deadline). */
  skipped?: string;
}

/** The worker's report. */
export interface WorkerOutput {
  /** Backend asked for. */
  backend: BackendName;
  /** Whether it loaded. */
  available: boolean;
  /** Why not, when it did not. */
  reason?: string;
  /** The loader's one-line description (library, version, threads). */
  detail?: string;
  /** Threads setting of native backends. */
  threads?: number;
  /** Per-workload results, in job order. */
  results: WorkerWorkloadResult[];
  /** Leak check, if asked for. */
  leakCheck?: LeakCheckResult;
  /** Peak RSS of the whole child process (MiB). */
  processPeakRssMiB: number;
}

async function runWorkload(w: Workload): Promise<WorkerWorkloadResult> {
  const canReset = resetPeakRss();
  const before = tf.memory().numTensors;
  const model = buildModel(w.config, { name: w.model });
  let timesMs: number[] = [];
  let error: string | undefined;
  try {
    if (w.kind === "train") {
      const s = makeSgdStep(model, { batch: w.batch, lr: w.lr, momentum: w.momentum });
      try {
        timesMs = await timeCalls(() => s.step(), w.plan);
      } finally {
        s.dispose();
      }
    } else {
      const inf = makeInference(model, w.batch);
      try {
        timesMs = await timeCalls(() => inf.run(), w.plan);
      } finally {
        inf.dispose();
      }
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    model.dispose();
  }
  const peak = canReset ? peakRssMiB() : null;
  return {
    id: w.id,
    timesMs,
    peakRssMiB: peak,
    numTensorsLeaked: tf.memory().numTensors - before,
    ...(error === undefined ? {} : { error }),
  };
}

/** Runs a job in this process (the worker's body; exported for tests). */
export async function runWorkerJob(job: WorkerJob): Promise<WorkerOutput> {
  let detail: string | undefined;
  let threads: number | undefined;
  try {
    const info = await initBackend(job.backend, { quiet: true });
    detail = info.detail;
    threads = info.threads;
  } catch (err) {
    return {
      backend: job.backend,
      available: false,
      reason: err instanceof Error ? err.message : String(err),
      results: [],
      processPeakRssMiB: peakRssMiB(),
    };
  }
  const results: WorkerWorkloadResult[] = [];
  for (const w of job.workloads) {
    if (job.deadline !== null && Date.now() > job.deadline) {
      results.push({
        id: w.id,
        timesMs: [],
        peakRssMiB: null,
        numTensorsLeaked: 0,
        skipped: "--quick time budget spent before this workload",
      });
      continue;
    }
    process.stderr.write(`[bench ${job.backend}] ${w.id} batch ${w.batch} ...\n`);
    const r = await runWorkload(w);
    results.push(r);
    process.stderr.write(
      `[bench ${job.backend}] ${w.id}: ${r.error ? `failed: ${r.error}` : `${r.timesMs.length} steps`}\n`,
    );
  }
  let leakCheck: LeakCheckResult | undefined;
  if (job.leakCheck) {
    const lc = job.leakCheck;
    process.stderr.write(`[bench ${job.backend}] leak check: ${lc.steps} steps of ${lc.model}\n`);
    const model = buildModel(lc.config, { name: lc.model });
    const s = makeSgdStep(model, { batch: lc.batch, lr: lc.lr, momentum: lc.momentum });
    try {
      leakCheck = await runLeakCheck(() => s.step(), lc.steps, {
        model: lc.model,
        batch: lc.batch,
      });
    } finally {
      s.dispose();
      model.dispose();
    }
  }
  return {
    backend: job.backend,
    available: true,
    ...(detail === undefined ? {} : { detail }),
    ...(threads === undefined ? {} : { threads }),
    results,
    ...(leakCheck ? { leakCheck } : {}),
    processPeakRssMiB: peakRssMiB(),
  };
}

// Entry point when started as a child process.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const job = JSON.parse(process.argv[2] ?? "null") as WorkerJob;
  const out = await runWorkerJob(job);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(out)}\n`);
}
