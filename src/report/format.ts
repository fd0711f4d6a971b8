/**
 * Tables for people: a summary frame turned into "mean ± std" cells with n (digits chosen from the
 * spread: two significant digits of the std), and any frame rendered as Markdown, CSV or an HTML
 * table for tslab. Files go under results/ and are written atomically.
 */
import path from "node:path";
import type * as dfd from "danfojs-node";
import { PROJECT_ROOT, writeFileAtomic } from "../util/fs.js";
import { frameFromRows } from "./load.js";
import { PAPER_SUFFIXES } from "./paper.js";
import { frameRows, STAT_SUFFIXES } from "./summarize.js";
import { displayHtml } from "./tslab.js";

/** Options for formatSummary. */
export interface FormatOptions {
  /** Metrics to show (default: every `<m>_mean` column, in order). */
  metrics?: string[];
  /** Decimal places per metric (default: two significant digits of the smallest std). */
  digits?: number | Record<string, number>;
}

/** The metrics a summary frame holds (its `<m>_mean` columns). */
export function summaryMetrics(df: dfd.DataFrame): string[] {
  return df.columns
    .filter((c) => c.endsWith(STAT_SUFFIXES.mean))
    .map((c) => c.slice(0, -STAT_SUFFIXES.mean.length));
}

/** Whether a frame is a summarize() result. */
export function isSummary(df: dfd.DataFrame): boolean {
  return summaryMetrics(df).length > 0 && df.columns.includes("runs");
}

/** Decimal places that show two significant digits of the spread (or four of the mean). */
export function autoDigits(means: number[], stds: number[]): number {
  const clamp = (d: number) => Math.max(0, Math.min(6, d));
  const s = stds.filter((x) => Number.isFinite(x) && x > 0);
  if (s.length > 0) return clamp(1 - Math.floor(Math.log10(Math.min(...s))));
  const m = means.filter((x) => Number.isFinite(x) && x !== 0).map(Math.abs);
  if (m.length > 0) return clamp(3 - Math.floor(Math.log10(Math.max(...m))));
  return 2;
}

/** "mean ± std", "mean" when the std is unknown, "—" when there is no mean. */
export function meanStd(mean: number, std: number, digits: number): string {
  if (!Number.isFinite(mean)) return "—";
  if (!Number.isFinite(std)) return mean.toFixed(digits);
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

/**
 * A summarize() frame for reading: group columns, one "mean ± std" column per metric, the paper
 * value and difference where present, n (one column when every metric has the same n), and
 * "diverged" when any run diverged.
 */
export function formatSummary(summary: dfd.DataFrame, options: FormatOptions = {}): dfd.DataFrame {
  const metrics = options.metrics ?? summaryMetrics(summary);
  const rows = frameRows(summary);
  const statCols = new Set(
    summaryMetrics(summary).flatMap((m) => [
      ...Object.values(STAT_SUFFIXES).map((s) => m + s),
      ...Object.values(PAPER_SUFFIXES).map((s) => m + s),
    ]),
  );
  const groupCols = summary.columns.filter(
    (c) => !statCols.has(c) && c !== "runs" && c !== "diverged",
  );
  const sameN = rows.every((r) => new Set(metrics.map((m) => r[m + STAT_SUFFIXES.n])).size <= 1);
  const anyDiverged = rows.some((r) => Number(r.diverged) > 0);
  const columns = [...groupCols];
  const out = rows.map((r) => Object.fromEntries(groupCols.map((c) => [c, r[c]])));
  for (const m of metrics) {
    const means = rows.map((r) => Number(r[m + STAT_SUFFIXES.mean]));
    const stds = rows.map((r) => Number(r[m + STAT_SUFFIXES.std]));
    const d =
      typeof options.digits === "number"
        ? options.digits
        : (options.digits?.[m] ?? autoDigits(means, stds));
    columns.push(m);
    out.forEach((o, i) => {
      o[m] = meanStd(means[i]!, stds[i]!, d);
    });
    if (summary.columns.includes(m + PAPER_SUFFIXES.paper)) {
      const pc = `${m} (paper)`;
      const dc = `${m} Δ`;
      columns.push(pc, dc);
      out.forEach((o, i) => {
        const p = Number(rows[i]![m + PAPER_SUFFIXES.paper]);
        const delta = Number(rows[i]![m + PAPER_SUFFIXES.delta]);
        o[pc] = Number.isFinite(p) ? String(p) : "—";
        o[dc] = Number.isFinite(delta) ? `${delta >= 0 ? "+" : ""}${delta.toFixed(d)}` : "—";
      });
    }
    if (!sameN) {
      columns.push(`${m} n`);
      out.forEach((o, i) => {
        o[`${m} n`] = rows[i]![m + STAT_SUFFIXES.n];
      });
    }
  }
  if (sameN) {
    columns.push("n");
    out.forEach((o, i) => {
      o.n = rows[i]![metrics[0]! + STAT_SUFFIXES.n];
    });
  }
  if (anyDiverged) {
    columns.push("diverged");
    out.forEach((o, i) => {
      o.diverged = rows[i]!.diverged;
    });
  }
  return frameFromRows(out, columns);
}

function cellText(v: unknown): string {
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "—";
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  }
  return v === undefined || v === null ? "" : String(v);
}

