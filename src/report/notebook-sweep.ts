/**
 * The sweep runner the ablation notebooks share: one folder per notebook and preset
 * (results/sweeps/<notebook>/<preset>/<sweep name>), worker lines on the terminal, one summary
 * line per sweep in the notebook, and an error naming the failed runs (finished runs are kept,
 * so rerunning the notebook retries only those).
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, quote } from "../errors.js";
import { runSweep } from "../sweep/run-sweep.js";
import { resultsPath } from "./format.js";

/**
 * Where a notebook's sweeps for one preset live: results/sweeps/<notebook>/<preset>, or
 * $SENET_LAB_SWEEP_DIR/<notebook>/<preset> when that is set (the tests train into a temp folder).
 */
export function notebookSweepRoot(notebook: string, preset: string): string {
  for (const [what, v] of [
    ["notebook", notebook],
    ["preset", preset],
  ] as const) {
    if (typeof v !== "string" || v === "" || /[\\/]/.test(v) || v === "." || v === "..") {
      throw new ConfigError(
        `notebookSweepRoot: ${what} must be a plain folder name; got ${quote(v)}`,
      );
    }
  }
  const env = process.env.SENET_LAB_SWEEP_DIR;
  return path.join(env ? path.resolve(env) : resultsPath("sweeps"), notebook, preset);
}

/** Options of runNotebookSweep. */
export interface NotebookSweepOptions {
  /** Folder holding the notebook's sweeps (notebookSweepRoot). */
  root: string;
  /** Worker processes; 0 or absent: runSweep's default (cores ÷ threads per worker). */
  workers?: number;
  /** Receives the workers' lines; default: written to stderr (the terminal, not the notebook). */
  log?: (line: string) => void;
  /** Receives the one summary line per sweep; default console.log (the notebook's output). */
  print?: (line: string) => void;
}

/**
 * Runs one sweep spec into `<root>/<spec.name>` (finished runs are skipped), prints
 * "sweep NAME: N runs (… trained now, … already done, … diverged, … failed) in S s", and
 * returns the sweep folder. Throws when any run failed, listing each with its error.
 */
export async function runNotebookSweep(
  spec: Record<string, unknown>,
  options: NotebookSweepOptions,
): Promise<string> {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new ConfigError(`runNotebookSweep: spec must be a sweep spec object; got ${quote(spec)}`);
  }
  const name = spec.name;
  if (
    typeof name !== "string" ||
    name === "" ||
    /[\\/]/.test(name) ||
    name === "." ||
    name === ".."
  ) {
    throw new ConfigError(
      `runNotebookSweep: spec.name must be a plain folder name; got ${quote(name)}`,
    );
  }
  if (typeof options?.root !== "string" || options.root === "") {
    throw new ConfigError(
      `runNotebookSweep: options.root must be a folder path; got ${quote(options?.root)}`,
    );
  }
  const workers = options.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new ConfigError(
      `runNotebookSweep: workers must be an integer >= 0; got ${quote(workers)}`,
    );
  }
  const print = options.print ?? ((line: string) => console.log(line));
  const log = options.log ?? ((line: string) => fs.writeSync(2, `${line}\n`));
  const outDir = path.join(options.root, name);
  const t0 = performance.now();
  const result = await runSweep(spec, { outDir, ...(workers > 0 ? { workers } : {}), log });
  const c = result.counts;
  print(
    `sweep ${name}: ${result.runs.length} runs (${c.completed} trained now, ${c.done} already done, ${c.diverged} diverged, ${c.failed} failed) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const failed = result.runs.filter((x) => x.status === "failed");
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} run(s) of sweep ${name} failed (rerun the notebook to retry them; finished runs are kept):\n${failed.map((r) => `${r.id}: ${r.error}`).join("\n")}`,
    );
  }
  return outDir;
}
