/**
 * `--retrain` for `reproduce` and `notebook run`: every run is trained again, into a staging
 * root (results/.retrain/sweeps, git-ignored) that the notebooks find through
 * $SENET_LAB_SWEEP_DIR, so the committed runs stay untouched until the retrain is complete.
 *
 * A marker file (results/.retrain/retrain.json) records when the retrain started and with which
 * arguments; a retrain that was killed is resumed by the next `--retrain` with the same
 * arguments (finished runs in the staging root are skipped, notebooks already completed are not
 * executed again). When every notebook of the retrain has completed, each notebook's staged
 * sweep folder replaces results/sweeps/<notebook>/<preset> by rename, the folder it replaces is
 * kept in results/.retrain/previous-<stamp>/ (evidence is moved, never deleted), and the marker
 * is removed. Promotion is idempotent: a kill during it is finished by the next `--retrain`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, NotebookError, quote } from "../errors.js";
import { canonicalJson } from "../util/code-hash.js";
import { PROJECT_ROOT, readJsonIfExists, writeJsonAtomic } from "../util/fs.js";
import { pidAlive } from "../util/process.js";
import { type NotebookRunOptions, type NotebookRunResult, runNotebook } from "./run.js";
import { sweepFolderOf } from "./training.js";

/** Environment variable moving every notebook's sweep root (src/experiments/notebook.ts). */
export const SWEEP_DIR_ENV = "SENET_LAB_SWEEP_DIR";

/**
 * The sweep root notebooks use when nothing moves it for them: $SENET_LAB_SWEEP_DIR of the
 * kernel's environment, else of this process, else results/sweeps.
 */
export function committedSweepRoot(env?: NodeJS.ProcessEnv): string {
  return path.resolve(
    env?.[SWEEP_DIR_ENV] ??
      process.env[SWEEP_DIR_ENV] ??
      path.join(PROJECT_ROOT, "results", "sweeps"),
  );
}

/** Folder of a retrain's state inside the results folder. */
export const RETRAIN_DIRNAME = ".retrain";

/** Where a retrain keeps its state, under `<resultsDir>/.retrain`. */
export interface RetrainPaths {
  /** `<resultsDir>/.retrain`. */
  root: string;
  /** The marker file (retrain.json). */
  marker: string;
  /** Staging sweep root: $SENET_LAB_SWEEP_DIR of every kernel of the retrain. */
  sweeps: string;
  /** Staged executed notebooks (reproduce), promoted with the sweeps. */
  out: string;
}

/** The content of retrain.json. */
export interface RetrainMarker {
  /** When the retrain began (ISO); a run started after it counts as trained by the retrain. */
  startedAt: string;
  /** The process and machine that last worked on it. */
  pid: number;
  /** Host name of that machine. */
  hostname: string;
  /** What was asked: a resume must ask the same. */
  args: RetrainArgs;
  /** "training" until every notebook completed, then "promoting". */
  phase: "training" | "promoting";
  /** Suffix of previous-<stamp>/, fixed when promotion begins. */
  stamp?: string;
  /** Notebooks completed in this retrain: the preset whose sweeps to promote, and caller data. */
  completed: Record<string, { preset: string | null; entry?: unknown }>;
}

/** The arguments that identify a retrain. */
export interface RetrainArgs {
  /** "reproduce" or "notebook run". */
  command: string;
  /** Notebook names, in order. */
  notebooks: string[];
  /** Injected parameters. */
  params: Record<string, unknown>;
}

/** The paths of the retrain state under a results folder. */
export function retrainPaths(resultsDir: string): RetrainPaths {
  const root = path.join(path.resolve(resultsDir), RETRAIN_DIRNAME);
  return {
    root,
    marker: path.join(root, "retrain.json"),
    sweeps: path.join(root, "sweeps"),
    out: path.join(root, "out"),
  };
}

/** The marker of an unfinished retrain, or undefined. */
export function readRetrainMarker(paths: RetrainPaths): RetrainMarker | undefined {
  return readJsonIfExists<RetrainMarker>(paths.marker);
}

