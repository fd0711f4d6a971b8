/**
 * The sbatch script of a sweep's SLURM job array, as pure text: one array task per pending run
 * (the task's SLURM_ARRAY_TASK_ID is the run's index in the sweep), per-task logs, and the exact
 * node and CLI of this checkout. Also the validation of the values that go into it, so a bad
 * `--time` or `--cpus` is refused before anything is written or submitted.
 */
import path from "node:path";
import { ConfigError, EXIT_PREEMPTED, quote } from "../errors.js";
import { EXIT_ALREADY_DONE, EXIT_BUSY } from "./layout.js";

/** What a sweep's job array script needs. */
export interface SlurmScriptOptions {
  /** The sweep's name, used as the job name. */
  name: string;
  /** Run indices the array covers (any order; duplicates ignored). */
  indices: number[];
  /** Absolute sweep folder (the shared results folder every node sees at this path). */
  outDir: string;
  /** Absolute path of the spec copy the tasks read. */
  specFile: string;
  /** Absolute folder of the per-task logs (`%A_%a.out` inside it). */
  logDir: string;
  /** CPUs per task, also the training threads (SENET_LAB_THREADS). */
  cpus: number;
  /** SLURM partition; default: the cluster's default partition. */
  partition?: string;
  /** Wall-clock limit per task in a form sbatch accepts (see checkSlurmTime); default: the partition's. */
  time?: string;
  /** Folder the task changes to (the checkout); default: the project root. */
  projectDir: string;
  /** Node executable the task runs; default: the node running now. */
  node: string;
  /** The senet-lab CLI entry (bin/senet-lab.js of this checkout). */
  cli: string;
  /** Seconds before the time limit SLURM warns the task with SIGTERM (default SLURM_SIGNAL_SECONDS). */
  signalSeconds?: number;
}

/**
 * Seconds before its time limit a task is sent SIGTERM (`#SBATCH --signal=B:TERM@120`), time for
 * the run to finish its current step and write a checkpoint (SLURM may send it up to a minute
 * earlier than asked). B: signals the batch shell only; the script forwards it to training.
 */
export const SLURM_SIGNAL_SECONDS = 120;

/**
 * Shortest SLURM index list for a set of indices: sorted, duplicates dropped, consecutive runs
 * joined, e.g. [0, 1, 2, 3, 7, 9, 10, 11] → "0-3,7,9-11". Errors on anything but integers >= 0.
 */
export function compactRanges(indices: readonly number[]): string {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0) {
      throw new ConfigError(`array indices must be integers >= 0; got ${quote(i)}`);
    }
  }
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let k = 0; k < sorted.length; ) {
    let j = k;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === k ? String(sorted[k]) : `${sorted[k]}-${sorted[j]}`);
    k = j + 1;
  }
  return parts.join(",");
}

