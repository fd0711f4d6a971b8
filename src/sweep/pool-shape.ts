/**
 * The pool's shape (worker processes × threads per worker) and where it comes from: the caller,
 * SENET_LAB_THREADS, or `senet-lab sweep calibrate`'s measurement on this machine in
 * .senet-lab/pool.json (used only when it was measured on this host, with this core count and
 * the sweep's backend, less than 30 days ago), else cores ÷ 1 thread. Nothing here loads tfjs:
 * runSweep resolves its shape before anything trains.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BackendChoice } from "../backend/index.js";
import { ConfigError, quote, SenetLabError } from "../errors.js";
import { PROJECT_ROOT } from "../util/fs.js";

/** A calibration could not measure any shape (every shape's processes failed). */
export class CalibrationError extends SenetLabError {}

/** A pool shape: worker processes and threads per worker (SENET_LAB_THREADS in each). */
export interface ShapeSpec {
  /** Worker processes. */
  workers: number;
  /** Threads per worker. */
  threads: number;
}

/** What one calibration process measured. */
export interface ProcessMeasurement {
  /** Its pid. */
  pid: number;
  /** Threads its backend used. */
  threads: number;
  /** The backend it ran ("onednn", "wasm", ...). */
  backend: string;
  /** Seconds from its start to the end of its warm-up (node, tsx, backend, model, warm-up steps). */
  startupSeconds: number;
  /** Training steps timed. */
  steps: number;
  /** Wall seconds of the timed steps. */
  seconds: number;
  /** steps × batch ÷ seconds. */
  imagesPerSec: number;
  /** Median milliseconds of one step. */
  medianStepMs: number;
}

/** What one shape measured: its processes ran at the same time. */
export interface ShapeMeasurement extends ShapeSpec {
  /** Sum of the processes' images/s (0 when the shape failed). */
  imagesPerSec: number;
  /** Each process's numbers. */
  perProcess: ProcessMeasurement[];
  /** Why the shape could not be measured, if it could not. */
  error?: string;
}

/** The content of .senet-lab/pool.json, written by `senet-lab sweep calibrate`. */
export interface PoolCalibration {
  /** Format version. */
  version: 1;
  /** When it was measured, ISO time. */
  measuredAt: string;
  /** os.hostname() of the machine measured. */
  host: string;
  /** CPU model of the machine. */
  cpu: string;
  /** Cores available to the calibrating process (os.availableParallelism()). */
  cores: number;
  /** The backend the processes ran. */
  backend: string;
  /** The backend asked for (SENET_LAB_BACKEND or "auto"). */
  backendRequested: string;
  /** Preset timed. */
  model: string;
  /** Input [height, width, channels]. */
  input: [number, number, number];
  /** Images per training step. */
  batch: number;
  /** Timed seconds per shape (after warm-up). */
  seconds: number;
  /** One-minute load average just before measuring (other work on the machine skews the numbers). */
  loadAverage: number;
  /** Every shape measured, in the order measured. */
  shapes: ShapeMeasurement[];
  /** The shape with the highest aggregate images/s: what sweeps use by default. */
  chosen: ShapeSpec;
}

/** Calibrations older than this many days are ignored (a machine's load and software change). */
export const CALIBRATION_MAX_AGE_DAYS = 30;

/** Where calibration is stored by default: .senet-lab/pool.json in the project (git-ignored). */
export function defaultPoolFile(): string {
  return path.join(PROJECT_ROOT, ".senet-lab", "pool.json");
}

/** Threads per worker from SENET_LAB_THREADS (unset, empty or invalid: undefined). */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.SENET_LAB_THREADS;
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/**
 * The shapes a calibration measures on `cores` cores: workers × threads = cores for each
 * divisor (threads ascending), at most `max` of them spread from 1 thread to all cores.
 */
export function calibrationShapes(cores: number, max = 5): ShapeSpec[] {
  if (!Number.isInteger(cores) || cores < 1) {
    throw new ConfigError(`cores must be an integer >= 1; got ${quote(cores)}`);
  }
  const divisors: number[] = [];
  for (let t = 1; t <= cores; t++) if (cores % t === 0) divisors.push(t);
  let picked = divisors;
  if (divisors.length > max) {
    const idx = new Set<number>();
    for (let i = 0; i < max; i++) idx.add(Math.round((i * (divisors.length - 1)) / (max - 1)));
    picked = [...idx].sort((a, b) => a - b).map((i) => divisors[i]!);
  }
  return picked.map((threads) => ({ workers: cores / threads, threads }));
}

/**
 * The shape with the highest aggregate images/s among those measured without error; exact ties
 * go to fewer workers (less memory for the same throughput). CalibrationError when none counts.
 */
