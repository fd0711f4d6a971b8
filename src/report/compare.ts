/**
 * Comparing variants of an ablation run by run: per-seed values of a metric, a table of each
 * variant against a reference (mean ± std, difference ± se, Welch's t-test, verdict, the paper's
 * number beside it), the matching bar chart and the printed verdict lines.
 */
import type * as dfd from "danfojs-node";
import { ConfigError, quote } from "../errors.js";
import { frameFromRows, loadSweepRows } from "./load.js";
import { fmtFixed, fmtSigned } from "./numbers.js";
import type { PlotlyFigure } from "./plot.js";
import { mean, sampleStd, verdict, welchTest } from "./stats.js";

/** One run of a sweep as a plain row (loadSweepRows) with its `variant` label. */
export type VariantRow = Record<string, unknown>;

/** One row per run of a sweep folder, each labelled with a variant name by `label`. */
export function variantRows(dir: string, label: (row: VariantRow) => string): VariantRow[] {
  return loadSweepRows(dir).rows.map((r) => ({ ...r, variant: label(r) }));
}

/** Per-seed values of `metric` for one variant: completed runs with a finite value, in row order. */
export function valuesOf(rows: readonly VariantRow[], variant: string, metric: string): number[] {
  return rows
    .filter(
      (r) =>
        r.variant === variant && r.status === "completed" && Number.isFinite(Number(r[metric])),
    )
    .map((r) => Number(r[metric]));
}

/** Options of compareVariants beyond the notebook-style positional arguments. */
export interface CompareOptions {
  /** Whether a lower metric is better (errors: true, the default; accuracies: false). */
  lowerIsBetter?: boolean;
  /** Header of the paper's value column (default "paper top-1 err"). */
  paperColumn?: string;
}

/**
 * A comparison table: each of `variants` against `baseline` on `metric`, with n, mean ± std,
 * the difference ± its standard error, Welch's t and p, the verdict, and the paper's value and
 * difference where `paper` has them. The baseline's own row says "(reference)".
 */
export function compareVariants(
  rows: readonly VariantRow[],
  variants: readonly string[],
  baseline: string,
  metric: string,
  paper: Readonly<Record<string, number>> = {},
  options: CompareOptions = {},
): dfd.DataFrame {
  if (!Array.isArray(variants) || variants.length === 0) {
    throw new ConfigError(
      `compareVariants: variants must be a non-empty array of names; got ${quote(variants)}`,
    );
  }
  if (typeof baseline !== "string" || typeof metric !== "string") {
    throw new ConfigError(
      `compareVariants: baseline and metric must be strings; got ${quote(baseline)}, ${quote(metric)}`,
    );
  }
  const lowerIsBetter = options.lowerIsBetter ?? true;
  const paperColumn = options.paperColumn ?? "paper top-1 err";
  const base = valuesOf(rows, baseline, metric);
  const out = variants.map((v) => {
    const xs = valuesOf(rows, v, metric);
    const w = welchTest(xs, base);
    const pv = paper[v];
    const pb = paper[baseline];
    const isBase = v === baseline;
    return {
      variant: v,
      n: xs.length,
      [`${metric} mean ± std`]: `${fmtFixed(mean(xs))} ± ${fmtFixed(sampleStd(xs))}`,
      [`Δ vs ${baseline}`]: isBase ? "—" : `${fmtSigned(w.diff)} ± ${fmtFixed(w.se)}`,
      t: isBase ? "—" : fmtFixed(w.t),
      p: isBase ? "—" : fmtFixed(w.p, 3),
      verdict: isBase ? "(reference)" : verdict(w, lowerIsBetter),
      [paperColumn]: pv === undefined ? "—" : fmtFixed(pv),
      "paper Δ": pv === undefined || pb === undefined || isBase ? "—" : fmtSigned(pv - pb),
    };
  });
  return frameFromRows(out);
}

/**
 * Bars of our mean ± std of `metric` (default testError) per variant on the left axis, with the
 * paper's number as a red × on a right axis where `paper` has one (ImageNet and our small-data
 * numbers are not on one scale).
 */
export function variantErrorBars(
  rows: readonly VariantRow[],
  variants: readonly string[],
  title: string,
  paper: Readonly<Record<string, number>> = {},
  paperLabel = "paper (ImageNet, right axis)",
  metric = "testError",
): PlotlyFigure {
  const withPaper = variants.filter((v) => paper[v] !== undefined);
  const values = variants.map((v) => valuesOf(rows, v, metric));
  return {
    data: [
      {
        type: "bar",
        name: "ours: mean ± std over seeds",
        x: [...variants],
        y: values.map((xs) => mean(xs)),
        error_y: { type: "data", array: values.map((xs) => sampleStd(xs)), visible: true },
        customdata: values.map((xs) => xs.length),
        hovertemplate: "%{x}: %{y:.2f} ± %{error_y.array:.2f} (n=%{customdata})<extra></extra>",
      },
      ...(withPaper.length > 0
        ? [
            {
              type: "scatter",
              mode: "markers",
              name: paperLabel,
              x: withPaper,
              y: withPaper.map((v) => paper[v]),
              yaxis: "y2",
              marker: { symbol: "x", size: 11, color: "#d62728" },
            },
          ]
        : []),
    ],
    layout: {
      title: { text: title },
      yaxis: { title: { text: "ours: test top-1 error (%)" } },
      ...(withPaper.length > 0
        ? { yaxis2: { title: { text: "paper: top-1 error (%)" }, overlaying: "y", side: "right" } }
        : {}),
      height: 430,
      legend: { orientation: "h", y: -0.2 },
    },
  };
}

/**
 * One line per variant (other than `reference`) with its difference to the reference on
 * `metric` (default testError), Welch's t and p and the verdict, plus the paper's difference
 * where `paper` has both numbers, printed through `print` (default console.log). Returns nothing,
 * so a notebook cell ending in this call displays no value.
 */
export function printVerdicts(
  rows: readonly VariantRow[],
  variants: readonly string[],
  reference: string,
  paper: Readonly<Record<string, number>> = {},
  options: { metric?: string; print?: (line: string) => void } = {},
): void {
  const metric = options.metric ?? "testError";
  const print = options.print ?? ((line: string) => console.log(line));
  const ref = valuesOf(rows, reference, metric);
  for (const v of variants.filter((x) => x !== reference)) {
    const w = welchTest(valuesOf(rows, v, metric), ref);
    const pv = paper[v];
    const pr = paper[reference];
    const p = pv !== undefined && pr !== undefined ? ` (paper: ${fmtSigned(pv - pr)} pp)` : "";
    const line = `${v} − ${reference}: ${fmtSigned(w.diff)} pp top-1 error, t = ${fmtFixed(w.t)}, p = ${fmtFixed(w.p, 3)} → ${verdict(w)}${p}`;
    print(line);
  }
}
