/**
 * The messages between runBench and its persistent measurement processes: the commands, the
 * replies, and the marker of a reply line. Kept apart from worker.ts so that importing the
 * package never loads the worker's entry point.
 */

import type { ModelConfig } from "../models/index.js";
import type { LeakCheckResult } from "./leak-check.js";
import type { Workload } from "./plan.js";

/** Marks the result line among anything else a library might print on stdout. */
export const RESULT_PREFIX = "@@senet-lab-bench@@";

/** A leak check for a tfjs process (ServeCommand "leakCheck"): many steps of one model. */
export interface LeakCheckJob {
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
}

/**
 * A command to a persistent measurement process (a tfjs worker started with `--serve`, or
 * torch_bench.py `--serve`): one JSON line on its stdin; it answers each with one line
 * `RESULT_PREFIX<ServeReply JSON>` on stdout, in order. Keeping the process alive lets the driver
 * alternate targets round by round (A B A B …) without rebuilding or re-warming anything.
 */
export type ServeCommand =
  /** Says what runs there (availability, library line, threads, versions). */
  | { cmd: "info" }
  /** Builds and warms each workload (its prepareWarmup steps); replies with per-id errors. */
  | { cmd: "prepare"; workloads: Workload[]; precision?: ServePrecision }
  /** One round of a prepared workload: plan.warmup untimed steps, then timed ones (plan). */
  | { cmd: "round"; id: string; precision?: ServePrecision }
  /** Frees prepared workloads (a group's, when its rounds are done). */
  | { cmd: "release"; ids: string[] }
  /** Best FLOP/s of an n×n×n matmul over `seconds` (the machine's sgemm peak in this run). */
  | { cmd: "peak"; size: number; dtype: ServePrecision; seconds: number }
  /** Best FLOP/s of one convolution forward (ConvPeakShape) over `seconds`: the conv peak. */
  | { cmd: "convPeak"; shape: ConvPeakShape; dtype: ServePrecision; seconds: number }
  /** The leak check of WorkerJob.leakCheck (tfjs workers only). */
  | { cmd: "leakCheck"; check: LeakCheckJob }
  /** Ends the process after replying. */
  | { cmd: "exit" };

/**
 * The convolution of the conv peak: NHWC input [batch, size, size, inChannels], a k×k filter,
 * stride 1, "same" padding; 2·batch·size²·outChannels·inChannels·k² FLOP per call.
 */
export interface ConvPeakShape {
  /** Images per call. */
  batch: number;
  /** Height and width of the input (and output). */
  size: number;
  /** Input channels. */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** Filter height and width. */
  kernel: number;
}

/** FLOP of one call of the conv peak's convolution (multiply and add counted apart). */
export function convPeakFlop(s: ConvPeakShape): number {
  return 2 * s.batch * s.size * s.size * s.outChannels * s.inChannels * s.kernel * s.kernel;
}

/** Arithmetic of a PyTorch peer: fp32, or autocast bf16 (the second peer). */
export type ServePrecision = "fp32" | "bf16";

/** A persistent process's answer to one ServeCommand. */
export interface ServeReply {
  /** Whether the command succeeded (false: `error` says why). */
  ok: boolean;
  /** Why not. */
  error?: string;
  /** info: whether the target loaded; why not in `reason`. */
  available?: boolean;
  /** info: why the target is unavailable. */
  reason?: string;
  /** info: the loader's one-line description. */
  detail?: string;
  /** info: threads of native backends / PyTorch. */
  threads?: number;
  /** info: versions of what runs there (PyTorch, python). */
  versions?: Record<string, string>;
  /** prepare: workloads that failed to build or warm up, id → error. */
  errors?: Record<string, string>;
  /** prepare (tfjs): per training workload id, the tfjs kernels one step invoked (tf.profile). */
  kernelCalls?: Record<string, KernelCalls>;
  /** round: milliseconds of each timed step. */
  timesMs?: number[];
  /** peak: best FLOP/s measured, or null when the dtype is unsupported (reason says why). */
  flopPerSecond?: number | null;
  /** leakCheck: its result. */
  leakCheck?: LeakCheckResult;
  /** release: tf.memory().numTensors after the release minus before the prepare (tfjs; 0 expected). */
  numTensorsLeaked?: number;
  /** release / exit / info: peak RSS of the process since the last release (MiB). */
  peakRssMiB?: number | null;
}

/** The tfjs kernel invocations of one training step, counted once by tf.profile after warm-up. */
export interface KernelCalls {
  /** Kernel invocations in the step (every engine-dispatched kernel, forward and backward). */
  total: number;
  /** The same by kernel name, most frequent first. */
  byName: Record<string, number>;
}
