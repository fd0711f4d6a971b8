/**
 * Reusing finished runs across sweep folders: a run is identified by its content key (runKey of
 * its resolved config and of the code that trained it, src/util/code-hash.ts), not by its folder
 * name, so an identical experiment that some other sweep already trained is copied instead of
 * trained again, whichever notebook or sweep asked for it first.
 *
 * Only runs that a sweep trained are candidates: a folder counts when a sweep manifest
 * (sweep.json) beside it lists it. Runs trained directly with runExperiment may use a
 * `buildModel` hook (notebook 06 sets SGE's γ that way) that their config.json does not describe,
 * so their key does not say what they computed.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, quote } from "../errors.js";
import { clearRunTempFiles } from "../train/run-folder.js";
import { runKey, trainingCodeHash } from "../util/code-hash.js";
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import type { SweepRun } from "./expand.js";
import { type RunSummary, runConfig } from "./experiment.js";
import {
  CHECKPOINT_DIR,
  CONFIG_FILE,
  clearPartialCopy,
  ENV_FILE,
  isRunDone,
  lockFileOf,
  MANIFEST_FILE,
  METRICS_FILE,
  MODEL_DIR,
  metricsDamage,
  REUSED_FILE,
  type ReusedRecord,
  runDirOf,
  SUMMARY_FILE,
} from "./layout.js";
import { type LockInfo, tryLock } from "./lock.js";

/** A finished run found under a reuse root. */
export interface ReuseCandidate {
  /** Its folder (absolute). */
  dir: string;
  /** Its content key. */
  key: string;
  /** The backend that trained it (env.json's backend.name), null where unrecorded. */
  backend: string | null;
  /** Whether it is itself a copy (holds reused.json); originals are preferred. */
  reused: boolean;
}

/** Finished runs under a folder, by content key (built once per sweep call). */
export interface ReuseIndex {
  /** The folder that was scanned (absolute). */
  root: string;
  /** Candidates per key, originals first, then by path. */
  byKey: Map<string, ReuseCandidate[]>;
  /** Finished runs indexed (with a code hash). */
  runs: number;
  /** Seconds the scan took. */
  seconds: number;
}

/** Folder names the scan never enters: run internals, claims and records, packages. */
const SKIP_DIRS = new Set([CHECKPOINT_DIR, MODEL_DIR, "node_modules"]);

function readJsonQuiet<T>(file: string): T | undefined {
  try {
    return readJsonIfExists<T>(file);
  } catch {
    return undefined; // unreadable JSON: never a candidate
  }
}

/**
 * The candidate a finished run folder makes: summary.json with status completed or diverged,
 * config.json, and env.json naming the code that trained it. Undefined otherwise (unfinished,
 * or trained before env.json recorded `code`, so it is never matched).
 */
export function finishedRun(dir: string): ReuseCandidate | undefined {
  const summary = readJsonQuiet<{ status?: unknown }>(path.join(dir, SUMMARY_FILE));
  if (!summary || (summary.status !== "completed" && summary.status !== "diverged")) return;
  // A metrics.jsonl cut short since the run finished would be copied as it is: never a source.
  if (metricsDamage(dir, summary as Parameters<typeof metricsDamage>[1])) return;
  const env = readJsonQuiet<{ code?: { codeHash?: unknown }; backend?: { name?: unknown } }>(
    path.join(dir, ENV_FILE),
  );
  const codeHash = env?.code?.codeHash;
  if (typeof codeHash !== "string" || codeHash === "") return;
  const config = readJsonQuiet<Record<string, unknown>>(path.join(dir, CONFIG_FILE));
  if (!config || typeof config !== "object" || Array.isArray(config)) return;
  const backend = env?.backend?.name;
  return {
    dir,
    key: runKey(config, codeHash),
    backend: typeof backend === "string" ? backend : null,
    reused: fs.existsSync(path.join(dir, REUSED_FILE)),
  };
}

/** The run ids a sweep manifest lists, or undefined when `dir` holds no readable manifest. */
function manifestRunIds(dir: string): string[] | undefined {
  const m = readJsonQuiet<{ runs?: unknown }>(path.join(dir, MANIFEST_FILE));
  if (!m || !Array.isArray(m.runs)) return undefined;
  return m.runs
    .map((r) => (r as { id?: unknown } | null)?.id)
    .filter((id): id is string => typeof id === "string" && id !== "" && !id.includes("/"));
}

/**
 * Scans `root` recursively for finished sweep runs (folders listed by a sweep.json beside them),
 * skipping dot-folders (.locks, .failures, .slurm), checkpoint/ and model/; symlinks are not
 * followed. Reads three small JSON files per run, so a few hundred runs take milliseconds.
 */
export function indexFinishedRuns(root: string): ReuseIndex {
  const t0 = performance.now();
  const abs = path.resolve(root);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new ConfigError(`reuseRoot ${quote(root)} does not exist; give a folder of sweeps`);
  }
  if (!st.isDirectory()) throw new ConfigError(`reuseRoot ${quote(root)} is not a folder`);
  const byKey = new Map<string, ReuseCandidate[]>();
  let runs = 0;
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: nothing to reuse from it
    }
    const ids = new Set(manifestRunIds(dir) ?? []);
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith(".") || SKIP_DIRS.has(e.name)) continue;
      const sub = path.join(dir, e.name);
      if (ids.has(e.name)) {
        const c = finishedRun(sub);
        if (c) {
          runs++;
          const list = byKey.get(c.key) ?? [];
          list.push(c);
          byKey.set(c.key, list);
        }
        continue; // a run folder holds no further runs
      }
      walk(sub);
    }
  };
  walk(abs);
  for (const list of byKey.values()) {
    list.sort((a, b) => Number(a.reused) - Number(b.reused) || (a.dir < b.dir ? -1 : 1));
  }
  return { root: abs, byKey, runs, seconds: (performance.now() - t0) / 1000 };
}

