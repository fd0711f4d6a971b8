/**
 * Loading a sweep folder into danfojs DataFrames: one row per run (grid values, seed, status and
 * every numeric field of its summary), and the per-epoch records of metrics.jsonl in long form
 * for training curves. Unfinished runs are kept as rows with their state and NaN metrics, so a
 * table can say how many runs it is missing.
 */
import path from "node:path";
import * as dfd from "danfojs-node";
import { CorruptFileError } from "../errors.js";
import {
  METRICS_FILE,
  readManifest,
  runDirOf,
  SUMMARY_FILE,
  type SweepManifest,
} from "../sweep/layout.js";
import { sweepStatus } from "../sweep/status.js";
import { readJsonIfExists, readJsonl } from "../util/fs.js";

/** Columns every sweep frame has besides the grid keys and metrics. */
export const RUN_COLUMNS = ["id", "seed", "status"] as const;

/** A sweep loaded as plain rows, with what the frame alone cannot say. */
export interface SweepRows {
  /** The manifest (resolved spec and runs). */
  manifest: SweepManifest;
  /** Grid keys, in spec order (the columns a table groups by). */
  gridKeys: string[];
  /** Numeric summary fields found, in first-seen order (the metric columns). */
  metrics: string[];
  /** One row per run in sweep order. */
  rows: Record<string, string | number | boolean>[];
  /** Runs left out because a file of theirs is unreadable (status "damaged"), with why. */
  damaged: { id: string; reason: string }[];
}

/** A grid value as a frame cell: scalars as they are, anything else as its JSON. */
export function cellValue(v: unknown): string | number | boolean {
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  return JSON.stringify(v);
}

/**
 * The numeric fields of a record, nested objects flattened with "_" (e.g. `divergedAt_epoch`);
 * nulls, arrays and strings are left out.
 */
export function numericFields(record: unknown, prefix = ""): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof record !== "object" || record === null || Array.isArray(record)) return out;
  for (const [k, v] of Object.entries(record)) {
    const name = prefix ? `${prefix}_${k}` : k;
    if (typeof v === "number") out[name] = v;
    // null (no value, e.g. a diverged run's accuracy) is left out: the column gets NaN there.
    else if (typeof v === "object" && !Array.isArray(v)) Object.assign(out, numericFields(v, name));
  }
  return out;
}

/** Reads a sweep folder into plain rows (see loadSweep for the frame). */
export function loadSweepRows(dir: string): SweepRows {
  const manifest = readManifest(dir);
  const status = new Map(sweepStatus(dir).runs.map((r) => [r.id, r]));
  const gridKeys = Object.keys(manifest.spec.grid);
  const metrics: string[] = [];
  const damaged: SweepRows["damaged"] = [];
  const perRun = manifest.runs.map((r) => {
    const st = status.get(r.id);
    let summary: Record<string, unknown> | undefined;
    try {
      if (st?.state !== "damaged") {
        summary = readJsonIfExists<Record<string, unknown>>(
          path.join(runDirOf(dir, r.id), SUMMARY_FILE),
        );
      }
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
    }
    if (st?.state === "damaged" || (!summary && st?.state === "done")) {
      // One unreadable file leaves its run out; the others still make the table.
      damaged.push({ id: r.id, reason: st?.error ?? "its summary.json is unreadable" });
      return { r, nums: {}, state: "damaged" };
    }
    // metricsFile (a line count and checksum of metrics.jsonl) checks a file; it is no result.
    const { metricsFile: _check, ...results } = summary ?? {};
    const nums = summary ? numericFields(results) : {};
    for (const k of Object.keys(nums)) {
      if (!metrics.includes(k) && k !== "seed" && !gridKeys.includes(k)) metrics.push(k);
    }
    const state =
      summary && typeof summary.status === "string" ? summary.status : (st?.state ?? "missing");
    return { r, nums, state };
  });
  const rows = perRun.map(({ r, nums, state }) => {
    const row: Record<string, string | number | boolean> = { id: r.id, seed: r.seed };
    for (const k of gridKeys) row[k] = cellValue(r.overrides[k]);
    row.status = state;
    for (const m of metrics) row[m] = nums[m] ?? Number.NaN;
    return row;
  });
  return { manifest, gridKeys, metrics, rows, damaged };
}

/** Builds a DataFrame from rows, column by column in a fixed order (danfojs infers dtypes). */
export function frameFromRows(
  rows: Record<string, unknown>[],
  columns: string[] = rows.length ? Object.keys(rows[0]!) : [],
): dfd.DataFrame {
  // danfojs cannot build an empty frame from column arrays, only from an empty row list.
  if (rows.length === 0) return new dfd.DataFrame([], { columns });
  const data: Record<string, unknown[]> = {};
  for (const c of columns) data[c] = rows.map((r) => r[c]);
  return new dfd.DataFrame(data, { columns });
}

/**
 * A sweep as a DataFrame: one row per run with columns id, seed, the grid keys, status
 * ("completed", "diverged", "running", "failed", "missing", "damaged") and every numeric
 * summary field.
 */
export function loadSweep(dir: string): dfd.DataFrame {
  const { rows, gridKeys, metrics } = loadSweepRows(dir);
  return frameFromRows(rows, ["id", "seed", ...gridKeys, "status", ...metrics]);
}

/** Options of loadCurves. */
export interface LoadCurvesOptions {
  /** Told of each run left out because a file of its is damaged (default: one console.warn line each). */
  onDamaged?: (run: { id: string; reason: string }) => void;
}

/**
 * Per-epoch records of every run (metrics.jsonl) in long form: id, seed, grid keys, the run's
 * status, then the numeric fields of each record (`epoch` numbered from 1 when records lack one).
 * A damaged run (e.g. a finished run's metrics.jsonl truncated since: see sweepStatus) is left
 * out, not drawn as a shorter curve, and `onDamaged` is told which and why.
 */
export function loadCurves(dir: string, options: LoadCurvesOptions = {}): dfd.DataFrame {
  const manifest = readManifest(dir);
  const gridKeys = Object.keys(manifest.spec.grid);
  const loaded = loadSweepRows(dir);
  const status = new Map(loaded.rows.map((r) => [r.id, r.status]));
  const onDamaged =
    options.onDamaged ??
    ((d: { id: string; reason: string }) =>
      console.warn(`[senet-lab] curves: left out damaged run ${d.id}: ${d.reason}`));
  for (const d of loaded.damaged) onDamaged(d);
  const leftOut = new Set(loaded.damaged.map((d) => d.id));
  const rows: Record<string, unknown>[] = [];
  const fields: string[] = ["epoch"];
  for (const r of manifest.runs) {
    if (leftOut.has(r.id)) continue;
    const records = readJsonl(path.join(runDirOf(dir, r.id), METRICS_FILE));
    records.forEach((rec, i) => {
      const nums = numericFields(rec);
      for (const k of Object.keys(nums)) if (!fields.includes(k)) fields.push(k);
      const row: Record<string, unknown> = { id: r.id, seed: r.seed };
      for (const k of gridKeys) row[k] = cellValue(r.overrides[k]);
      rows.push({ ...row, status: status.get(r.id), epoch: i + 1, ...nums });
    });
  }
  const columns = [
    "id",
    "seed",
    ...gridKeys,
    "status",
    ...fields.filter((f) => !gridKeys.includes(f) && f !== "seed" && f !== "status"),
  ];
  for (const row of rows) for (const c of columns) if (row[c] === undefined) row[c] = Number.NaN;
  return frameFromRows(rows, columns);
}
