/**
 * The standard table of a sweep folder in one call: load the runs, summarise the chosen metrics
 * over seeds grouped by the grid keys, add the paper column where the spec gives numbers, and
 * format it. Used by `senet-lab sweep table` and by notebooks that want the default view.
 */
import type * as dfd from "danfojs-node";
import { ConfigError, quote } from "../errors.js";
import { formatSummary } from "./format.js";
import { frameFromRows, loadSweepRows } from "./load.js";
import { addPaperColumn, paperSources } from "./paper.js";
import { summarize } from "./summarize.js";

/** Options for sweepTable. */
export interface SweepTableOptions {
  /** Metrics to summarise (default: defaultMetric()). */
  metrics?: string[];
  /** Columns to group by (default: every grid key). */
  by?: string[];
}

/** A sweep's table in its three forms. */
export interface SweepTable {
  /** One row per run (loadSweep). */
  runs: dfd.DataFrame;
  /** summarize() output, with paper columns where the spec has numbers. */
  summary: dfd.DataFrame;
  /** The summary formatted as mean ± std strings. */
  formatted: dfd.DataFrame;
  /** One line naming the sweep, the metrics, n and the paper sources (and damaged runs left out). */
  caption: string;
  /** Runs left out because a file of theirs is unreadable, with why (see loadSweepRows). */
  damaged: { id: string; reason: string }[];
}

/** The metric a table shows by default: test accuracy if present, else any accuracy, else the first. */
export function defaultMetric(metrics: string[]): string {
  const pick =
    metrics.find((m) => /^test.*acc/i.test(m)) ??
    metrics.find((m) => /acc/i.test(m)) ??
    metrics.find((m) => /err/i.test(m)) ??
    metrics[0];
  if (!pick) throw new ConfigError("the sweep has no finished run with numeric metrics yet");
  return pick;
}

/** Builds the standard table of the sweep folder `dir`. */
export function sweepTable(dir: string, options: SweepTableOptions = {}): SweepTable {
  const loaded = loadSweepRows(dir);
  const metrics = options.metrics ?? [defaultMetric(loaded.metrics)];
  for (const m of metrics) {
    if (!loaded.metrics.includes(m)) {
      throw new ConfigError(
        `metric ${quote(m)} is not in the runs' summaries; metrics: ${loaded.metrics.join(", ") || "(none yet)"}`,
      );
    }
  }
  const by = options.by ?? loaded.gridKeys;
  const runs = frameFromRows(loaded.rows, [
    "id",
    "seed",
    ...loaded.gridKeys,
    "status",
    ...loaded.metrics,
  ]);
  let summary = summarize(runs, { by, metrics });
  const paper = loaded.manifest.spec.paper;
  const sources: string[] = [];
  for (const m of metrics) {
    if (paper.some((p) => p.metric === m)) {
      summary = addPaperColumn(summary, paper, m);
      sources.push(...paperSources(paper, m));
    }
  }
  const done = loaded.rows.filter((r) => r.status === "completed").length;
  const caption = `${loaded.manifest.spec.name}: ${metrics.join(", ")}, mean ± std (n − 1) over seeds; ${done}/${loaded.rows.length} runs completed${sources.length ? `; paper: ${[...new Set(sources)].join("; ")}` : ""}${loaded.damaged.length ? `; left out ${loaded.damaged.length} damaged run(s): ${loaded.damaged.map((d) => d.id).join(", ")}` : ""}`;
  const formatted = formatSummary(summary, { metrics });
  return { runs, summary, formatted, caption, damaged: loaded.damaged };
}