/** The content key a sweep run would have if trained now by this checkout. */
export function wantedRunKey(run: SweepRun, codeHash: string = trainingCodeHash()): string {
  return runKey(runConfig(run) as unknown as Record<string, unknown>, codeHash);
}

/**
 * The finished run to copy for `run`, if any. A config that names a backend explicitly (a
 * backend comparison) only takes runs that backend trained; `exclude` is the run's own folder.
 */
export function findReusable(
  index: ReuseIndex,
  key: string,
  run: SweepRun,
  exclude: string,
): ReuseCandidate | undefined {
  const list = index.byKey.get(key);
  if (!list) return undefined;
  const asked = runConfig(run).backend;
  const self = path.resolve(exclude);
  return list.find(
    (c) =>
      path.resolve(c.dir) !== self &&
      (asked === null || asked === "auto" || c.backend === asked) &&
      fs.existsSync(path.join(c.dir, SUMMARY_FILE)),
  );
}

/** Whether a run folder holds any checkpoint file (it then resumes instead of being reused). */
export function hasCheckpoint(runDir: string): boolean {
  try {
    return fs.readdirSync(path.join(runDir, CHECKPOINT_DIR)).some((f) => !f.startsWith("."));
  } catch {
    return false;
  }
}

/** Every plain file under `dir` (relative paths), skipping temporary files of atomic writes. */
function filesUnder(dir: string, prefix = ""): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith(".")) return [];
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) return filesUnder(path.join(dir, e.name), rel);
    return e.isFile() ? [rel] : [];
  });
}

/**
 * Copies a finished run's results into `dest`: this run's own resolved config as config.json
 * (identical in every keyed field; dataDir and backend stay this spec's), then env.json,
 * metrics.jsonl, model/ and reused.json, and summary.json last, each atomically, so a kill at
 * any point leaves a folder without summary.json, which is not done and is redone. Every source
 * file is read before the first write. On error the partial copy is removed and it rethrows.
 */
export function copyFinishedRun(
  src: string,
  dest: string,
  config: Record<string, unknown>,
  record: ReusedRecord,
): RunSummary {
  const read = (rel: string) => fs.readFileSync(path.join(src, rel));
  const summaryBytes = read(SUMMARY_FILE);
  const summary = JSON.parse(summaryBytes.toString("utf8")) as RunSummary;
  if (summary.status !== "completed" && summary.status !== "diverged") {
    throw new ConfigError(
      `${quote(src)} is not a finished run (summary status ${quote(summary.status)})`,
    );
  }
  const env = read(ENV_FILE);
  const metrics = fs.existsSync(path.join(src, METRICS_FILE)) ? read(METRICS_FILE) : undefined;
  const modelSrc = path.join(src, MODEL_DIR);
  const model = fs.existsSync(modelSrc)
    ? filesUnder(modelSrc).map((rel) => ({ rel, bytes: fs.readFileSync(path.join(modelSrc, rel)) }))
    : [];
  try {
    fs.rmSync(path.join(dest, MODEL_DIR), { recursive: true, force: true });
    writeJsonAtomic(path.join(dest, CONFIG_FILE), config);
    writeFileAtomic(path.join(dest, ENV_FILE), env);
    if (metrics) writeFileAtomic(path.join(dest, METRICS_FILE), metrics);
    else fs.rmSync(path.join(dest, METRICS_FILE), { force: true });
    for (const f of model) writeFileAtomic(path.join(dest, MODEL_DIR, f.rel), f.bytes);
    writeJsonAtomic(path.join(dest, REUSED_FILE), record);
    writeFileAtomic(path.join(dest, SUMMARY_FILE), summaryBytes);
  } catch (err) {
    clearPartialCopy(dest);
    throw err;
  }
  return summary;
}

/** What tryReuse did with one run. */
export type ReuseResult =
  | { outcome: "reused"; summary: RunSummary; record: ReusedRecord }
  | { outcome: "done"; summary: RunSummary | undefined }
  | { outcome: "busy"; heldBy: LockInfo | null }
  | { outcome: "train"; error?: string };

/**
 * Copies an identical finished run into `outDir/<run.id>` under the run's claim, as training
 * would take it, so two sweeps on one folder never copy and train the same run at once. "train"
 * when the run has a checkpoint of its own (it resumes) or the copy failed (`error` says why).
 */
export function tryReuse(
  outDir: string,
  run: SweepRun,
  source: ReuseCandidate,
  index: ReuseIndex,
): ReuseResult {
  const claim = tryLock(lockFileOf(outDir, run.id));
  if ("heldBy" in claim) return { outcome: "busy", heldBy: claim.heldBy };
  try {
    const dest = runDirOf(outDir, run.id);
    if (isRunDone(outDir, run.id)) {
      return {
        outcome: "done",
        summary: readJsonQuiet<RunSummary>(path.join(dest, SUMMARY_FILE)),
      };
    }
    if (hasCheckpoint(dest)) return { outcome: "train" };
    clearRunTempFiles(dest);
    const record: ReusedRecord = {
      from: path.relative(index.root, source.dir) || ".",
      key: source.key,
      at: new Date().toISOString(),
    };
    const config = runConfig(run) as unknown as Record<string, unknown>;
    try {
      return {
        outcome: "reused",
        summary: copyFinishedRun(source.dir, dest, config, record),
        record,
      };
    } catch (err) {
      return { outcome: "train", error: err instanceof Error ? err.message : String(err) };
    }
  } finally {
    claim.lock.release();
  }
}
