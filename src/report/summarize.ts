/**
 * Mean ± std over seeds with danfojs: group the runs by what the grid varied, aggregate each
 * metric over the completed runs that have a finite value, and keep n beside it. danfojs's
 * groupby().agg computes the sample std (n − 1); its std of a single value is 0, which we
 * replace by NaN (one seed says nothing about spread).
 */
import * as dfd from "danfojs-node";
import { ConfigError, quote } from "../errors.js";
import { frameFromRows } from "./load.js";

/** Options for summarize. */
export interface SummarizeOptions {
  /** Columns to group by (usually the grid keys); [] gives one row over all runs. */
  by: string[];
  /** Numeric columns to aggregate. */
  metrics: string[];
  /** Run statuses that count towards the statistics; default ["completed"]. */
  statuses?: string[];
}

/** Suffixes of the columns summarize adds per metric. */
export const STAT_SUFFIXES = { mean: "_mean", std: "_std", n: "_n" } as const;

/** Rows of a frame as plain objects. */
export function frameRows(df: dfd.DataFrame): Record<string, unknown>[] {
  if (df.shape[0] === 0) return [];
  return dfd.toJSON(df) as Record<string, unknown>[];
}

function requireColumns(df: dfd.DataFrame, cols: string[], what: string): void {
  for (const c of cols) {
    if (!df.columns.includes(c)) {
      throw new ConfigError(
        `${what} ${quote(c)} is not a column; columns: ${df.columns.join(", ")}`,
      );
    }
  }
}

/** The key of a row's group (values stringified so danfojs's output types match the input's). */
function groupKey(row: Record<string, unknown>, by: string[]): string {
  return JSON.stringify(by.map((k) => String(row[k])));
}

/**
 * One row per group (in order of first appearance, i.e. the spec's order): the group columns,
 * `runs` (all runs in the group), `diverged` (how many diverged), and for each metric
 * `<m>_mean`, `<m>_std` (sample std, n − 1; NaN when n < 2) and `<m>_n`.
 */
export function summarize(df: dfd.DataFrame, options: SummarizeOptions): dfd.DataFrame {
  const { by, metrics } = options;
  const statuses = options.statuses ?? ["completed"];
  requireColumns(df, by, "group column");
  requireColumns(df, metrics, "metric");
  if (metrics.length === 0) throw new ConfigError("summarize needs at least one metric");
  const all = frameRows(df);
  const hasStatus = df.columns.includes("status");
  const groups = new Map<string, Record<string, unknown>>();
  for (const row of all) {
    const key = groupKey(row, by);
    let g = groups.get(key);
    if (!g) {
      g = Object.fromEntries(by.map((k) => [k, row[k]]));
      g.runs = 0;
      g.diverged = 0;
      for (const m of metrics) {
        g[m + STAT_SUFFIXES.mean] = Number.NaN;
        g[m + STAT_SUFFIXES.std] = Number.NaN;
        g[m + STAT_SUFFIXES.n] = 0;
      }
      groups.set(key, g);
    }
    (g.runs as number)++;
    if (hasStatus && row.status === "diverged") (g.diverged as number)++;
  }
  // A constant key lets danfojs aggregate "everything" when there is nothing to group by.
  const ALL = "__all__";
  for (const m of metrics) {
    const mask = all.map(
      (row) =>
        (!hasStatus || statuses.includes(String(row.status))) &&
        typeof row[m] === "number" &&
        Number.isFinite(row[m]),
    );
    if (!mask.some(Boolean)) continue;
    const kept = all.filter((_, i) => mask[i]);
    const groupCols = by.length > 0 ? by : [ALL];
    const sub = frameFromRows(
      kept.map((r) => ({ ...r, [ALL]: "all" })),
      [...groupCols, m],
    );
    const agg = sub.groupby(groupCols).agg({ [m]: ["mean", "std", "count"] });
    for (const a of frameRows(agg)) {
      const g = groups.get(groupKey(a, by));
      if (!g) continue;
      const n = Number(a[`${m}_count`]);
      g[m + STAT_SUFFIXES.mean] = Number(a[`${m}_mean`]);
      g[m + STAT_SUFFIXES.std] = n >= 2 ? Number(a[`${m}_std`]) : Number.NaN;
      g[m + STAT_SUFFIXES.n] = n;
    }
  }
  const columns = [
    ...by,
    "runs",
    "diverged",
    ...metrics.flatMap((m) => [m + STAT_SUFFIXES.mean, m + STAT_SUFFIXES.std, m + STAT_SUFFIXES.n]),
  ];
  return frameFromRows([...groups.values()], columns);
}