export function chooseShape(shapes: readonly ShapeMeasurement[]): ShapeSpec {
  let best: ShapeMeasurement | undefined;
  for (const s of shapes) {
    if (s.error !== undefined || !Number.isFinite(s.imagesPerSec) || s.imagesPerSec <= 0) continue;
    if (
      !best ||
      s.imagesPerSec > best.imagesPerSec ||
      (s.imagesPerSec === best.imagesPerSec && s.workers < best.workers)
    ) {
      best = s;
    }
  }
  if (!best) {
    const why = shapes.map((s) => `${shapeName(s)}: ${s.error ?? `${s.imagesPerSec} img/s`}`);
    throw new CalibrationError(
      `no shape was measured${why.length ? ` (${why.join("; ")})` : " (no shapes given)"}`,
    );
  }
  return { workers: best.workers, threads: best.threads };
}

/** "2×1": workers × threads. */
export function shapeName(s: ShapeSpec): string {
  return `${s.workers}×${s.threads}`;
}

/** "calibrated 2026-12-02 on vm: 2×1 at 443 img/s vs 1×2 at 250": the chosen shape first. */
export function describeCalibration(cal: PoolCalibration): string {
  const isChosen = (s: ShapeSpec) =>
    s.workers === cal.chosen.workers && s.threads === cal.chosen.threads;
  const chosen = cal.shapes.find(isChosen);
  const others = cal.shapes
    .filter((s) => !isChosen(s))
    .sort((a, b) => b.imagesPerSec - a.imagesPerSec)
    .map((s) =>
      s.error ? `${shapeName(s)} failed` : `${shapeName(s)} at ${Math.round(s.imagesPerSec)}`,
    );
  const head = `${shapeName(cal.chosen)}${chosen ? ` at ${Math.round(chosen.imagesPerSec)} img/s` : ""}`;
  return `calibrated ${cal.measuredAt.slice(0, 10)} on ${cal.host}: ${head}${others.length ? ` vs ${others.join(", ")}` : ""}`;
}

function isPosInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 1;
}

/** Reads a pool.json: the calibration, or why it cannot be used (absent: neither). */
export function readPoolCalibration(file: string): {
  calibration?: PoolCalibration;
  problem?: string;
} {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    return { problem: `cannot be read (${(err as Error).message})` };
  }
  let v: Partial<PoolCalibration>;
  try {
    v = JSON.parse(text) as Partial<PoolCalibration>;
  } catch (err) {
    return { problem: `is not valid JSON (${(err as Error).message})` };
  }
  if (v === null || typeof v !== "object") return { problem: "is not a JSON object" };
  const bad: string[] = [];
  if (v.version !== 1) bad.push(`version ${quote(v.version)}`);
  if (typeof v.measuredAt !== "string" || Number.isNaN(Date.parse(v.measuredAt)))
    bad.push(`measuredAt ${quote(v.measuredAt)}`);
  if (typeof v.host !== "string") bad.push(`host ${quote(v.host)}`);
  if (!isPosInt(v.cores)) bad.push(`cores ${quote(v.cores)}`);
  if (typeof v.backend !== "string") bad.push(`backend ${quote(v.backend)}`);
  if (!Array.isArray(v.shapes)) bad.push("shapes missing");
  if (!v.chosen || !isPosInt(v.chosen.workers) || !isPosInt(v.chosen.threads))
    bad.push(`chosen ${quote(v.chosen)}`);
  if (bad.length > 0) return { problem: `is malformed (${bad.join(", ")})` };
  return { calibration: v as PoolCalibration };
}

/** Where the sweep runs, to judge whether a calibration applies to it. */
export interface CalibrationContext {
  /** This host; default os.hostname(). */
  host?: string;
  /** Cores here; default os.availableParallelism(). */
  cores?: number;
  /** Now; default the current time. */
  now?: Date;
  /** The backend the sweep asks for; default SENET_LAB_BACKEND or "auto". */
  backend?: BackendChoice | string;
}

/** Why a calibration does not apply here (other host, core count, backend, too old), or undefined. */
export function calibrationProblem(
  cal: PoolCalibration,
  context: CalibrationContext = {},
): string | undefined {
  const host = context.host ?? os.hostname();
  const cores = context.cores ?? os.availableParallelism();
  const now = context.now ?? new Date();
  const backend = context.backend ?? (process.env.SENET_LAB_BACKEND || "auto");
  if (cal.host !== host) return `measured on host ${quote(cal.host)}, this is ${quote(host)}`;
  if (cal.cores !== cores) return `measured with ${cal.cores} cores, this process has ${cores}`;
  if (backend !== cal.backendRequested && backend !== cal.backend) {
    return `measured with backend ${cal.backend} (asked: ${cal.backendRequested}), this sweep asks for ${backend}`;
  }
  const ageDays = (now.getTime() - Date.parse(cal.measuredAt)) / 86_400_000;
  if (ageDays > CALIBRATION_MAX_AGE_DAYS) {
    return `measured ${Math.floor(ageDays)} days ago (older than ${CALIBRATION_MAX_AGE_DAYS})`;
  }
  if (ageDays < -1) return `measuredAt ${cal.measuredAt} is in the future`;
  return undefined;
}

