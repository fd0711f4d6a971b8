/**
 * The notebook protocol in one place: `startNotebook` picks the backend (for this kernel and
 * every sweep worker, without touching process.env), resolves the preset and its dataset, and
 * returns a `lab` whose `sweep` runs an ablation grid into results/sweeps/<notebook>/<preset>/,
 * reusing any finished run with the same content key from any notebook, and records which runs
 * were trained now and which reused (runs.json, read by `reproduce` for results/index).
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  initBackend,
} from "../backend/index.js";
import { ConfigError, quote, SenetLabError } from "../errors.js";
import { loadModel } from "../io/file-handler.js";
import { buildModel } from "../models/index.js";
import { variantRows } from "../report/compare.js";
import { findReusable, indexFinishedRuns, wantedRunKey } from "../sweep/reuse.js";
import { checkSweep, runSweep, type SweepRunOutcome } from "../sweep/run-sweep.js";
import { loadLatestCheckpoint } from "../train/checkpoint.js";
import { parseExperiment, resolveExperimentConfig } from "../train/config.js";
import { RUN_FILES } from "../train/run-folder.js";
import { runKey } from "../util/code-hash.js";
import { PROJECT_ROOT, readJsonIfExists, writeJsonAtomic } from "../util/fs.js";
import {
  type PresetName,
  presetFolderName,
  type ResolvedPreset,
  resolvePreset,
} from "./presets.js";

/** Environment variable moving the root of every notebook's sweeps (tests, `reproduce --retrain`). */
export const SWEEP_DIR_ENV = "SENET_LAB_SWEEP_DIR";
/** Environment variable naming a JSON-lines file that receives one event per sweep and per run. */
export const PROGRESS_FILE_ENV = "SENET_LAB_PROGRESS_FILE";
/**
 * Environment variable: when "1", a sweep that would have to train any run fails at once, naming
 * the runs, instead of training (the clean-clone test, and users who want only committed results).
 */
export const REUSE_ONLY_ENV = "SENET_LAB_REUSE_ONLY";
/** The record of which runs a notebook used, in its sweep folder. */
export const RUNS_FILE = "runs.json";

function plainName(what: string, v: unknown): string {
  if (typeof v !== "string" || v === "" || /[\\/]/.test(v) || v === "." || v === "..") {
    throw new ConfigError(`${what} must be a plain folder name; got ${quote(v)}`);
  }
  return v;
}

/** The project's results folder. */
function resultsRoot(): string {
  return path.join(PROJECT_ROOT, "results");
}

/** The root holding every notebook's sweeps: $SENET_LAB_SWEEP_DIR, else results/sweeps. */
export function sweepsRoot(): string {
  const env = process.env[SWEEP_DIR_ENV];
  return env ? path.resolve(env) : path.join(resultsRoot(), "sweeps");
}

/** Where a notebook's sweeps for one preset live: <sweepsRoot>/<notebook>/<preset> (`preset` is a folder name: see presetFolderName). */
export function notebookSweepRoot(notebook: string, preset: string): string {
  return path.join(sweepsRoot(), plainName("notebook", notebook), plainName("preset", preset));
}

/** Options of startNotebook (the notebook's parameters cell feeds them). */
export interface StartNotebookOptions {
  /** The notebook's name (its file name without .ipynb): names its sweep folder. */
  notebook: string;
  /** Preset name (smoke | quick | standard | paper). Default "quick". */
  preset?: string;
  /** Backend of this kernel and of every sweep worker. Default "auto". */
  backend?: string;
  /** Sweep worker processes; 0: the sweep default. Default 0. */
  workers?: number;
  /** Force a dataset instead of the preset's first present one ("auto", the default: the preset's); its sweeps go to `<preset>-<dataset>/`. */
  dataset?: string;
}

/** One run a notebook used, as runs.json records it. */
export interface UsedRun {
  /** The sweep's name. */
  sweep: string;
  /** The run's folder name in the sweep. */
  id: string;
  /** The run folder, relative to runs.json's folder. */
  dir: string;
  /** "trained": trained by this notebook run; "done": already finished here; "reused": copied from another notebook's identical run. */
  status: "trained" | "done" | "reused" | "failed";
  /** The run's content key (config + training code), when its config is readable. */
  key: string | null;
}

/** A sweep spec as a notebook writes it: seeds default to the preset's, base gets the preset's training keys. */
export interface NotebookSweepSpec {
  /** Folder name of the sweep under the notebook's sweep root. */
  name: string;
  /** Model (and any training) keys; the preset's training keys go underneath. */
  base: Record<string, unknown>;
  /** Grid of keys to vary (default none). */
  grid?: Record<string, unknown[]>;
  /** Seeds (default the preset's). */
  seeds?: number[];
  /** Paper numbers to keep with the sweep. */
  paper?: unknown[];
  /**
   * The notebook loads these runs' trained networks: a finished run without its final weights
   * (model/) or a checkpoint (a clone where they were not committed) is set aside under
   * .no-weights/ and trained again.
   */
  needWeights?: boolean;
}

