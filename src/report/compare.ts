/**
 * Comparing variants of an ablation run by run: per-seed values of a metric, a table of each
 * variant against a reference (mean ± std, difference ± se, Welch's t-test, verdict, the paper's
 * number beside it, and what the comparison can resolve: its minimum detectable effect and the
 * seeds per arm the paper's difference would need, with their cost), the matching bar chart and
 * the printed verdict lines.
 *
 * The resolution columns (src/report/power.ts) size the design as a pooled-variance two-sample
 * t-test at α = 0.05 (two-sided) and 80 % power: n = the smaller arm's seed count, std = the two
 * arms' pooled std. The cost of reaching N seeds per arm is
 *   hours = [max(0, N − n_variant) + max(0, N − n_reference)] × mean seconds per run / 3600,
 * the mean over both arms' completed runs of the `wallSeconds` column (the training loop's own
 * time, one run after another on this machine); "—" when the rows have no such column.
 */
import type * as dfd from "danfojs-node";
import { ConfigError, quote } from "../errors.js";
import { frameFromRows, loadSweepRows } from "./load.js";
import { fmtFixed, fmtSigned } from "./numbers.js";
import type { PlotlyFigure } from "./plot.js";
import { describeResolution, pooledStd, type Resolution } from "./power.js";
import { mean, sampleStd, verdict, type WelchTest, welchTest } from "./stats.js";

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
  /** Unit of the metric's differences in the verdicts (default "pp" for testError, else none). */
  unit?: string;
  /** Column with each run's seconds, for the cost of more seeds (default "wallSeconds"). */
  secondsColumn?: string;
}

/** Whether Welch's test ran and came out at p ≥ 0.05: the case `verdict` calls "within noise". */
function notSignificant(w: WelchTest): boolean {
  return w.na >= 2 && w.nb >= 2 && Number.isFinite(w.p) && w.p >= 0.05;
}

/** One variant against the reference: Welch's test and what the design resolves (see the module comment). */
function compareOne(
  rows: readonly VariantRow[],
  variant: string,
  reference: string,
  metric: string,
  paper: Readonly<Record<string, number>>,
  unit: string,
  secondsColumn: string,
): { xs: number[]; w: WelchTest; resolution: Resolution; paperDiff: number | undefined } {
  const xs = valuesOf(rows, variant, metric);
  const ref = valuesOf(rows, reference, metric);
  const w = welchTest(xs, ref);
  const pv = paper[variant];
  const pr = paper[reference];
  const paperDiff = pv !== undefined && pr !== undefined ? pv - pr : undefined;
  const seconds = [
    ...valuesOf(rows, variant, secondsColumn),
    ...valuesOf(rows, reference, secondsColumn),
  ];
  const resolution = describeResolution({
    n: [xs.length, ref.length],
    std: pooledStd(xs, ref),
    diff: w.diff,
    paperDiff,
    secondsPerRun: seconds.length > 0 ? mean(seconds) : undefined,
    resolved: Number.isFinite(w.p) && w.p < 0.05,
    unit,
  });
  return { xs, w, resolution, paperDiff };
}

/**
 * A comparison table: each of `variants` against `baseline` on `metric`, with n, mean ± std,
 * the difference ± its standard error, the design's minimum detectable |Δ| ("MDE"), Welch's t
 * and p, the verdict, the paper's value and difference where `paper` has them, and the seeds per
 * arm (and hours here) that would resolve the paper's difference. A non-significant difference's
 * verdict says what the design can resolve ("not resolved: detects only |Δ| ≥ …") instead of a
 * bare "within noise". The baseline's own row says "(reference)".
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
  const unit = options.unit ?? (metric === "testError" ? "pp" : "");
  const secondsColumn = options.secondsColumn ?? "wallSeconds";
  const out = variants.map((v) => {
    const {
      xs,
      w,
      resolution: r,
      paperDiff,
    } = compareOne(rows, v, baseline, metric, paper, unit, secondsColumn);
    const pv = paper[v];
    const isBase = v === baseline;
    const paperSeeds = isBase || r.targetSource !== "paper" ? null : r.seedsPerArm;
    return {
      variant: v,
      n: xs.length,
      [`${metric} mean ± std`]: `${fmtFixed(mean(xs))} ± ${fmtFixed(sampleStd(xs))}`,
      [`Δ vs ${baseline}`]: isBase ? "—" : `${fmtSigned(w.diff)} ± ${fmtFixed(w.se)}`,
      MDE: isBase ? "—" : fmtFixed(r.mde),
      t: isBase ? "—" : fmtFixed(w.t),
      p: isBase ? "—" : fmtFixed(w.p, 3),
      verdict: isBase ? "(reference)" : notSignificant(w) ? r.short : verdict(w, lowerIsBetter),
      [paperColumn]: pv === undefined ? "—" : fmtFixed(pv),
      "paper Δ": paperDiff === undefined || isBase ? "—" : fmtSigned(paperDiff),
      "paper Δ seeds/arm":
        paperSeeds === null ? "—" : Number.isFinite(paperSeeds) ? String(paperSeeds) : "∞",
      "paper Δ hours": paperSeeds === null || r.hours === null ? "—" : fmtFixed(r.hours),
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
 * `metric` (default testError), Welch's t and p and the verdict, printed through `print`
 * (default console.log). A non-significant difference gets the full resolution sentence
 * (describeResolution: "not resolved: this design detects only |Δ| ≥ 0.90 pp; the paper's
 * +0.30 pp needs ≈ 40 seeds per arm (≈ 11 h here, or `sweep submit --slurm`)"), a significant
 * one its verdict and "this design detects |Δ| ≥ …" with the paper part; a comparison that
 * cannot be tested keeps its verdict and "(paper: … pp)". Returns nothing, so a notebook cell
 * ending in this call displays no value.
 */
export function printVerdicts(
  rows: readonly VariantRow[],
  variants: readonly string[],
  reference: string,
  paper: Readonly<Record<string, number>> = {},
  options: { metric?: string; print?: (line: string) => void; secondsColumn?: string } = {},
): void {
  const metric = options.metric ?? "testError";
  const print = options.print ?? ((line: string) => console.log(line));
  const secondsColumn = options.secondsColumn ?? "wallSeconds";
  for (const v of variants.filter((x) => x !== reference)) {
    const { w, resolution, paperDiff } = compareOne(
      rows,
      v,
      reference,
      metric,
      paper,
      "pp",
      secondsColumn,
    );
    const head = `${v} − ${reference}: ${fmtSigned(w.diff)} pp top-1 error, t = ${fmtFixed(w.t)}, p = ${fmtFixed(w.p, 3)} → `;
    const p = paperDiff !== undefined ? ` (paper: ${fmtSigned(paperDiff)} pp)` : "";
    if (notSignificant(w)) print(`${head}${resolution.text}`);
    else if (Number.isFinite(w.p)) print(`${head}${verdict(w)}; ${resolution.text}`);
    else print(`${head}${verdict(w)}${p}`);
  }
}
