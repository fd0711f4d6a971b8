/**
 * The paper column: published numbers (from the sweep spec's "paper" entries) placed beside our
 * mean for the same grid point, with the difference. An entry matches a row when every key of its
 * `where` is a column of the row with an equal value; the most specific match wins.
 */
import type * as dfd from "danfojs-node";
import { ConfigError, quote } from "../errors.js";
import type { PaperValue } from "../sweep/spec.js";
import { frameFromRows } from "./load.js";
import { frameRows, STAT_SUFFIXES } from "./summarize.js";

/** Suffixes of the columns addPaperColumn adds. */
export const PAPER_SUFFIXES = { paper: "_paper", delta: "_delta" } as const;

function sameCell(a: unknown, b: unknown): boolean {
  return a === b || String(a) === (typeof b === "string" ? b : JSON.stringify(b));
}

/**
 * Adds `<metric>_paper` (NaN where the paper has no number) and `<metric>_delta` (our mean minus
 * the paper's) to a summary frame. Entries for other metrics are ignored; two equally specific
 * entries giving different numbers for one row are an error.
 */
export function addPaperColumn(
  summary: dfd.DataFrame,
  paper: PaperValue[],
  metric: string,
): dfd.DataFrame {
  const meanCol = metric + STAT_SUFFIXES.mean;
  if (!summary.columns.includes(meanCol)) {
    throw new ConfigError(
      `metric ${quote(metric)} is not summarised here (no ${quote(meanCol)}); columns: ${summary.columns.join(", ")}`,
    );
  }
  const entries = paper.filter((p) => p.metric === metric);
  const rows = frameRows(summary).map((row) => {
    let best: PaperValue | undefined;
    let bestKeys = -1;
    for (const p of entries) {
      const keys = Object.keys(p.where);
      if (!keys.every((k) => k in row && sameCell(row[k], p.where[k]))) continue;
      if (keys.length > bestKeys) {
        best = p;
        bestKeys = keys.length;
      } else if (keys.length === bestKeys && best && best.value !== p.value) {
        throw new ConfigError(
          `paper entries ${quote(best.where)} and ${quote(p.where)} both give ${metric} for one row (${best.value} vs ${p.value})`,
        );
      }
    }
    const value = best ? best.value : Number.NaN;
    return {
      ...row,
      [metric + PAPER_SUFFIXES.paper]: value,
      [metric + PAPER_SUFFIXES.delta]: Number(row[meanCol]) - value,
    };
  });
  return frameFromRows(rows, [
    ...summary.columns,
    metric + PAPER_SUFFIXES.paper,
    metric + PAPER_SUFFIXES.delta,
  ]);
}

/** The distinct sources cited by the paper entries of a metric, for a table caption. */
export function paperSources(paper: PaperValue[], metric: string): string[] {
  return [...new Set(paper.filter((p) => p.metric === metric && p.source).map((p) => p.source!))];
}