/** What `startNotebook` returns. */
export interface Lab {
  /** The notebook's name. */
  notebook: string;
  /** The preset in force, with its dataset. */
  preset: ResolvedPreset;
  /** The preset's training keys (dataset included). */
  train: Record<string, unknown>;
  /** The preset's seeds. */
  seeds: number[];
  /** The backend this kernel uses (and every worker asks for). */
  backend: BackendInfo;
  /** This notebook's sweep folder for the preset. */
  root: string;
  /** Runs a sweep (finished runs skipped, identical runs elsewhere reused); returns its folder. */
  sweep(spec: NotebookSweepSpec): Promise<string>;
  /** A trained run's network with its final weights (model/, else the last checkpoint). */
  trainedModel(sweepDir: string, id: string): Promise<tf.LayersModel>;
}

function emit(event: Record<string, unknown>): void {
  const file = process.env[PROGRESS_FILE_ENV];
  if (!file) return;
  try {
    fs.appendFileSync(file, `${JSON.stringify(event)}\n`);
  } catch {
    // Progress is a courtesy to the caller's display; a full disk must not fail the notebook.
  }
}

/** How each sweep outcome is recorded in runs.json and the progress events. */
const RUN_STATUS: Record<SweepRunOutcome["status"], UsedRun["status"]> = {
  completed: "trained",
  diverged: "trained",
  done: "done",
  failed: "failed",
  reused: "reused",
  // A stopped sweep's unfinished runs are not results: the notebook reports them as failed.
  preempted: "failed",
  pending: "failed",
};

/**
 * Starts a notebook's session: validates its parameters before anything runs, initialises the
 * backend quietly (the line is printed as ordinary output, not as stderr's red block), resolves
 * the preset and prints one line for each.
 */
