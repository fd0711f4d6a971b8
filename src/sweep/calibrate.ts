/**
 * `senet-lab sweep calibrate`: choose workers × threads per worker by measurement on this
 * machine. For each shape with workers × threads = cores, that many processes start at once
 * (each set up like a sweep worker: SENET_LAB_THREADS = threads, the sweep's backend), build the
 * model, warm up, and then time training steps together for a few seconds; the shape's
 * throughput is the sum of its processes' images/s. The fastest shape, with every number, is
 * written atomically to .senet-lab/pool.json, where runSweep takes its default shape from.
 */
import { type ChildProcess, fork } from "node:child_process";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { BACKEND_CHOICES, type BackendChoice } from "../backend/index.js";
import { ConfigError, oneOf, quote } from "../errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { TSX_LOADER, workerEnv } from "./pool.js";
import {
  CalibrationError,
  calibrationShapes,
  chooseShape,
  defaultPoolFile,
  type PoolCalibration,
  type ProcessMeasurement,
  type ShapeMeasurement,
  type ShapeSpec,
  shapeName,
} from "./pool-shape.js";

const CHILD_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "calibrate-worker.ts");

/** What each calibration process is asked to time (its argv[2], as JSON). */
export interface CalibrateJob {
  /** Preset name. */
  model: string;
  /** Images per step. */
  batch: number;
  /** Untimed steps after building the model. */
  warmupSteps: number;
  /** Timed steps each process runs at least, even past the time budget. */
  minSteps: number;
}

/** The parent's signal to start timing. */
export interface CalibrateGo {
  /** Always "go". */
  type: "go";
  /** Seconds to time steps for. */
  seconds: number;
}

/** A calibration process's messages to the parent. */
export type CalibrateChildMessage =
  | { type: "ready"; backend: string; threads: number; startupSeconds: number }
  | { type: "result"; steps: number; seconds: number; medianStepMs: number }
  | { type: "error"; error: string };

/** Options of calibratePool; every one has a default. */
export interface CalibrateOptions {
  /** Preset to time; default "resnet20" (the notebooks' network). */
  model?: string;
  /** Input [height, width, channels]; default [28, 28, 1] (Fashion-MNIST, the quick preset's data). */
  input?: [number, number, number];
  /** Images per step; default 64. */
  batch?: number;
  /** Timed seconds per shape, after warm-up; default 12 (about 30 s in all on 2 cores). */
  seconds?: number;
  /** Untimed steps per process before timing (first-step kernel setup); default 2. */
  warmupSteps?: number;
  /** Shapes to measure; default calibrationShapes(cores). */
  shapes?: ShapeSpec[];
  /** SENET_LAB_BACKEND of the processes; default inherited, as sweep workers do. */
  backend?: BackendChoice;
  /** Where to write the result; default .senet-lab/pool.json in the project; null: write nothing. */
  file?: string | null;
  /** Seconds a shape may take in all (start-up included) before its processes are killed; default 300 + 3 × seconds. */
  timeoutSeconds?: number;
  /** Progress lines; default none. */
  log?: (line: string) => void;
}

/** What calibratePool measured and where it wrote it. */
export interface CalibrationResult {
  /** The record, as written. */
  calibration: PoolCalibration;
  /** The file written, or null when `file: null`. */
  file: string | null;
}

function positiveInt(what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`${what} must be an integer >= 1; got ${quote(v)}`);
  }
  return v;
}

function positiveNumber(what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new ConfigError(`${what} must be a number > 0; got ${quote(v)}`);
  }
  return v;
}

/** Parses "H,W,C" (three integers >= 1), naming the bad value: what --input takes. */
export function parseInputShape(text: string): [number, number, number] {
  const parts = text.split(",").map((p) => p.trim());
  const nums = parts.map(Number);
  if (parts.length !== 3 || nums.some((n, i) => parts[i] === "" || !Number.isInteger(n) || n < 1)) {
    throw new ConfigError(
      `input must be H,W,C: three integers >= 1 separated by commas (e.g. 28,28,1); got ${quote(text)}`,
    );
  }
  return nums as [number, number, number];
}

interface Child {
  proc: ChildProcess;
  ready?: Extract<CalibrateChildMessage, { type: "ready" }>;
  result?: Extract<CalibrateChildMessage, { type: "result" }>;
  error?: string;
  stderrTail: string[];
  exited: Promise<void>;
}

/**
 * Runs one shape: `workers` processes with `threads` threads each start together, warm up,
 * then time steps over the same window. Never throws for a process failure: the shape then
 * carries the error (and its processes are killed).
 */
