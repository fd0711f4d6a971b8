/**
 * The sweep's pool of persistent worker processes (`worker.ts --serve`, forked with an IPC
 * channel): each takes run after run, so start-up (node, tsx, the backend, the dataset parse) is
 * paid once per worker, not once per run. A worker that fails a run or dies is replaced by a
 * fresh one for the next run; closing the pool disconnects every worker, which then exits.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BackendChoice } from "../backend/index.js";
import type { WorkerReply, WorkerRequest } from "./worker.js";

const WORKER_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "worker.ts");
/** The tsx loader children are started with (`--import`), so they run the TypeScript sources. */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/**
 * The environment of a worker process with `threads` threads: what the pool's workers get, so
 * calibration measures processes set up exactly like a sweep's (backend inherited unless given).
 */
export function workerEnv(threads: number, backend?: BackendChoice): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SENET_LAB_THREADS: String(threads),
    SENET_LAB_QUIET: process.env.SENET_LAB_QUIET ?? "1",
    ...(backend ? { SENET_LAB_BACKEND: backend } : {}),
  };
}

/** How one run ended in a worker. */
export interface PoolRunExit {
  /** The worker's answer (0 trained, 3 done, 75 busy, 1 failed, 2 bad run), or its exit code if it died. */
  code: number | null;
  /** The signal that killed the worker during the run, if it died so. */
  signal: NodeJS.Signals | null;
  /** The worker's last stderr lines during the run. */
  stderrTail: string[];
  /** The error the worker reported for a failed run. */
  error?: string;
  /** Wall seconds from handing the run over to its answer (a fresh worker's start-up included). */
  seconds: number;
  /** Whether this run started a new worker process (its start-up is in `seconds`). */
  coldStart: boolean;
}

/** Options of WorkerPool. */
export interface WorkerPoolOptions {
  /** The sweep folder (its manifest names the runs). */
  outDir: string;
  /** Most worker processes alive at once. */
  size: number;
  /** SENET_LAB_THREADS of each worker. */
  threads: number;
  /** SENET_LAB_BACKEND of each worker; default: inherited. */
  backend?: BackendChoice;
  /** Receives every output line, prefixed by the run's label. */
  log: (line: string) => void;
}

interface Job {
  label: string;
  t0: number;
  coldStart: boolean;
  stderrTail: string[];
  resolve: (exit: PoolRunExit) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs a worker trains before it is replaced: no tensors leak between runs (checked), but a
 * process's heap grows by a few MiB per run, and a fresh start every 200 runs costs about 1 %.
 */
export const RUNS_PER_WORKER = 200;

interface Worker {
  child: ChildProcess;
  /** Runs handed to it so far. */
  runs: number;
  job?: Job;
  /** Set once the process has exited or is about to (it answered a failure). */
  retiring: boolean;
  closed: Promise<void>;
}

/** Strips the progress-bar redraws and the library's line prefix from a worker's line. */
function cleanLine(line: string): string {
  return line.slice(line.lastIndexOf("\r") + 1).replace(/^\[senet-lab\] /, "");
}

/** A pool of persistent sweep workers; `run` hands one run to an idle (or new) worker. */
export class WorkerPool {
  private readonly workers = new Set<Worker>();
  private readonly options: WorkerPoolOptions;

  /** Starts nothing: workers are forked by the first runs that need them. */
  constructor(options: WorkerPoolOptions) {
    this.options = options;
  }

  /**
   * Trains run `id` in an idle worker, forking one when none is idle (at most `size` in all:
   * the caller keeps at most `size` runs in flight). Resolves when the worker answers or dies.
   */
  run(id: string, label: string): Promise<PoolRunExit> {
    let worker = [...this.workers].find((w) => !w.job && !w.retiring);
    const coldStart = !worker;
    worker ??= this.fork();
    const w = worker;
    w.runs++;
    return new Promise<PoolRunExit>((resolve, reject) => {
      w.job = { label, t0: performance.now(), coldStart, stderrTail: [], resolve, reject };
      const request: WorkerRequest = { type: "run", id };
      w.child.send(request, (err) => {
        if (err && w.job) {
          w.job = undefined;
          reject(err);
        }
      });
    });
  }

  /** Sends `signal` to every live worker (a training one checkpoints and answers "preempted"). */
  signal(signal: NodeJS.Signals): void {
    for (const w of this.workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill(signal);
    }
  }

  /** Disconnects every worker (each then exits) and waits until all have exited. */
  async close(): Promise<void> {
    for (const w of this.workers) {
      w.retiring = true;
      if (w.child.connected) w.child.disconnect();
    }
    await Promise.all([...this.workers].map((w) => w.closed));
  }

  private fork(): Worker {
    const { outDir, threads, backend } = this.options;
    const child = fork(WORKER_FILE, ["--serve", outDir], {
      execArgv: ["--import", TSX_LOADER],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: workerEnv(threads, backend),
    });
    const pumps = Promise.all([
      this.pump(child.stdout!, false, () => w),
      this.pump(child.stderr!, true, () => w),
    ]);
    let markClosed = () => {};
    const w: Worker = {
      child,
      runs: 0,
      retiring: false,
      closed: new Promise((resolve) => {
        markClosed = resolve;
        // "exit" and the end of its output, not "close": a child whose IPC channel the pool
        // disconnected never emits "close" (Node 20).
        child.on("exit", async (code, signal) => {
          await pumps;
          w.retiring = true;
          this.workers.delete(w);
          const job = w.job;
          w.job = undefined;
          job?.resolve({
            code,
            signal,
            stderrTail: job.stderrTail,
            seconds: (performance.now() - job.t0) / 1000,
            coldStart: job.coldStart,
          });
          resolve();
        });
      }),
    };
    child.on("error", (err) => {
      const job = w.job;
      w.job = undefined;
      w.retiring = true;
      job?.reject(err);
      // A process that never started emits no "exit": stop waiting for it.
      if (child.pid === undefined) {
        this.workers.delete(w);
        markClosed();
      }
    });
    child.on("message", (msg: WorkerReply) => this.onMessage(w, msg));
    this.workers.add(w);
    return w;
  }

  private onMessage(w: Worker, msg: WorkerReply): void {
    const job = w.job;
    if (msg.type === "log") {
      const text = cleanLine(msg.line);
      if (text.trim() !== "")
        this.options.log(`[${job?.label ?? `worker ${w.child.pid}`}] ${text}`);
      return;
    }
    if (msg.type !== "result" || !job) return;
    w.job = undefined;
    // A worker that failed a run exits by itself; the next run gets a fresh one.
    if (msg.code !== 0 && msg.code !== 3 && msg.code !== 75) w.retiring = true;
    else if (w.runs >= RUNS_PER_WORKER) {
      w.retiring = true;
      w.child.disconnect();
    }
    job.resolve({
      code: msg.code,
      signal: null,
      stderrTail: job.stderrTail,
      ...(msg.error ? { error: msg.error } : {}),
      seconds: (performance.now() - job.t0) / 1000,
      coldStart: job.coldStart,
    });
  }

  private pump(stream: NodeJS.ReadableStream, isErr: boolean, worker: () => Worker) {
    return new Promise<void>((resolve) => {
      const rl = readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      rl.on("line", (line) => {
        const text = cleanLine(line);
        if (text.trim() === "") return;
        const w = worker();
        const job = w.job;
        if (isErr && job) {
          job.stderrTail.push(text);
          if (job.stderrTail.length > 20) job.stderrTail.shift();
        }
        this.options.log(`[${job?.label ?? `worker ${w.child.pid}`}] ${text}`);
      });
      rl.on("close", resolve);
    });
  }
}