/** Saves the marker atomically. */
export function writeRetrainMarker(paths: RetrainPaths, marker: RetrainMarker): void {
  writeJsonAtomic(paths.marker, marker);
}

/**
 * Starts a retrain, or resumes the unfinished one with the same arguments. Refuses (ConfigError)
 * when an unfinished retrain with other arguments exists, or when another live process on this
 * machine is working on it.
 */
export function openRetrain(
  paths: RetrainPaths,
  args: RetrainArgs,
): { marker: RetrainMarker; resumed: boolean } {
  const existing = readRetrainMarker(paths);
  if (existing) {
    if (
      existing.pid !== process.pid &&
      existing.hostname === os.hostname() &&
      pidAlive(existing.pid)
    ) {
      throw new ConfigError(
        `a retrain is already running (pid ${existing.pid}, started ${existing.startedAt}; ${paths.marker})`,
      );
    }
    if (canonicalJson(existing.args) !== canonicalJson(args)) {
      throw new ConfigError(
        `an unfinished retrain with other arguments is in ${paths.root}: it was started ${existing.startedAt} as ${quote(existing.args)}, this one asks ${quote(args)}; rerun with its arguments to resume it, or delete ${paths.marker} (and ${paths.sweeps}) to discard it`,
      );
    }
    const marker = { ...existing, pid: process.pid, hostname: os.hostname() };
    writeRetrainMarker(paths, marker);
    return { marker, resumed: true };
  }
  fs.mkdirSync(paths.sweeps, { recursive: true });
  const marker: RetrainMarker = {
    startedAt: new Date().toISOString(),
    pid: process.pid,
    hostname: os.hostname(),
    args,
    phase: "training",
    completed: {},
  };
  writeRetrainMarker(paths, marker);
  return { marker, resumed: false };
}

/** One move made by a promotion. */
export interface PromotionMove {
  /** What moved: a notebook's sweeps, or an executed notebook file. */
  what: string;
  /** Where the new content came from (staging). */
  from: string;
  /** Where it is now. */
  to: string;
  /** Where the content it replaced went (undefined: there was none). */
  previous?: string;
}

