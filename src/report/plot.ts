/**
 * Plotly figures from sweep frames, as plain {data, layout} objects (shown by showPlot, saved by
 * savePlotHtml): a metric against a swept value with ± std error bars, bars per variant, and
 * training curves (mean over seeds, each seed faint behind it).
 */
import type * as dfd from "danfojs-node";
import { ConfigError, quote } from "../errors.js";
import { PAPER_SUFFIXES } from "./paper.js";
import { frameRows, STAT_SUFFIXES } from "./summarize.js";

/** A Plotly figure: traces, layout and (optional) config, exactly as Plotly.newPlot takes them. */
export interface PlotlyFigure {
  /** Traces. */
  data: Record<string, unknown>[];
  /** Layout (titles, axes, size). */
  layout: Record<string, unknown>;
  /** Plotly config (e.g. {responsive: true}). */
  config?: Record<string, unknown>;
}

/** Options shared by the summary plots. */
export interface SummaryPlotOptions {
  /** Column on the x axis (a grid key). */
  x: string;
  /** Metric whose mean ± std is plotted (summarize() must have aggregated it). */
  metric: string;
  /** Column that splits the data into one trace per value (e.g. "attention"). */
  series?: string;
  /** Chart title (default: "<metric> by <x>"). */
  title?: string;
  /** Logarithmic x axis (e.g. reduction ratios 2…32). */
  logX?: boolean;
  /** y-axis title (default: the metric). */
  yTitle?: string;
}

/** Plotly's default colours, assigned in order so a variant keeps its colour across charts. */
export const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

function need(columns: string[], col: string, what: string): void {
  if (!columns.includes(col)) {
    throw new ConfigError(`${what} ${quote(col)} is not a column; columns: ${columns.join(", ")}`);
  }
}

function seriesOf(rows: Record<string, unknown>[], series: string | undefined) {
  if (!series) return [{ name: undefined as string | undefined, rows }];
  const names: string[] = [];
  for (const r of rows) if (!names.includes(String(r[series]))) names.push(String(r[series]));
  return names.map((n) => ({
    name: n as string | undefined,
    rows: rows.filter((r) => String(r[series]) === n),
  }));
}

function summaryTraces(
  summary: dfd.DataFrame,
  o: SummaryPlotOptions,
  kind: "scatter" | "bar",
): { data: Record<string, unknown>[]; numericX: boolean } {
  const mean = o.metric + STAT_SUFFIXES.mean;
  need(summary.columns, o.x, "x column");
  need(summary.columns, mean, "metric column");
  if (o.series) need(summary.columns, o.series, "series column");
  const rows = frameRows(summary);
  const numericX = kind === "scatter" && rows.every((r) => typeof r[o.x] === "number");
  const hasPaper = summary.columns.includes(o.metric + PAPER_SUFFIXES.paper);
  const data: Record<string, unknown>[] = [];
  seriesOf(rows, o.series).forEach((s, i) => {
    const pts = numericX ? [...s.rows].sort((a, b) => Number(a[o.x]) - Number(b[o.x])) : s.rows;
    const color = COLORS[i % COLORS.length];
    const xs = pts.map((r) => (numericX ? r[o.x] : String(r[o.x])));
    data.push({
      type: kind,
      ...(kind === "scatter" ? { mode: "lines+markers" } : {}),
      name: s.name === undefined ? o.metric : `${o.series}=${s.name}`,
      x: xs,
      y: pts.map((r) => r[mean]),
      error_y: {
        type: "data",
        array: pts.map((r) => r[o.metric + STAT_SUFFIXES.std]),
        visible: true,
      },
      customdata: pts.map((r) => r[o.metric + STAT_SUFFIXES.n]),
      hovertemplate: `${o.x}=%{x}<br>${o.metric} %{y:.4g} ± %{error_y.array:.2g} (n=%{customdata})<extra></extra>`,
      marker: { color },
      offsetgroup: String(i),
    });
    if (hasPaper && pts.some((r) => Number.isFinite(Number(r[o.metric + PAPER_SUFFIXES.paper])))) {
      data.push({
        type: "scatter",
        mode: kind === "scatter" ? "lines+markers" : "markers",
        name: `paper${s.name === undefined ? "" : ` ${o.series}=${s.name}`}`,
        x: xs,
        y: pts.map((r) => r[o.metric + PAPER_SUFFIXES.paper]),
        line: { dash: "dash", color },
        marker: { symbol: "x", size: 9, color },
        offsetgroup: String(i),
      });
    }
  });
  return { data, numericX };
}

