/**
 * `senet-lab sweep`: run a sweep spec in parallel worker processes, submit it to SLURM as a job
 * array (each task runs `sweep run-one`), show a sweep folder's status, print its table
 * (mean ± std over seeds, grouped by the grid keys) for a terminal, and calibrate the pool's
 * shape (workers × threads) on this machine.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, EXIT_PREEMPTED, quote } from "../errors.js";
import { failureHeadline, RUN_STATES, type RunStatus, type SweepStatus } from "../sweep/status.js";
import { checkWritableDir } from "../util/fs.js";
import { guardStopSignals } from "../util/signals.js";
import { type CommandSpec, type FlagValues, int, str } from "./command.js";

/** Reads and parses a spec file, naming the file on any failure. */
export function readSpecFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read sweep spec ${quote(file)}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`sweep spec ${quote(file)} is not valid JSON: ${(err as Error).message}`);
  }
}

function onePositional(positionals: string[], what: string, cmd: string): string {
  if (positionals.length !== 1) {
    throw new ConfigError(
      `'senet-lab sweep ${cmd}' takes one ${what}; got ${positionals.length} arguments`,
    );
  }
  return positionals[0]!;
}

const runCommand: CommandSpec = {
  name: "run",
  summary:
    "Run every pending run of a sweep spec in parallel workers (completed runs are skipped).",
  args: "<spec.json>",
  flags: {
    out: {
      type: "string",
      valueName: "DIR",
      description: "Sweep folder (default results/<name>).",
    },
    workers: {
      type: "string",
      valueName: "N",
      description:
        "Parallel worker processes (default: the 'sweep calibrate' shape, else cores ÷ threads per worker).",
    },
    threads: {
      type: "string",
      valueName: "N",
      description:
        "Threads per worker, passed as SENET_LAB_THREADS (default: SENET_LAB_THREADS, else the 'sweep calibrate' shape, else 1).",
    },
    // A mistyped grid can expand to millions of runs; it is refused unless this is raised.
    "max-runs": {
      type: "string",
      valueName: "N",
      description: "Refuse a spec of more than N runs before expanding it (default 10000).",
    },
    // Train an identical experiment once across sweeps: runs are matched by content hash.
    "reuse-root": {
      type: "string",
      valueName: "DIR",
      description:
        "Copy pending runs from identical finished runs (same config and training code) of sweeps under DIR instead of training.",
    },
  },
  async run(flags, positionals) {
    const out = str(flags, "out");
    // Before anything else: an unwritable --out would otherwise fail after validation, or worse.
    if (out !== undefined) checkWritableDir(out, "--out");
    const spec = readSpecFile(onePositional(positionals, "spec file", "run"));
    const workers = int(flags, "workers");
    const threads = int(flags, "threads");
    const maxRuns = int(flags, "max-runs");
    const reuseRoot = str(flags, "reuse-root");
    const { runSweep } = await import("../sweep/index.js");
    const result = await runSweep(spec, {
      ...(out ? { outDir: path.resolve(out) } : {}),
      ...(reuseRoot ? { reuseRoot: path.resolve(reuseRoot) } : {}),
      ...(workers ? { workers } : {}),
      ...(threads ? { threadsPerWorker: threads } : {}),
      ...(maxRuns ? { maxRuns } : {}),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    for (const r of result.runs.filter((x) => x.status === "failed")) {
      process.stderr.write(`failed: ${r.id}: ${r.error ?? ""}\n`);
    }
    if (result.counts.failed > 0) return 1;
    // Stopped by SIGTERM/SIGINT with work left (runs checkpointed and recorded "preempted", or
    // not started): exit 4, a rerun continues. A signal after the last run finished leaves
    // nothing to continue: 0.
    const left = result.counts.preempted + result.counts.pending;
    return left > 0 ? EXIT_PREEMPTED : 0;
  },
};

const runOneCommand: CommandSpec = {
  name: "run-one",
  summary:
    "Run one run of a sweep by index (what each SLURM array task runs); exit 0 trained, 3 done, 75 busy, 4 preempted (checkpointed on SIGTERM), 1 failed.",
  args: "<spec.json>",
  flags: {
    index: {
      type: "string",
      valueName: "N",
      description: "The run's index in the sweep (default: $SLURM_ARRAY_TASK_ID).",
    },
    out: {
      type: "string",
      valueName: "DIR",
      description: "Sweep folder (default results/<name>).",
    },
  },
  async run(flags, positionals) {
    const spec = readSpecFile(onePositional(positionals, "spec file", "run-one"));
    const out = str(flags, "out");
    const index = str(flags, "index");
    const { runSweepTask } = await import("../sweep/index.js");
    // SIGTERM (SLURM's --signal warning before the time limit, or scancel) is handled by the
    // training loop: it checkpoints at the current step and the task exits 4 ("preempted"). The
    // guard keeps scancel's second copy (the batch script forwards it) from killing the task
    // while it records that.
    guardStopSignals();
    const result = await runSweepTask(spec, {
      ...(out ? { outDir: path.resolve(out) } : {}),
      ...(index !== undefined ? { index } : {}),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    if (result.error) process.stderr.write(`${result.error}\n`);
    return result.code;
  },
};

const submitCommand: CommandSpec = {
  name: "submit",
  summary:
    "Submit a sweep's pending runs to a cluster scheduler as one job array (SLURM), one task per run.",
  args: "<spec.json>",
  flags: {
    slurm: { type: "boolean", description: "Submit to SLURM with sbatch (the only scheduler)." },
    out: {
      type: "string",
      valueName: "DIR",
      description:
        "Sweep folder on a filesystem every node sees at the same path (default results/<name>).",
    },
    partition: {
      type: "string",
      valueName: "P",
      description: "SLURM partition (default: the cluster's default partition).",
    },
    time: {
      type: "string",
      valueName: "T",
      description: "Time limit per task: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS.",
    },
    cpus: {
      type: "string",
      valueName: "N",
      description: "CPUs per task, also the training threads (SENET_LAB_THREADS); default 1.",
    },
    failed: {
      type: "boolean",
      description: "Resubmit only the failed runs (see 'sweep status').",
    },
    "dry-run": {
      type: "boolean",
      description: "Print the sbatch script; write and submit nothing.",
    },
    // A mistyped grid can expand to millions of runs; it is refused unless this is raised.
    "max-runs": {
      type: "string",
      valueName: "N",
      description: "Refuse a spec of more than N runs before expanding it (default 10000).",
    },
  },
  async run(flags, positionals) {
    if (!flags.slurm) {
      throw new ConfigError(
        "'senet-lab sweep submit' needs a scheduler; allowed: --slurm (or use 'sweep run' on this machine)",
      );
    }
    const out = str(flags, "out");
    if (out !== undefined) checkWritableDir(out, "--out");
    const spec = readSpecFile(onePositional(positionals, "spec file", "submit"));
    const maxRuns = int(flags, "max-runs");
    const partition = str(flags, "partition");
    const time = str(flags, "time");
    const cpus = int(flags, "cpus");
    const { submitSlurm } = await import("../sweep/index.js");
    const dryRun = flags["dry-run"] === true;
    const r = submitSlurm(spec, {
      ...(out ? { outDir: path.resolve(out) } : {}),
      ...(partition !== undefined ? { partition } : {}),
      ...(time !== undefined ? { time } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
      failedOnly: flags.failed === true,
      dryRun,
      ...(maxRuns ? { maxRuns } : {}),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    if (dryRun && r.scriptText) process.stdout.write(`\n${r.scriptText}`);
    if (r.jobId) process.stdout.write(`${r.jobId}\n`);
    return 0;
  },
};

/** Reads a flag that takes a number > 0 (e.g. seconds), erroring with the flag's name and value. */
export function positiveNumberFlag(flags: FlagValues, name: string): number | undefined {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new ConfigError(`--${name} must be a number > 0; got ${JSON.stringify(v)}`);
  }
  return n;
}

const calibrateCommand: CommandSpec = {
  name: "calibrate",
  summary:
    "Measure training throughput of each workers × threads shape on this machine; sweeps then use the fastest (.senet-lab/pool.json).",
  flags: {
    // The network whose training steps are timed: the sweeps' own, so the shape fits them.
    model: {
      type: "string",
      valueName: "NAME",
      description:
        "Preset whose training step is timed (default resnet20, the notebooks' network).",
    },
    // The sweeps' images: a 32×32×3 CIFAR sweep may prefer another shape than 28×28×1.
    input: {
      type: "string",
      valueName: "H,W,C",
      description: "Input height,width,channels (default 28,28,1: Fashion-MNIST).",
    },
    // Per-step work sets how well threads pay off: time the batch the sweeps train with.
    batch: { type: "string", valueName: "N", description: "Images per step (default 64)." },
    // Longer is steadier; the default keeps the whole calibration near 30 s on 2 cores.
    seconds: {
      type: "string",
      valueName: "S",
      description: "Timed seconds per shape, after start-up and warm-up (default 12).",
    },
    // For scripts and for recording the full record elsewhere.
    json: { type: "boolean", description: "Print the whole record as JSON instead of a table." },
  },
  async run(flags, positionals) {
    if (positionals.length > 0) {
      throw new ConfigError(
        `'senet-lab sweep calibrate' takes no arguments; got ${positionals.map((p) => JSON.stringify(p)).join(" ")}`,
      );
    }
    const model = str(flags, "model");
    const inputText = str(flags, "input");
    const batch = int(flags, "batch");
    const seconds = positiveNumberFlag(flags, "seconds");
    const { calibratePool, calibrationTable, parseInputShape } = await import(
      "../sweep/calibrate.js"
    );
    let input: [number, number, number] | undefined;
    try {
      input = inputText === undefined ? undefined : parseInputShape(inputText);
    } catch (err) {
      throw new ConfigError(`--${(err as Error).message}`);
    }
    const json = flags.json === true;
    const progress = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
    const { calibration, file } = await calibratePool({
      ...(model !== undefined ? { model } : {}),
      ...(input ? { input } : {}),
      ...(batch !== undefined ? { batch } : {}),
      ...(seconds !== undefined ? { seconds } : {}),
      log: progress,
    });
    if (json) process.stdout.write(`${JSON.stringify(calibration, null, 2)}\n`);
    else process.stdout.write(`\n${calibrationTable(calibration)}\nwritten to ${file}\n`);
    return 0;
  },
};

/** One status line's detail for a run. */
function statusDetail(r: RunStatus): string {
  const queued = r.queue
    ? `SLURM ${r.queue.label} ${r.queue.state.toLowerCase()}${r.queue.reason && r.queue.reason !== "None" ? ` (${r.queue.reason})` : ""}`
    : "";
  const via = r.slurm ? ` (SLURM ${r.slurm})` : "";
  const base =
    r.state === "done"
      ? `${r.result ?? ""}${r.reusedFrom ? `, reused from ${r.reusedFrom}` : ""}`
      : r.state === "running"
        ? `pid ${r.pid ?? "?"}${r.host ? ` on ${r.host}` : ""}${via}, ${r.epochs} epoch(s) so far`
        : r.state === "failed"
          ? `${failureHeadline(r.error ?? "")}${via}`
          : r.state === "preempted"
            ? `${(r.error ?? "").split("\n")[0]!}${via}; 'sweep run' (or 'submit --failed') continues it`
            : r.state === "damaged"
              ? `${(r.error ?? "").split("\n")[0]!}; 'sweep run' moves it to .damaged/ and trains it again`
              : r.epochs > 0
                ? `interrupted after ${r.epochs} epoch(s); a rerun resumes it`
                : "";
  return queued ? (base ? `${queued}; last: ${base}` : queued) : base;
}

/** Width of the state column of `sweep status`: the longest state name ("preempted"). */
const STATE_WIDTH = Math.max(...[...RUN_STATES, "queued"].map((st) => st.length));

/** The status report printed by `sweep status`. */
function statusText(s: SweepStatus): string {
  const c = s.counts;
  const slurm = s.slurmJobs.length > 0;
  const lines = [
    `sweep ${s.name} (${s.outDir}): ${s.runs.length} runs: ${c.done} done, ${c.running} running, ${c.failed} failed, ${c.missing} missing${c.damaged ? `, ${c.damaged} damaged` : ""}${c.preempted ? `, ${c.preempted} preempted` : ""}${slurm ? `; ${s.queued} queued in SLURM` : ""}`,
  ];
  const w = Math.max(...s.runs.map((r) => r.id.length));
  for (const r of s.runs) {
    const state = r.queue && r.state !== "done" && r.state !== "running" ? "queued" : r.state;
    lines.push(`  ${state.padEnd(STATE_WIDTH)}  ${r.id.padEnd(w)}  ${statusDetail(r)}`.trimEnd());
  }
  if (slurm) {
    lines.push("SLURM job arrays (newest last):");
    for (const j of s.slurmJobs.slice(-10)) {
      const q =
        j.inQueue === undefined
          ? "queue unknown"
          : j.inQueue === 0
            ? "finished"
            : `${j.inQueue} task(s) in queue`;
      lines.push(
        `  ${j.job.jobId}  ${j.job.submitted}  runs ${j.job.array}${j.job.failedOnly ? " (failed only)" : ""}: ${q}; logs ${j.job.logDir}/${j.job.jobId}_<index>.out`,
      );
    }
    if (s.slurmNote) lines.push(`  (${s.slurmNote}: queued tasks are not shown)`);
  }
  return `${lines.join("\n")}\n`;
}

const statusCommand: CommandSpec = {
  name: "status",
  summary:
    "Count and list a sweep folder's runs: done, running, failed, missing (and SLURM's queued tasks).",
  args: "<dir>",
  flags: {},
  async run(_flags, positionals) {
    const dir = onePositional(positionals, "sweep folder", "status");
    const { sweepStatus } = await import("../sweep/index.js");
    process.stdout.write(statusText(sweepStatus(path.resolve(dir))));
    return 0;
  },
};

const tableCommand: CommandSpec = {
  name: "table",
  summary: "Print a sweep's table: mean ± std and n over seeds per grid point (completed runs).",
  args: "<dir>",
  flags: {
    metric: {
      type: "string",
      short: "m",
      multiple: true,
      valueName: "M",
      description: "Metric (a numeric summary.json field); default: the first accuracy-like one.",
    },
    by: {
      type: "string",
      valueName: "K1,K2",
      description: "Columns to group by (default: every grid key).",
    },
    markdown: { type: "boolean", description: "Print a Markdown table." },
    csv: { type: "boolean", description: "Print CSV with the raw mean, std and n columns." },
  },
  async run(flags, positionals) {
    const dir = path.resolve(onePositional(positionals, "sweep folder", "table"));
    if (flags.markdown && flags.csv) throw new ConfigError("choose one of --markdown and --csv");
    const report = await import("../report/index.js");
    const { sweepTable } = report;
    const metrics = Array.isArray(flags.metric) ? flags.metric : [];
    const by = str(flags, "by")
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const table = sweepTable(dir, {
      ...(metrics.length ? { metrics } : {}),
      ...(by ? { by } : {}),
    });
    const text = flags.csv
      ? report.toCsv(table.summary)
      : flags.markdown
        ? report.toMarkdown(table.formatted, { caption: table.caption })
        : `${table.caption}\n\n${report.toText(table.formatted)}\n`;
    process.stdout.write(text);
    // Said on stderr too, so CSV and Markdown (which carry no caption) do not hide it.
    for (const d of table.damaged) {
      process.stderr.write(`left out damaged run ${d.id}: ${d.reason.split("\n")[0]}\n`);
    }
    return 0;
  },
};

/** The `sweep` command group. */
export const sweepCommand: CommandSpec = {
  name: "sweep",
  summary: "Run, inspect and tabulate sweeps (grid × seeds of training runs).",
  subcommands: [
    runCommand,
    submitCommand,
    runOneCommand,
    statusCommand,
    tableCommand,
    calibrateCommand,
  ],
};
