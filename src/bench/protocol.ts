/**
 * The messages between runBench and its worker processes: the job a worker gets, what it
 * prints back, and the marker of the result line. Kept apart from worker.ts so that importing
 * the package never loads the worker's entry point.
 */

import type { BackendName } from "../backend/index.js";
import type { ModelConfig } from "../models/index.js";
import type { LeakCheckResult } from "./leak-check.js";
import type { Workload } from "./plan.js";

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