/** A frame as a GitHub Markdown table (optionally preceded by a caption line). */
export function toMarkdown(df: dfd.DataFrame, options: { caption?: string } = {}): string {
  const esc = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const rows = frameRows(df);
  const lines = [
    `| ${df.columns.map(esc).join(" | ")} |`,
    `| ${df.columns.map((c) => (rows.every((r) => typeof r[c] === "number") ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${df.columns.map((c) => esc(cellText(r[c]))).join(" | ")} |`),
  ];
  return `${options.caption ? `${options.caption}\n\n` : ""}${lines.join("\n")}\n`;
}

/** A frame as RFC 4180 CSV with full-precision numbers (NaN as an empty cell). */
export function toCsv(df: dfd.DataFrame): string {
  const q = (v: unknown) => {
    const s =
      typeof v === "number" ? (Number.isNaN(v) ? "" : String(v)) : v == null ? "" : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const rows = frameRows(df);
  return `${[df.columns.map(q).join(","), ...rows.map((r) => df.columns.map((c) => q(r[c])).join(","))].join("\n")}\n`;
}

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** A frame as a self-contained HTML table (inline styles, so it looks the same in any viewer). */
export function toHtml(df: dfd.DataFrame, options: { caption?: string } = {}): string {
  const rows = frameRows(df);
  const numeric = new Set(df.columns.filter((c) => rows.every((r) => typeof r[c] === "number")));
  const cell = (tag: "th" | "td", c: string, text: string) =>
    `<${tag} style="padding:3px 10px;border-bottom:1px solid #ddd;text-align:${numeric.has(c) || /±|^[+-]?\d/.test(text) ? "right" : "left"}">${escapeHtml(text)}</${tag}>`;
  // The caption goes above the table as a block, so a long one is not squeezed to its width.
  return [
    `<div class="senet-lab-table">`,
    options.caption
      ? `<div style="font-family:sans-serif;font-size:13px;font-weight:bold;margin:4px 0">${escapeHtml(options.caption)}</div>`
      : "",
    `<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px">`,
    `<thead><tr>${df.columns.map((c) => cell("th", c, c)).join("")}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${df.columns.map((c) => cell("td", c, cellText(r[c]))).join("")}</tr>`).join("")}</tbody>`,
    "</table></div>",
  ].join("");
}

/** Resolves a results path: relative paths are taken under the project's results/ folder. */
export function resultsPath(p: string): string {
  return path.isAbsolute(p) ? p : path.join(PROJECT_ROOT, "results", p);
}

/**
 * Writes `<base>.md` (formatted, for reading) and `<base>.csv` (raw numbers, for machines)
 * atomically; a relative `base` lands under results/. Returns the two paths.
 */
export function saveTable(
  df: dfd.DataFrame,
  base: string,
  options: FormatOptions & { caption?: string } = {},
): { markdown: string; csv: string } {
  const file = resultsPath(base).replace(/\.(md|csv)$/, "");
  const shown = isSummary(df) ? formatSummary(df, options) : df;
  const markdown = `${file}.md`;
  const csv = `${file}.csv`;
  writeFileAtomic(markdown, toMarkdown(shown, options));
  writeFileAtomic(csv, toCsv(df));
  return { markdown, csv };
}

/**
 * Shows a table: an HTML table in a tslab notebook, Markdown on stdout elsewhere. Summary
 * frames are formatted as mean ± std first.
 */
export function showTable(
  df: dfd.DataFrame,
  options: FormatOptions & { caption?: string } = {},
): void {
  const shown = isSummary(df) ? formatSummary(df, options) : df;
  if (!displayHtml(toHtml(shown, options))) console.log(toMarkdown(shown, options));
}

/** A frame as an aligned plain-text table for terminals. */
export function toText(df: dfd.DataFrame): string {
  const rows = frameRows(df).map((r) => df.columns.map((c) => cellText(r[c])));
  const widths = df.columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(df.columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