/** Expands a SLURM index list ("0-3,7,9-11") back into its indices; inverse of compactRanges. */
export function expandRanges(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new ConfigError(`${quote(list)} is not an index list like "0-3,7,9-11"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new ConfigError(`range ${quote(part)} in ${quote(list)} runs backwards`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/** The time-limit forms sbatch accepts (`--time`), for error messages. */
export const SLURM_TIME_FORMATS = [
  "MM",
  "MM:SS",
  "HH:MM:SS",
  "D-HH",
  "D-HH:MM",
  "D-HH:MM:SS",
  "UNLIMITED",
] as const;

const TIME_FORMS = [
  /^\d+$/,
  /^\d+:\d+$/,
  /^\d+:\d+:\d+$/,
  /^\d+-\d+$/,
  /^\d+-\d+:\d+$/,
  /^\d+-\d+:\d+:\d+$/,
  /^(unlimited|infinite)$/i,
];

/** Checks a `--time` value against the forms sbatch accepts; returns it, or throws naming it. */
export function checkSlurmTime(time: string): string {
  if (!TIME_FORMS.some((re) => re.test(time))) {
    throw new ConfigError(
      `--time ${quote(time)} is not a SLURM time limit; use one of ${SLURM_TIME_FORMATS.join(", ")} (e.g. 90, 2:00:00, 1-12)`,
    );
  }
  return time;
}

/** Checks a partition name (letters, digits, _ . -; several separated by commas). */
export function checkSlurmPartition(partition: string): string {
  if (!/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/.test(partition)) {
    throw new ConfigError(
      `--partition ${quote(partition)} is not a partition name (letters, digits, _ . -; several separated by commas)`,
    );
  }
  return partition;
}

/** Checks the warning time before the limit: an integer number of seconds in [1, 3600]. */
export function checkSlurmSignalSeconds(seconds: unknown): number {
  if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    throw new ConfigError(
      `signalSeconds must be an integer number of seconds in [1, 3600]; got ${quote(seconds)}`,
    );
  }
  return seconds;
}

/** Checks CPUs per task: an integer >= 1. */
export function checkSlurmCpus(cpus: unknown): number {
  if (typeof cpus !== "number" || !Number.isInteger(cpus) || cpus < 1) {
    throw new ConfigError(`--cpus must be an integer >= 1; got ${quote(cpus)}`);
  }
  return cpus;
}

/**
 * Checks a path that goes into an `#SBATCH` line (sbatch does not unquote there, and `%` starts
 * a filename pattern): absolute, without whitespace, quotes, backslashes or `%`.
 */
export function checkSbatchPath(what: string, p: string): string {
  if (!path.isAbsolute(p) || /[\s%"'\\]/.test(p)) {
    throw new ConfigError(
      `${what} ${quote(p)} cannot go into an sbatch script: it must be an absolute path without spaces, quotes, backslashes or %`,
    );
  }
  return p;
}

/** Quotes a word for bash (single quotes; a single quote inside becomes '\''). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The sbatch script of a sweep's job array. Each task runs
 * `senet-lab sweep run-one <spec> --index $SLURM_ARRAY_TASK_ID --out <dir>` with this checkout's
 * node and CLI; "busy" (75: another live process trains the run) and "already done" (3) end the
 * task with 0 so SLURM does not report them as failed. SLURM sends the batch shell SIGTERM
 * `signalSeconds` before the time limit (and on scancel); the shell forwards it to run-one,
 * whose training checkpoints at the current step and exits 4 ("preempted": `sweep status`
 * shows it, `submit --failed` resubmits it, and the run continues from that step).
 */
export function slurmScript(o: SlurmScriptOptions): string {
  if (o.indices.length === 0) throw new ConfigError("a job array needs at least one run index");
  checkSlurmCpus(o.cpus);
  if (o.time !== undefined) checkSlurmTime(o.time);
  if (o.partition !== undefined) checkSlurmPartition(o.partition);
  const log = path.join(checkSbatchPath("log folder", o.logDir), "%A_%a.out");
  const q = shellQuote;
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=${o.name}`,
    `#SBATCH --array=${compactRanges(o.indices)}`,
    `#SBATCH --output=${log}`,
    `#SBATCH --error=${log}`,
    "#SBATCH --ntasks=1",
    `#SBATCH --cpus-per-task=${o.cpus}`,
    ...(o.partition !== undefined ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time !== undefined ? [`#SBATCH --time=${o.time}`] : []),
    `#SBATCH --signal=B:TERM@${checkSlurmSignalSeconds(o.signalSeconds ?? SLURM_SIGNAL_SECONDS)}`,
    "",
    `# senet-lab sweep ${o.name}: one array task per run; SLURM_ARRAY_TASK_ID is the run's index.`,
    "# Written by 'senet-lab sweep submit --slurm'; results go to the shared sweep folder below.",
    `export SENET_LAB_THREADS=${o.cpus}`,
    `cd ${q(o.projectDir)} || exit 1`,
    'echo "senet-lab: array job $SLURM_ARRAY_JOB_ID task $SLURM_ARRAY_TASK_ID (job $SLURM_JOB_ID) on $(hostname) at $(date -u +%FT%TZ)"',
    "start=$(date +%s%N)",
    "# In the background, so the shell can pass on SLURM's SIGTERM (sent to this shell only).",
    `${q(o.node)} ${q(o.cli)} sweep run-one ${q(o.specFile)} --index "$SLURM_ARRAY_TASK_ID" --out ${q(o.outDir)} &`,
    "child=$!",
    'trap \'echo "senet-lab: SIGTERM (time limit near, or scancel): checkpointing"; kill -TERM "$child" 2>/dev/null\' TERM',
    'wait "$child"; code=$?',
    "# A wait cut short by the trap returns >128; wait again for run-one's own status.",
    'while [ "$code" -gt 128 ] && kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done',
    'echo "senet-lab: run-one exited $code after $(( ($(date +%s%N) - start) / 1000000 )) ms"',
    'case "$code" in',
    `  ${EXIT_BUSY}) echo "senet-lab: run $SLURM_ARRAY_TASK_ID is held by another live process; left to it (task exits 0)"; exit 0 ;;`,
    `  ${EXIT_ALREADY_DONE}) echo "senet-lab: run $SLURM_ARRAY_TASK_ID was already done (task exits 0)"; exit 0 ;;`,
    `  ${EXIT_PREEMPTED}) echo "senet-lab: run $SLURM_ARRAY_TASK_ID was preempted and checkpointed; 'senet-lab sweep submit --slurm --failed' continues it" ;;`,
    "esac",
    'exit "$code"',
    "",
  ];
  return lines.join("\n");
}
