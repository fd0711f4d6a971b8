/**
 * What results/index says about a notebook's training: whether its runs were trained by this
 * execution or reused from committed run folders, and when, where, on which backend and from
 * which commit they were trained. Read from the notebook library's record
 * `<sweepRoot>/<notebook>/<preset>/runs.json` and each run folder's env.json.
 */
import path from "node:path";
import { ConfigError, quote } from "../errors.js";
import { presetFolderName } from "../experiments/presets.js";
import { RUN_FILES } from "../train/run-folder.js";
import { readJsonIfExists } from "../util/fs.js";

/** The record the notebook library writes after each sweep (src/experiments/notebook.ts). */
export interface RunsRecord {
  /** Notebook name. */
  notebook: string;
  /** Preset the runs belong to. */
  preset: string;
  /** When the record was last written (ISO). */
  updated: string;
  /** One entry per run the notebook used. */
  runs: { sweep: string; id: string; dir: string; status: string; key?: string | null }[];
}

/** Per-notebook training facts for results/index.{json,html}. */
export interface TrainingSummary {
  /**
   * "trained": every run trained by this execution; "reused": every run taken from existing
   * (committed) run folders; "mixed": some of each (or some unknown); "none": the notebook
   * trains nothing.
   */
  mode: "trained" | "reused" | "mixed" | "none";
  /** Preset whose runs these are (null when the notebook trains nothing). */
  preset: string | null;
  /** Runs the notebook used. */
  runs: number;
  /** Runs trained by this execution (or by the retrain it belongs to). */
  trainedNow: number;
  /** Runs reused from folders that were already finished. */
  reused: number;
  /** Runs recorded as failed or without a readable env.json. */
  unknown: number;
  /** Earliest and latest training start (env.json startedAt, ISO) over the runs. */
  firstStartedAt: string | null;
  /** Latest training start over the runs (ISO). */
  lastStartedAt: string | null;
  /** Distinct machines, as "hostname (cpu, N cores)". */
  machines: string[];
  /** Distinct backends, as "name, N thread(s)". */
  backends: string[];
  /** Distinct commits that trained, first 10 hex digits, "+dirty" when the code had changes. */
  commits: string[];
  /** Sum of the runs' training seconds (summary.json wallSeconds), one after another. */
  trainSeconds: number;
  /** The same sum over the runs trained now. */
  trainedSeconds: number;
}

/** The summary of a notebook that trains nothing (no runs.json). */
export const NO_TRAINING: TrainingSummary = Object.freeze({
  mode: "none",
  preset: null,
  runs: 0,
  trainedNow: 0,
  reused: 0,
  unknown: 0,
  firstStartedAt: null,
  lastStartedAt: null,
  machines: [],
  backends: [],
  commits: [],
  trainSeconds: 0,
  trainedSeconds: 0,
}) as TrainingSummary;

interface EnvJson {
  startedAt?: string;
  machine?: { cpu?: string; cores?: number; hostname?: string };
  backend?: { name?: string; threads?: number };
  code?: { codeHash?: string; commit?: string | null; dirty?: boolean | null };
}

const PLAIN = /^[^\\/]+$/;

/** The preset in effect for an executed notebook: its injected or default `preset` parameter. */
export function presetOf(parameters: Record<string, unknown>): string | undefined {
  const p = parameters.preset;
  return typeof p === "string" && PLAIN.test(p) && p !== "." && p !== ".." ? p : undefined;
}

/**
 * The sweep folder an executed notebook used under `<sweepsRoot>/<notebook>/`: its preset, or
 * `<preset>-<dataset>` when its `dataset` parameter forced one (startNotebook's rule).
 */
export function sweepFolderOf(parameters: Record<string, unknown>): string | undefined {
  const preset = presetOf(parameters);
  if (preset === undefined) return undefined;
  const d = parameters.dataset;
  const folder = presetFolderName(preset, typeof d === "string" ? d : undefined);
  return PLAIN.test(folder) ? folder : undefined;
}

/** `<sweepsRoot>/<notebook>/<preset>/runs.json`, where the notebook library records its runs. */
export function runsFileOf(sweepsRoot: string, notebook: string, preset: string): string {
  for (const [what, v] of [
    ["notebook", notebook],
    ["preset", preset],
  ] as const) {
    if (typeof v !== "string" || !PLAIN.test(v) || v === "." || v === "..") {
      throw new ConfigError(`runsFileOf: ${what} must be a plain folder name; got ${quote(v)}`);
    }
  }
  return path.join(sweepsRoot, notebook, preset, "runs.json");
}