/** What resolvePoolShape is asked: the caller's values and where to look for a calibration. */
export interface PoolShapeRequest extends CalibrationContext {
  /** Worker processes the caller asked for. */
  workers?: number;
  /** Threads per worker the caller asked for. */
  threadsPerWorker?: number;
  /** The calibration file; default defaultPoolFile(). */
  poolFile?: string;
  /** Environment to read SENET_LAB_THREADS from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** A resolved pool shape and where it came from. */
export interface PoolShape {
  /** Worker processes (before capping at the runs to train). */
  workers: number;
  /** Threads per worker. */
  threadsPerWorker: number;
  /** "given", "env" (SENET_LAB_THREADS), "calibrated" or "default". */
  origin: "given" | "env" | "calibrated" | "default";
  /** One line for the sweep's first line and its pool log, e.g. "default: cores ÷ 1 thread". */
  source: string;
  /** Why a calibration file that exists was not used, if one was not. */
  ignored?: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * The pool's shape for a sweep: the caller's workers/threads when given (validated), else
 * SENET_LAB_THREADS with cores ÷ threads, else the calibration in `poolFile` when it applies
 * here (see calibrationProblem), else cores ÷ 1 thread; with the reason, recorded with results.
 */
export function resolvePoolShape(request: PoolShapeRequest = {}): PoolShape {
  const env = request.env ?? process.env;
  const cores = request.cores ?? os.availableParallelism();
  const perCores = (t: number) => Math.max(1, Math.floor(cores / t));
  const { workers, threadsPerWorker } = request;
  if (
    threadsPerWorker !== undefined &&
    (!Number.isInteger(threadsPerWorker) || threadsPerWorker < 1)
  ) {
    throw new ConfigError(
      `threadsPerWorker must be an integer >= 1; got ${quote(threadsPerWorker)}`,
    );
  }
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    throw new ConfigError(`workers must be an integer >= 1; got ${quote(workers)}`);
  }
  const envThreads = threadsFromEnv(env);
  if (workers !== undefined || threadsPerWorker !== undefined) {
    const t = threadsPerWorker ?? envThreads ?? 1;
    const w = workers ?? perCores(t);
    const tWhy =
      threadsPerWorker !== undefined
        ? ""
        : envThreads !== undefined
          ? ` (SENET_LAB_THREADS)`
          : " (default)";
    const wWhy = workers !== undefined ? "" : " (cores ÷ threads)";
    return {
      workers: w,
      threadsPerWorker: t,
      origin: "given",
      source: `given: ${plural(w, "worker")}${wWhy} × ${plural(t, "thread")}${tWhy}`,
    };
  }
  const rawEnv = env.SENET_LAB_THREADS;
  if (envThreads !== undefined) {
    return {
      workers: perCores(envThreads),
      threadsPerWorker: envThreads,
      origin: "env",
      source: `SENET_LAB_THREADS=${envThreads}: cores ÷ ${plural(envThreads, "thread")}`,
    };
  }
  const fallback = (note: string): PoolShape => ({
    workers: perCores(1),
    threadsPerWorker: 1,
    origin: "default",
    source: `default: cores ÷ 1 thread${note}`,
  });
  if (rawEnv !== undefined && rawEnv !== "") {
    return fallback(` (SENET_LAB_THREADS=${quote(rawEnv)} is not a positive integer)`);
  }
  const file = request.poolFile ?? defaultPoolFile();
  const read = readPoolCalibration(file);
  const problem =
    read.problem ??
    (read.calibration
      ? calibrationProblem(read.calibration, {
          ...request,
          cores,
          backend: request.backend ?? (env.SENET_LAB_BACKEND || "auto"),
        })
      : undefined);
  if (read.calibration && problem === undefined) {
    const cal = read.calibration;
    return {
      workers: cal.chosen.workers,
      threadsPerWorker: cal.chosen.threads,
      origin: "calibrated",
      source: describeCalibration(cal),
    };
  }
  if (problem === undefined) return fallback("");
  const ignored = `${file} ignored: ${problem}`;
  return { ...fallback(`; ${ignored}`), ignored };
}