function layoutFor(o: SummaryPlotOptions, xType: string, extra: Record<string, unknown> = {}) {
  return {
    title: { text: o.title ?? `${o.metric} by ${o.x}` },
    xaxis: { title: { text: o.x }, type: xType },
    yaxis: { title: { text: o.yTitle ?? `${o.metric} (mean ± std)` } },
    margin: { l: 70, r: 20, t: 50, b: 60 },
    height: 420,
    ...extra,
  };
}

/** A metric (mean ± std over seeds) against a swept value, one line per series value. */
export function metricPlot(summary: dfd.DataFrame, options: SummaryPlotOptions): PlotlyFigure {
  const { data, numericX } = summaryTraces(summary, options, "scatter");
  const xType = options.logX ? "log" : numericX ? "linear" : "category";
  return { data, layout: layoutFor(options, xType), config: { responsive: true } };
}

/** Bars per variant (mean ± std over seeds), grouped by series value. */
export function barPlot(summary: dfd.DataFrame, options: SummaryPlotOptions): PlotlyFigure {
  const { data } = summaryTraces(summary, options, "bar");
  return {
    data,
    // scattermode "group" puts each paper marker over its own bar, not between the bars.
    layout: layoutFor(options, "category", { barmode: "group", scattermode: "group" }),
    config: { responsive: true },
  };
}

/** Options for curvePlot. */
export interface CurvePlotOptions {
  /** The per-epoch field to plot (a column of loadCurves()). */
  metric: string;
  /** Columns that define a variant (default: every column between seed and epoch: the grid keys). */
  by?: string[];
  /** x column; default "epoch". */
  x?: string;
  /** Chart title. */
  title?: string;
  /** Draw each seed's curve faintly behind the mean (default true). */
  showSeeds?: boolean;
}

/**
 * Training curves: per variant, the mean over its completed runs per epoch, each run faint
 * behind it (dotted when it diverged or has not finished).
 */
export function curvePlot(curves: dfd.DataFrame, options: CurvePlotOptions): PlotlyFigure {
  const x = options.x ?? "epoch";
  const cols = curves.columns;
  need(cols, x, "x column");
  need(cols, options.metric, "metric");
  const by =
    options.by ??
    cols.slice(
      cols.indexOf("seed") + 1,
      cols.includes("status") ? cols.indexOf("status") : cols.indexOf("epoch"),
    );
  for (const b of by) need(cols, b, "group column");
  const rows = frameRows(curves);
  const variantOf = (r: Record<string, unknown>) => by.map((k) => `${k}=${String(r[k])}`).join(" ");
  const variants: string[] = [];
  for (const r of rows) if (!variants.includes(variantOf(r))) variants.push(variantOf(r));
  const data: Record<string, unknown>[] = [];
  variants.forEach((v, i) => {
    const color = COLORS[i % COLORS.length];
    const vr = rows.filter((r) => variantOf(r) === v);
    const name = v || options.metric;
    if (options.showSeeds ?? true) {
      const ids = [...new Set(vr.map((r) => String(r.id)))];
      for (const id of ids) {
        const pts = vr.filter((r) => String(r.id) === id);
        data.push({
          type: "scatter",
          mode: "lines",
          x: pts.map((r) => r[x]),
          y: pts.map((r) => r[options.metric]),
          name: `${name} seed ${String(pts[0]!.seed)}`,
          legendgroup: name,
          showlegend: false,
          opacity: 0.3,
          line: { color, width: 1, ...(pts[0]!.status === "completed" ? {} : { dash: "dot" }) },
          hoverinfo: "skip",
        });
      }
    }
    // The mean line follows the completed runs; diverged or unfinished ones show only faintly.
    const done = vr.filter((r) => r.status === undefined || r.status === "completed");
    const xs = [...new Set(done.map((r) => Number(r[x])))].sort((a, b) => a - b);
    const means = xs.map((xv) => {
      const ys = done
        .filter((r) => Number(r[x]) === xv)
        .map((r) => Number(r[options.metric]))
        .filter(Number.isFinite);
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : null;
    });
    data.push({
      type: "scatter",
      mode: "lines+markers",
      x: xs,
      y: means,
      name,
      legendgroup: name,
      line: { color, width: 2 },
    });
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? `${options.metric} per ${x}` },
      xaxis: { title: { text: x } },
      yaxis: { title: { text: `${options.metric} (mean over seeds)` } },
      margin: { l: 70, r: 20, t: 50, b: 60 },
      height: 420,
    },
    config: { responsive: true },
  };
}