function renameDir(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.renameSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EXDEV") {
      throw new NotebookError(
        `cannot move ${quote(from)} to ${quote(to)} by rename (another filesystem): keep the sweep root and the results folder on one filesystem`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** `p`, or `p.1`, `p.2`, … : the first that does not exist. */
function freePath(p: string): string {
  let candidate = p;
  for (let i = 1; fs.existsSync(candidate); i++) candidate = `${p}.${i}`;
  return candidate;
}

/** Replaces `target` with `staged` by rename, keeping the old `target` at `aside`. */
function swapIn(staged: string, target: string, aside: string): string | undefined {
  let previous: string | undefined;
  if (fs.existsSync(target)) {
    previous = freePath(aside);
    renameDir(target, previous);
  }
  renameDir(staged, target);
  return previous;
}

/** Options of promoteRetrain. */
export interface PromoteOptions {
  /** The committed sweep root (results/sweeps, or $SENET_LAB_SWEEP_DIR). */
  sweepsDir: string;
  /** The results folder whose executed notebooks staged ones replace (reproduce). */
  resultsDir?: string;
}

/**
 * Moves every completed notebook's staged sweeps (and staged executed notebooks, if any) over the
 * committed ones, the replaced folders and files kept under previous-<stamp>/, then removes the
 * marker and the emptied staging folders. Safe to call again after a kill mid-way.
 */
export function promoteRetrain(
  paths: RetrainPaths,
  marker: RetrainMarker,
  options: PromoteOptions,
): PromotionMove[] {
  const stamp = marker.stamp ?? new Date().toISOString().replace(/[:.]/g, "-");
  if (marker.phase !== "promoting" || marker.stamp !== stamp) {
    marker.phase = "promoting";
    marker.stamp = stamp;
    writeRetrainMarker(paths, marker);
  }
  const previousRoot = path.join(paths.root, `previous-${stamp}`);
  const sweepsDir = path.resolve(options.sweepsDir);
  const moves: PromotionMove[] = [];
  for (const [name, info] of Object.entries(marker.completed)) {
    if (info.preset) {
      const staged = path.join(paths.sweeps, name, info.preset);
      const target = path.join(sweepsDir, name, info.preset);
      if (fs.existsSync(staged)) {
        const previous = swapIn(
          staged,
          target,
          path.join(previousRoot, "sweeps", name, info.preset),
        );
        moves.push({
          what: `${name}/${info.preset} sweeps`,
          from: staged,
          to: target,
          ...(previous ? { previous } : {}),
        });
      }
    }
    if (options.resultsDir) {
      for (const ext of ["html", "ipynb"]) {
        const staged = path.join(paths.out, `${name}.${ext}`);
        const target = path.join(path.resolve(options.resultsDir), `${name}.${ext}`);
        if (!fs.existsSync(staged)) continue;
        const previous = swapIn(
          staged,
          target,
          path.join(previousRoot, "notebooks", `${name}.${ext}`),
        );
        moves.push({
          what: `${name}.${ext}`,
          from: staged,
          to: target,
          ...(previous ? { previous } : {}),
        });
      }
    }
  }
  // What is left in staging (runs of a preset no notebook reported, stray files) is evidence too.
  for (const dir of [paths.sweeps, paths.out]) {
    if (!fs.existsSync(dir)) continue;
    removeEmptyDirs(dir);
    if (fs.existsSync(dir))
      renameDir(dir, freePath(path.join(previousRoot, "unpromoted", path.basename(dir))));
  }
  fs.rmSync(paths.marker, { force: true });
  return moves;
}

/** Removes `dir` and its subfolders that hold no files (bottom-up). */
function removeEmptyDirs(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removeEmptyDirs(path.join(dir, e.name));
  }
  if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
}

/** Options of retrainNotebook besides the run's own. */
export interface RetrainNotebookOptions {
  /** Results folder holding .retrain/ (default results/). */
  resultsDir?: string;
  /** The committed sweep root the retrain replaces (default committedSweepRoot of the run's env). */
  sweepsDir?: string;
}

/** What retrainNotebook did. */
export interface RetrainNotebookResult {
  /** The notebook run (undefined when a resumed retrain only had its promotion left). */
  run?: NotebookRunResult;
  /** It resumed a killed retrain of the same notebook and parameters. */
  resumed: boolean;
  /** The retrain's state folder. */
  staging: string;
  /** The promotion, or null when the notebook failed (staged runs kept for a resume). */
  promoted: PromotionMove[] | null;
}

/**
 * `notebook run --retrain`: runs one notebook with its sweeps in the staging root, and on
 * completion promotes them over the committed sweep root (see the module comment). The executed
 * notebook itself goes where `run` says, under run's own failure rule.
 */
export async function retrainNotebook(
  run: NotebookRunOptions,
  options: RetrainNotebookOptions = {},
): Promise<RetrainNotebookResult> {
  const paths = retrainPaths(options.resultsDir ?? path.join(PROJECT_ROOT, "results"));
  const sweepsDir = path.resolve(options.sweepsDir ?? committedSweepRoot(run.env));
  const name = path.basename(String(run.input), ".ipynb");
  const { marker, resumed } = openRetrain(paths, {
    command: "notebook run",
    notebooks: [name],
    params: run.params ?? {},
  });
  let result: NotebookRunResult | undefined;
  if (marker.phase !== "promoting") {
    result = await runNotebook({
      ...run,
      env: { ...(run.env ?? {}), [SWEEP_DIR_ENV]: paths.sweeps },
    });
    if (result.status !== "completed") {
      return { run: result, resumed, staging: paths.root, promoted: null };
    }
    marker.completed[name] = { preset: sweepFolderOf(result.parameters) ?? null };
    writeRetrainMarker(paths, marker);
  }
  const promoted = promoteRetrain(paths, marker, { sweepsDir });
  return { ...(result ? { run: result } : {}), resumed, staging: paths.root, promoted };
}