async function measureShape(
  shape: ShapeSpec,
  job: CalibrateJob & { config: unknown },
  seconds: number,
  timeoutSeconds: number,
  backend: BackendChoice | undefined,
): Promise<ShapeMeasurement & { backends: string[] }> {
  const children: Child[] = [];
  let wake = () => {};
  const changed = () => wake();
  for (let i = 0; i < shape.workers; i++) {
    const proc = fork(CHILD_FILE, [JSON.stringify(job)], {
      execArgv: ["--import", TSX_LOADER],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: workerEnv(shape.threads, backend),
    });
    const c: Child = { proc, stderrTail: [], exited: Promise.resolve() };
    let markExited = () => {};
    // Messages may still be in the channel when "exit" fires: judge once it has closed too
    // (or half a second later, should it never say so).
    const channelClosed = new Promise<void>((resolve) => proc.once("disconnect", resolve));
    c.exited = new Promise<void>((resolve) => {
      markExited = resolve;
      proc.on("exit", async (code, signal) => {
        await Promise.race([channelClosed, new Promise((r) => setTimeout(r, 500))]);
        if (!c.result && c.error === undefined) {
          const tail = c.stderrTail.slice(-6).join("\n");
          c.error = `process exited (${signal ?? `exit status ${code}`}) before its result${tail ? `:\n${tail}` : ""}`;
        }
        resolve();
        changed();
      });
    });
    proc.on("error", (err) => {
      c.error ??= `could not start: ${err.message}`;
      // A process that never started emits no "exit".
      if (proc.pid === undefined) markExited();
      changed();
    });
    proc.on("message", (msg: CalibrateChildMessage) => {
      if (msg.type === "ready") c.ready = msg;
      else if (msg.type === "result") c.result = msg;
      else if (msg.type === "error") c.error = msg.error;
      changed();
    });
    const rl = readline.createInterface({ input: proc.stderr!, crlfDelay: Infinity });
    rl.on("line", (line) => {
      c.stderrTail.push(line);
      if (c.stderrTail.length > 20) c.stderrTail.shift();
    });
    children.push(c);
  }
  const deadline = performance.now() + timeoutSeconds * 1000;
  let timedOut = false;
  const waitFor = async (done: () => boolean) => {
    while (!done() && !children.some((c) => c.error !== undefined)) {
      const left = deadline - performance.now();
      if (left <= 0) {
        timedOut = true;
        return;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };
  await waitFor(() => children.every((c) => c.ready));
  const ok = () => !timedOut && children.every((c) => c.error === undefined);
  if (ok()) {
    const go: CalibrateGo = { type: "go", seconds };
    for (const c of children) {
      c.proc.send(go, (err) => {
        if (!err) return;
        c.error ??= `could not be told to start: ${err.message}`;
        changed();
      });
    }
    await waitFor(() => children.every((c) => c.result));
  }
  const failed = !ok();
  for (const c of children) {
    if (failed && c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
    else if (c.proc.connected) c.proc.disconnect();
  }
  await Promise.all(children.map((c) => c.exited));
  const base = { workers: shape.workers, threads: shape.threads };
  if (failed) {
    const first = children.find((c) => c.error !== undefined);
    const error = timedOut
      ? `timed out after ${timeoutSeconds} s`
      : `process ${first?.proc.pid ?? "?"}: ${first?.error ?? "failed"}`;
    return { ...base, imagesPerSec: 0, perProcess: [], error, backends: [] };
  }
  const perProcess: ProcessMeasurement[] = children.map((c) => {
    const r = c.result!;
    return {
      pid: c.proc.pid ?? 0,
      threads: c.ready!.threads,
      backend: c.ready!.backend,
      startupSeconds: round(c.ready!.startupSeconds, 2),
      steps: r.steps,
      seconds: round(r.seconds, 3),
      imagesPerSec: round((r.steps * job.batch) / r.seconds, 1),
      medianStepMs: round(r.medianStepMs, 2),
    };
  });
  const total = children.reduce((a, c) => a + (c.result!.steps * job.batch) / c.result!.seconds, 0);
  return {
    ...base,
    imagesPerSec: round(total, 1),
    perProcess,
    backends: children.map((c) => c.ready!.backend),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Measures every shape in turn (one shape's processes at a time, all of them together), picks
 * the one with the highest aggregate images/s (chooseShape) and writes the record atomically to
 * `file`. Options are validated before any process starts (ConfigError naming the value);
 * CalibrationError when no shape could be measured (nothing is written then).
 */
export async function calibratePool(options: CalibrateOptions = {}): Promise<CalibrationResult> {
  const model = options.model ?? "resnet20";
  if (typeof model !== "string")
    throw new ConfigError(`model must be a string; got ${quote(model)}`);
  const input = options.input ?? [28, 28, 1];
  if (!Array.isArray(input) || input.length !== 3) {
    throw new ConfigError(`input must be [height, width, channels]; got ${quote(input)}`);
  }
  for (const [i, n] of input.entries()) positiveInt(`input[${i}]`, n);
  const batch = positiveInt("batch", options.batch ?? 64);
  const seconds = positiveNumber("seconds", options.seconds ?? 12);
  const warmupSteps = options.warmupSteps ?? 2;
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new ConfigError(`warmupSteps must be an integer >= 0; got ${quote(warmupSteps)}`);
  }
  const timeoutSeconds = positiveNumber(
    "timeoutSeconds",
    options.timeoutSeconds ?? 300 + 3 * seconds,
  );
  const backend =
    options.backend === undefined ? undefined : oneOf("backend", options.backend, BACKEND_CHOICES);
  const cores = os.availableParallelism();
  const shapes = options.shapes ?? calibrationShapes(cores);
  if (!Array.isArray(shapes) || shapes.length === 0) {
    throw new ConfigError(
      `shapes must be a non-empty list of {workers, threads}; got ${quote(shapes)}`,
    );
  }
  for (const s of shapes) {
    positiveInt("shape workers", s?.workers);
    positiveInt("shape threads", s?.threads);
  }
  // ConfigError for an unknown model or an input it cannot take, before any process starts.
  // (Imported here: the models load tfjs, which the CLI's flag checks should not wait for.)
  const { presetConfig } = await import("../models/index.js");
  const config = presetConfig(model, { inputShape: input });
  const file = options.file === undefined ? defaultPoolFile() : options.file;
  const log = options.log ?? (() => {});

  const host = os.hostname();
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown";
  const loadAverage = round(os.loadavg()[0] ?? 0, 2);
  const backendRequested = backend ?? (process.env.SENET_LAB_BACKEND || "auto");
  log(
    `calibrating ${shapes.length} shape${shapes.length === 1 ? "" : "s"} (workers × threads) on ${host}, ${cores} cores (${cpu}): ${model} ${input.join("×")} batch ${batch}, ${seconds} s timed each, backend ${backendRequested}`,
  );
  if (loadAverage > cores / 2) {
    log(
      `note: load average ${loadAverage} on ${cores} cores before calibrating: other work shares the CPUs, so these numbers are what is left of them`,
    );
  }
  const job = { model, batch, warmupSteps, minSteps: 2, config };
  const measured: ShapeMeasurement[] = [];
  let backendUsed: string | undefined;
  for (const shape of shapes) {
    const t0 = performance.now();
    const { backends, ...m } = await measureShape(shape, job, seconds, timeoutSeconds, backend);
    backendUsed ??= backends[0];
    measured.push(m);
    const wall = ((performance.now() - t0) / 1000).toFixed(1);
    log(
      m.error
        ? `  ${shapeName(m)}: FAILED (${m.error.split("\n")[0]}) in ${wall} s`
        : `  ${shapeName(m)}: ${m.imagesPerSec.toFixed(1)} img/s (${m.perProcess.map((p) => p.imagesPerSec.toFixed(1)).join(" + ")}) in ${wall} s`,
    );
  }
  const failed = measured.filter((m) => m.error);
  if (failed.length === measured.length) {
    throw new CalibrationError(
      `calibration measured no shape: ${failed.map((m) => `${shapeName(m)}: ${m.error}`).join("; ")}`,
    );
  }
  const calibration: PoolCalibration = {
    version: 1,
    measuredAt: new Date().toISOString(),
    host,
    cpu,
    cores,
    backend: backendUsed ?? backendRequested,
    backendRequested,
    model,
    input: [...input] as [number, number, number],
    batch,
    seconds,
    loadAverage,
    shapes: measured,
    chosen: chooseShape(measured),
  };
  if (file !== null) writeJsonAtomic(file, calibration);
  return { calibration, file };
}

/** The small table `sweep calibrate` prints: each shape's aggregate and per-process images/s. */
export function calibrationTable(cal: PoolCalibration): string {
  const rows = cal.shapes.map((s) => {
    const chosen = s.workers === cal.chosen.workers && s.threads === cal.chosen.threads;
    return [
      `${chosen ? "*" : " "} ${shapeName(s)}`,
      s.error ? "failed" : s.imagesPerSec.toFixed(1),
      s.error
        ? s.error.split("\n")[0]!
        : s.perProcess
            .map((p) => `${p.imagesPerSec.toFixed(1)} (${p.medianStepMs.toFixed(0)} ms/step)`)
            .join(", "),
    ];
  });
  const head = ["  workers×threads", "img/s", "per process"];
  const w0 = Math.max(head[0]!.length, ...rows.map((r) => r[0]!.length));
  const w1 = Math.max(head[1]!.length, ...rows.map((r) => r[1]!.length));
  const line = (r: string[]) => `${r[0]!.padEnd(w0)}  ${r[1]!.padStart(w1)}  ${r[2]}`.trimEnd();
  return [
    `${cal.model} ${cal.input.join("×")} batch ${cal.batch}, backend ${cal.backend}, ${cal.cores} cores on ${cal.host}, ${cal.seconds} s per shape`,
    line(head),
    ...rows.map(line),
    `chosen: ${cal.chosen.workers} worker${cal.chosen.workers === 1 ? "" : "s"} × ${cal.chosen.threads} thread${cal.chosen.threads === 1 ? "" : "s"}`,
  ].join("\n");
}
