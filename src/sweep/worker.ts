/**
 * A sweep worker process: `node --import tsx src/sweep/worker.ts <sweepDir> <runId>` trains one
 * run of the sweep whose manifest is <sweepDir>/sweep.json. One process per run keeps runs
 * isolated (tfjs state, memory, a crash) and costs about a second of start-up per run.
 *
 * Exit codes: 0 the run was trained now (completed or diverged), 3 it was already finished,
 * 75 another live process holds the run's claim (the pool retries later), 1 training failed,
 * 2 bad arguments.
 * The worker exits by itself when its parent sweep dies (checked on a timer and at every epoch
 * line), leaving a stale claim the next sweep takes over (the run resumes from its checkpoint).
 */
import { pathToFileURL } from "node:url";
import { SenetLabError } from "../errors.js";
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

/** Worker entry: runs one run by id; returns the exit code. */
export async function workerMain(argv: string[]): Promise<number> {
  const [outDir, id] = argv;
  if (!outDir || !id) {
    process.stderr.write("usage: worker.ts <sweepDir> <runId>\n");
    return 2;
  }
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
      process.stdout.write(`${line}\n`);
    },
  });
  if (result.outcome === "busy") {
    process.stdout.write(`claimed by pid ${result.heldBy?.pid ?? "?"}; leaving it\n`);
    return EXIT_BUSY;
  }
  return result.outcome === "done" ? EXIT_ALREADY_DONE : 0;
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  exitWithParent();
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
    code = 1;
  }
  // Exit now: a loaded backend may keep handles open. Pipes are synchronous on Linux, so
  // everything written above has reached the parent.
  process.exit(code);
}