export async function startNotebook(options: StartNotebookOptions): Promise<Lab> {
  if (options === null || typeof options !== "object") {
    throw new ConfigError(`startNotebook needs an options object; got ${quote(options)}`);
  }
  const notebook = plainName("notebook", options.notebook);
  const preset = resolvePreset(options.preset ?? "quick", {
    ...(options.dataset !== undefined ? { dataset: options.dataset } : {}),
  });
  const choice = options.backend ?? "auto";
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new ConfigError(
      `backend must be one of ${BACKEND_CHOICES.join(", ")}; got ${quote(choice)}`,
    );
  }
  const workers = options.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new ConfigError(`workers must be an integer >= 0; got ${quote(workers)}`);
  }
  const backend = await initBackend(choice as BackendChoice, { quiet: true });
  const root = notebookSweepRoot(notebook, presetFolderName(preset.name, options.dataset));
  console.log(
    `backend: ${backend.name} (${backend.detail})${backend.skipped.length ? `; passed over ${backend.skipped.map((s) => s.name).join(", ")}` : ""}; sweep workers use the same`,
  );
  console.log(`preset ${preset.name} on ${preset.dataset}: ${preset.description}`);
  console.log(`sweeps in ${path.relative(path.dirname(resultsRoot()), root) || root}`);
  const used = new Map<string, UsedRun>();
  const runsFile = path.join(root, RUNS_FILE);

  const lab: Lab = {
    notebook,
    preset,
    train: preset.train,
    seeds: preset.seeds,
    backend,
    root,
    async sweep(spec) {
      if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
        throw new ConfigError(`lab.sweep: spec must be an object; got ${quote(spec)}`);
      }
      const name = plainName("spec.name", spec.name);
      const { needWeights, ...rest } = spec;
      const full = {
        ...rest,
        name,
        base: { ...preset.train, ...(spec.base ?? {}) },
        grid: spec.grid ?? {},
        seeds: spec.seeds ?? preset.seeds,
      };
      const outDir = path.join(root, name);
      // The reuse scan needs the root to exist (a clone, or a fresh --retrain root, may lack it).
      fs.mkdirSync(sweepsRoot(), { recursive: true });
      const t0 = performance.now();
      const planned = checkSweep(full, outDir).runs;
      emit({
        event: "sweep",
        notebook,
        sweep: name,
        runs: planned.length,
        pending: planned.filter((r) => !fs.existsSync(path.join(outDir, r.id, RUN_FILES.summary)))
          .length,
      });
      const sweepOptions = {
        outDir,
        reuseRoot: sweepsRoot(),
        backend: backend.requested,
        ...(workers > 0 ? { workers } : {}),
        log: (line: string) => fs.writeSync(2, `${line}\n`),
        onRunEnd: (r: SweepRunOutcome) =>
          emit({
            event: "run",
            notebook,
            sweep: name,
            id: r.id,
            status: RUN_STATUS[r.status],
            seconds: r.seconds ?? 0,
            sweepRuns: planned.length,
          }),
      };
      if (process.env[REUSE_ONLY_ENV] === "1") {
        const index = indexFinishedRuns(sweepsRoot());
        const missing = planned.filter((run) => {
          const dir = path.join(outDir, run.id);
          if (fs.existsSync(path.join(dir, RUN_FILES.summary))) return false;
          return !findReusable(index, wantedRunKey(run), run, dir);
        });
        if (missing.length > 0) {
          throw new SenetLabError(
            `${REUSE_ONLY_ENV}=1 and sweep ${name} would train ${missing.length} run(s) that neither ${path.relative(process.cwd(), outDir) || outDir} nor any identical finished run holds: ${missing.map((r) => r.id).join(", ")}`,
          );
        }
      }
      let result = await runSweep(full, sweepOptions);
      if (needWeights) {
        const stamp = new Date().toISOString().replace(/[:.]/g, "-");
        const missing = result.runs.filter((r) => {
          const dir = path.join(outDir, r.id);
          return (
            r.status !== "failed" &&
            !fs.existsSync(path.join(dir, RUN_FILES.model, "model.json")) &&
            !loadLatestCheckpoint(dir)
          );
        });
        for (const r of missing) {
          const aside = path.join(outDir, ".no-weights", `${r.id}.${stamp}`);
          fs.mkdirSync(path.dirname(aside), { recursive: true });
          fs.renameSync(path.join(outDir, r.id), aside);
          console.log(
            `run ${r.id} has no trained weights here (moved to ${path.relative(outDir, aside)}); training it again`,
          );
        }
        // Trained here, not copied: an identical run elsewhere may lack its weights too.
        if (missing.length > 0)
          result = await runSweep(full, { ...sweepOptions, reuseRoot: undefined });
      }
      for (const r of result.runs) {
        const dir = path.join(outDir, r.id);
        const config = readJsonIfExists<Record<string, unknown>>(path.join(dir, RUN_FILES.config));
        let key: string | null = null;
        try {
          key = config
            ? runKey(resolveExperimentConfig(config) as unknown as Record<string, unknown>)
            : null;
        } catch {
          key = null;
        }
        used.set(`${name}/${r.id}`, {
          sweep: name,
          id: r.id,
          dir: path.relative(root, dir),
          status: RUN_STATUS[r.status],
          key,
        });
      }
      writeJsonAtomic(runsFile, {
        notebook,
        preset: preset.name,
        dataset: preset.dataset,
        updated: new Date().toISOString(),
        runs: [...used.values()],
      });
      const counts = new Map<string, number>();
      for (const r of result.runs) {
        const s = RUN_STATUS[r.status];
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
      const parts = ["trained", "reused", "done", "failed"].map(
        (s) =>
          `${counts.get(s) ?? 0} ${s === "done" ? "already done" : s === "trained" ? "trained now" : s}`,
      );
      console.log(
        `sweep ${name}: ${result.runs.length} runs (${parts.join(", ")}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      const failed = result.runs.filter((x) => x.status === "failed");
      if (failed.length > 0) {
        throw new SenetLabError(
          `${failed.length} run(s) of sweep ${name} failed (rerun the notebook to retry them; finished runs are kept):\n${failed.map((r) => `${r.id}: ${r.error}`).join("\n")}`,
        );
      }
      return outDir;
    },
    async trainedModel(sweepDir, id) {
      const runDir = path.join(sweepDir, plainName("run id", id));
      const modelDir = path.join(runDir, RUN_FILES.model);
      if (fs.existsSync(path.join(modelDir, "model.json"))) return loadModel(modelDir);
      const ckpt = loadLatestCheckpoint(runDir);
      const config = readJsonIfExists<Record<string, unknown>>(path.join(runDir, RUN_FILES.config));
      if (!ckpt || !config) {
        throw new ConfigError(
          `${runDir} has neither its final weights (${RUN_FILES.model}/) nor a checkpoint; delete the run folder and rerun the notebook to train it again`,
        );
      }
      const { preset, model: modelConfig } = parseExperiment(config);
      const model = buildModel(modelConfig, { name: preset });
      model.weights.forEach((w, i) => {
        const s = ckpt.weights[i]!;
        tf.tidy(() => {
          w.write(tf.tensor(s.values, s.shape, "float32"));
        });
      });
      return model;
    },
  };
  return lab;
}

/** Runs of a sweep folder as plain rows (one per run), each labelled by `label`: report's variantRows, under the name the notebooks use. */
export function labelledRows(
  dir: string,
  label: (row: Record<string, unknown>) => string,
): Record<string, unknown>[] {
  return variantRows(dir, label);
}

/** Names of the presets, for a notebook's parameter union. */
export type { PresetName };