/**
 * Summarises the runs recorded in a runs.json. A run counts as trained now when the record says
 * "trained" or its env.json start is not before `since` (the execution, or the retrain it is part
 * of, began then: a resumed retrain's earlier runs read "done" but are new); otherwise reused.
 * A runs.json last written before `since` belongs to an earlier execution and is ignored (the
 * notebook used no runs this time). Missing file: NO_TRAINING.
 */
export function summarizeTraining(runsFile: string, since?: string): TrainingSummary {
  const record = readJsonIfExists<RunsRecord>(runsFile);
  if (!record || !Array.isArray(record.runs)) return { ...NO_TRAINING };
  const sinceMs = since ? Date.parse(since) : Number.NaN;
  if (Number.isFinite(sinceMs) && Date.parse(record.updated) < sinceMs) return { ...NO_TRAINING };
  const folder = path.dirname(runsFile);
  const s: TrainingSummary = {
    ...NO_TRAINING,
    preset: typeof record.preset === "string" ? record.preset : null,
    machines: [],
    backends: [],
    commits: [],
  };
  const starts: number[] = [];
  const machines = new Set<string>();
  const backends = new Set<string>();
  const commits = new Set<string>();
  for (const run of record.runs) {
    s.runs++;
    const dir = path.resolve(folder, String(run.dir ?? ""));
    const env = readJsonSafe<EnvJson>(path.join(dir, RUN_FILES.env));
    const summary = readJsonSafe<{ wallSeconds?: number }>(path.join(dir, RUN_FILES.summary));
    const seconds = typeof summary?.wallSeconds === "number" ? summary.wallSeconds : 0;
    s.trainSeconds += seconds;
    if (!env || run.status === "failed") {
      s.unknown++;
      continue;
    }
    const started = env.startedAt ? Date.parse(env.startedAt) : Number.NaN;
    if (Number.isFinite(started)) starts.push(started);
    const fresh =
      run.status === "trained" ||
      (Number.isFinite(sinceMs) && Number.isFinite(started) && started >= sinceMs);
    if (fresh) {
      s.trainedNow++;
      s.trainedSeconds += seconds;
    } else s.reused++;
    const m = env.machine;
    if (m) {
      machines.add(
        `${m.hostname ?? "?"} (${m.cpu ?? "unknown cpu"}, ${m.cores ?? "?"} core${m.cores === 1 ? "" : "s"})`,
      );
    }
    if (env.backend?.name) {
      const t = env.backend.threads;
      backends.add(
        `${env.backend.name}${typeof t === "number" ? `, ${t} thread${t === 1 ? "" : "s"}` : ""}`,
      );
    }
    if (env.code) {
      commits.add(
        `${env.code.commit ? env.code.commit.slice(0, 10) : "no commit"}${env.code.dirty ? "+dirty" : ""}`,
      );
    }
  }
  starts.sort((a, b) => a - b);
  s.firstStartedAt = starts.length ? new Date(starts[0]!).toISOString() : null;
  s.lastStartedAt = starts.length ? new Date(starts[starts.length - 1]!).toISOString() : null;
  s.machines = [...machines].sort();
  s.backends = [...backends].sort();
  s.commits = [...commits].sort();
  s.trainSeconds = Math.round(s.trainSeconds * 10) / 10;
  s.trainedSeconds = Math.round(s.trainedSeconds * 10) / 10;
  if (s.runs === 0) s.mode = "none";
  else if (s.trainedNow === s.runs) s.mode = "trained";
  else if (s.reused === s.runs) s.mode = "reused";
  else s.mode = "mixed";
  return s;
}

function readJsonSafe<T>(file: string): T | undefined {
  try {
    return readJsonIfExists<T>(file);
  } catch {
    return undefined; // a truncated env.json counts as unknown, it does not break the index
  }
}

/** One short phrase for the index: "no training", "12 trained now", "9 reused (committed)", … */
export function describeTraining(t: TrainingSummary | undefined): string {
  if (!t || t.mode === "none") return "no training";
  const parts: string[] = [];
  if (t.trainedNow) parts.push(`${t.trainedNow} trained now`);
  if (t.reused) parts.push(`${t.reused} reused`);
  if (t.unknown) parts.push(`${t.unknown} without env.json`);
  return `${parts.join(", ")} (${t.runs} run${t.runs === 1 ? "" : "s"}, preset ${t.preset ?? "?"})`;
}
