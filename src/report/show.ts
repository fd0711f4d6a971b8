/**
 * Putting Plotly figures on screen and on disk with the bundle exactly once: a notebook kernel
 * sends the (compressed) bundle with its first chart only, and a saved HTML page holds it once
 * however many charts it has. Each chart is a div plus a script that waits for the bundle and
 * calls Plotly.newPlot; div ids derive from the figure and a counter, so re-executing a notebook
 * gives the same output.
 */
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../util/fs.js";
import { escapeHtml, resultsPath } from "./format.js";
import type { PlotlyFigure } from "./plot.js";
import { PLOTLY_GLOBAL, plotlyBundleScript } from "./plotly-bundle.js";
import { displayHtml, inTslab } from "./tslab.js";

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** The HTML of one chart (a div and its newPlot script), without the bundle. */
export function chartHtml(fig: PlotlyFigure, id: string): string {
  const height = typeof fig.layout.height === "number" ? fig.layout.height : 420;
  return [
    `<div id="${id}" class="senet-lab-plot" style="width:100%;min-height:${height}px"></div>`,
    "<script>(function(){",
    `var el=document.getElementById(${JSON.stringify(id)});var fig=${scriptJson(fig)};`,
    `var p=window.${PLOTLY_GLOBAL}||(window.Plotly?Promise.resolve(window.Plotly):null);`,
    `if(!p){el.textContent="Plotly is not loaded on this page: run the notebook from a fresh kernel (the bundle is sent with the first chart).";return;}`,
    `p.then(function(P){return P.newPlot(el,fig.data,fig.layout,fig.config||{});}).catch(function(e){el.textContent="chart failed: "+e;});`,
    "})();</script>",
  ].join("");
}

/**
 * Renders charts for one page or notebook kernel: the first render carries the bundle, later
 * ones do not. One session per page; `showPlot` uses one per process (= per notebook kernel).
 */
export class PlotSession {
  /** Whether the bundle has been emitted on this page already. */
  bundleSent = false;
  private counter = 0;

  /** The HTML for a chart, with the bundle in front the first time. */
  async render(fig: PlotlyFigure): Promise<string> {
    this.counter++;
    const id = `senet-plot-${createHash("sha256")
      .update(`${this.counter}:${JSON.stringify(fig)}`)
      .digest("hex")
      .slice(0, 12)}`;
    const chart = chartHtml(fig, id);
    if (this.bundleSent) return chart;
    const bundle = await plotlyBundleScript();
    this.bundleSent = true;
    return bundle + chart;
  }
}

let kernelSession = new PlotSession();

/** Forgets that the bundle was sent (after clearing a notebook's outputs in a live kernel). */
export function resetPlotSession(): void {
  kernelSession = new PlotSession();
}

/**
 * Shows a chart in a tslab notebook (the bundle goes with the first chart of the kernel only).
 * Outside a notebook it saves a standalone page in the temp folder and prints its path.
 */
export async function showPlot(fig: PlotlyFigure): Promise<void> {
  if (inTslab()) {
    const html = await kernelSession.render(fig);
    if (displayHtml(html)) return;
    kernelSession = new PlotSession(); // nothing was shown, so the bundle was not sent
  }
  const file = path.join(os.tmpdir(), `senet-lab-plot-${process.pid}-${Date.now()}.html`);
  await savePlotHtml(fig, file);
  console.log(`chart saved to ${file}`);
}

/**
 * Writes one or more charts as a standalone HTML page (bundle included once) atomically;
 * a relative path lands under results/. Returns the path written.
 */
export async function savePlotHtml(
  figs: PlotlyFigure | PlotlyFigure[],
  file: string,
  options: { title?: string } = {},
): Promise<string> {
  const list = Array.isArray(figs) ? figs : [figs];
  const session = new PlotSession();
  const charts: string[] = [];
  for (const f of list) charts.push(await session.render(f));
  const title =
    options.title ??
    String((list[0]?.layout.title as { text?: string } | undefined)?.text ?? "senet-lab chart");
  const out = resultsPath(file);
  writeFileAtomic(
    out,
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif">\n${charts.join("\n")}\n</body></html>\n`,
  );
  return out;
}
