/**
 * A sweep worker process, in one of two modes:
 *
 * - `node --import tsx src/sweep/worker.ts <sweepDir> <runId>` trains one run of the sweep
 *   whose manifest is <sweepDir>/sweep.json and exits. Exit codes: 0 the run was trained now
 *   (completed or diverged), 3 it was already finished, 75 another live process holds the run's
 *   claim (the pool retries later), 4 preempted (SIGTERM/SIGINT: checkpointed at the current
 *   step, resumes there), 1 training failed, 2 bad arguments.
 * - `worker.ts --serve <sweepDir>`, forked with an IPC channel (what the pool runs): takes run
 *   after run, so node, tsx, the backend and the parsed dataset load once per worker instead of
 *   once per run (1.3-2 s per run on a 2-core machine). Each `{type: "run", id}` message is
 *   answered by `{type: "result", id, code}` with the codes above (training lines come first, as
 *   `{type: "log", line}` on the same channel, so they are never mixed up between runs). After a
 *   failed run (code 1) the worker exits, so a broken tfjs state never reaches the next run.
 *
 * Every run is trained by runOne under its claim exactly as before, so a SIGKILL at any moment
 * leaves a stale claim the next sweep takes over (the run resumes from its checkpoint). The
 * worker exits by itself when its parent sweep dies (IPC disconnect, a timer, and every epoch
 * line, since a training loop may not yield between epochs).
 */
import { pathToFileURL } from "node:url";
import { EXIT_PREEMPTED, PreemptedError, SenetLabError } from "../errors.js";
import { guardStopSignals } from "../util/signals.js";
import { expandRunsUnchecked } from "./expand.js";
import { EXIT_ALREADY_DONE, EXIT_BUSY, readManifest } from "./layout.js";
import { runOne } from "./run-one.js";

const parentPid = process.ppid;

/** Exits if the parent sweep process has gone away (this process was re-parented). */
function exitIfOrphaned(): void {
  if (process.ppid !== parentPid) {
    process.stderr.write("parent sweep process died; worker exits\n");
    process.exit(143);
  }
}

/**
 * Watches the parent: a timer while idle, and every log line (once per epoch) while training,
 * since a training loop may not yield to timers between epochs. An orphaned worker stops at
 * once; its claim is then stale and the next sweep resumes the run from its checkpoint.
 */
function exitWithParent(ms = 1000): void {
  setInterval(exitIfOrphaned, ms).unref();
}

/** Trains run `id` of the sweep in `outDir` (its manifest read now); returns the exit code. */
async function runById(outDir: string, id: string, write: (line: string) => void): Promise<number> {
  const manifest = readManifest(outDir);
  const run = expandRunsUnchecked(manifest.spec).find((r) => r.id === id);
  if (!run) {
    process.stderr.write(`run ${JSON.stringify(id)} is not part of the sweep in ${outDir}\n`);
    return 2;
  }
  const result = await runOne(outDir, run, {
    progress: false,
    log: (line) => {
      exitIfOrphaned();
      write(line);
    },
  });
  if (result.outcome === "busy") {
    write(`claimed by pid ${result.heldBy?.pid ?? "?"}; leaving it`);
    return EXIT_BUSY;
  }
  return result.outcome === "done" ? EXIT_ALREADY_DONE : 0;
}

/** Worker entry: runs one run by id; returns the exit code. */
export async function workerMain(argv: string[]): Promise<number> {
  const [outDir, id] = argv;
  if (!outDir || !id) {
    process.stderr.write("usage: worker.ts <sweepDir> <runId> | worker.ts --serve <sweepDir>\n");
    return 2;
  }
  return runById(outDir, id, (line) => process.stdout.write(`${line}\n`));
}

/** A message from the pool to a serving worker. */
export interface WorkerRequest {
  /** Train this run. */
  type: "run";
  /** The run's folder name. */
  id: string;
}

/** A message from a serving worker to the pool. */
export type WorkerReply =
  | { type: "log"; line: string }
  | { type: "result"; id: string; code: number; error?: string };

/** The text a failed run reports: a library error's message, a bug's stack. */
function errorText(err: unknown): string {
  if (err instanceof SenetLabError) return err.message;
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

/**
 * Serving entry (`--serve <sweepDir>`): trains the runs the pool sends over IPC, one at a time,
 * until the pool disconnects (then exits 0) or a run fails (then exits 1 after reporting it).
 */
export function serveMain(outDir: string): void {
  const send = (msg: WorkerReply, then?: () => void) => {
    try {
      process.send!(msg, undefined, undefined, then);
    } catch {
      process.exit(143); // the channel is gone: the pool died
    }
  };
  process.on("disconnect", () => process.exit(0));
  guardStopSignals();
  let busy = false;
  process.on("message", async (msg: WorkerRequest) => {
    if (msg?.type !== "run" || busy) return;
    busy = true;
    let code: number;
    let error: string | undefined;
    try {
      code = await runById(outDir, msg.id, (line) => send({ type: "log", line }));
    } catch (err) {
      // Preempted: checkpointed; this worker was told to stop, so it exits after answering.
      code = err instanceof PreemptedError ? EXIT_PREEMPTED : 1;
      error = errorText(err);
    }
    busy = false;
    const reply: WorkerReply = { type: "result", id: msg.id, code, ...(error ? { error } : {}) };
    if (code === 1 || code === 2 || code === EXIT_PREEMPTED) send(reply, () => process.exit(code));
    else send(reply);
  });
}

const isMain =
  process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain && process.argv[2] === "--serve") {
  exitWithParent();
  if (!process.argv[3] || !process.send) {
    process.stderr.write("usage: worker.ts --serve <sweepDir> (forked with an IPC channel)\n");
    process.exit(2);
  }
  serveMain(process.argv[3]);
} else if (isMain) {
  exitWithParent();
  guardStopSignals();
  let code: number;
  try {
    code = await workerMain(process.argv.slice(2));
  } catch (err) {
    const text =
      err instanceof SenetLabError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`${text}\n`);
    code = err instanceof PreemptedError ? EXIT_PREEMPTED : 1;
  }
  // Exit now: a loaded backend may keep handles open. Pipes are synchronous on Linux, so
  // everything written above has reached the parent.
  process.exit(code);
}
