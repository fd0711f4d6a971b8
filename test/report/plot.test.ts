import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  addPaperColumn,
  barPlot,
  curvePlot,
  frameRows,
  loadCurves,
  loadSweep,
  metricPlot,
  PlotSession,
  plotlyBundleGzip,
  plotlyBundleScript,
  savePlotHtml,
  summarize,
} from "../../src/report/index.js";
import { readManifest } from "../../src/sweep/layout.js";
import { writeFixtureSweep } from "./fixture.js";

const dir = writeFixtureSweep();
const summary = addPaperColumn(
  summarize(loadSweep(dir), { by: ["depth", "attention"], metrics: ["testTop1"] }),
  readManifest(dir).spec.paper,
  "testTop1",
);

/** How many times the bundle appears in a page. */
function bundleCount(html: string): number {
  return html.split("data-senet-lab-plotly=").length - 1;
}

describe("figures", () => {
  it("plots mean against a swept value with ± std error bars, one line per series", () => {
    const fig = metricPlot(summary, { x: "depth", metric: "testTop1", series: "attention" });
    const rows = frameRows(summary);
    const lines = fig.data.filter((t) => !String(t.name).startsWith("paper"));
    expect(lines.map((t) => t.name)).toEqual(["attention=none", "attention=se"]);
    expect(lines[0]!.x).toEqual([20, 32]);
    expect(lines[0]!.y).toEqual([rows[0]!.testTop1_mean, rows[2]!.testTop1_mean]);
    expect((lines[0]!.error_y as { array: number[] }).array).toEqual([
      rows[0]!.testTop1_std,
      rows[2]!.testTop1_std,
    ]);
    expect(fig.data.some((t) => String(t.name).startsWith("paper"))).toBe(true);
    expect((fig.layout.xaxis as { type: string }).type).toBe("linear");
  });

  it("draws bars per variant and training curves per variant", () => {
    const bars = barPlot(summary, { x: "attention", metric: "testTop1", series: "depth" });
    expect(bars.data.filter((t) => t.type === "bar")).toHaveLength(2);
    const curves = curvePlot(loadCurves(dir), { metric: "testTop1" });
    const means = curves.data.filter((t) => t.showlegend !== false);
    expect(means.map((t) => t.name)).toEqual([
      "depth=20 attention=none",
      "depth=20 attention=se",
      "depth=32 attention=none",
      "depth=32 attention=se",
    ]);
    // depth=20 none, epoch 3: mean of the three seeds' final accuracies.
    expect((means[0]!.y as number[])[2]).toBeCloseTo((0.91 + 0.92 + 0.94) / 3, 12);
    expect(curves.data.filter((t) => t.showlegend === false)).toHaveLength(11);
  });

  it("names a wrong column", () => {
    expect(() => metricPlot(summary, { x: "width", metric: "testTop1" })).toThrow(
      /x column "width" is not a column/,
    );
  });
});

describe("Plotly bundle", () => {
  it("is minified, gzipped, keeps the licence, and fits a notebook many times over", async () => {
    const { gz } = await plotlyBundleGzip();
    const code = zlib.gunzipSync(gz).toString("utf8");
    const original = fs.statSync(createRequire(import.meta.url).resolve("plotly.js-dist")).size;
    expect(code.length).toBeLessThan(original * 0.6);
    expect(code).toContain("window.Plotly");
    expect(code).toMatch(/Licensed under the MIT license/);
    const script = await plotlyBundleScript();
    expect(script.length).toBeLessThan(2.5e6);
  }, 120_000);

  it("goes out once per session however many charts follow", async () => {
    const session = new PlotSession();
    const a = await session.render(metricPlot(summary, { x: "depth", metric: "testTop1" }));
    const b = await session.render(barPlot(summary, { x: "attention", metric: "testTop1" }));
    expect(bundleCount(a)).toBe(1);
    expect(bundleCount(b)).toBe(0);
    expect(b).toContain("newPlot");
    expect(b.length).toBeLessThan(10_000);
  });
});

describe("savePlotHtml", () => {
  it("writes one page with one bundle for two charts, and Chromium draws both", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "senet-plot-"));
    const file = await savePlotHtml(
      [
        metricPlot(summary, { x: "depth", metric: "testTop1", series: "attention" }),
        curvePlot(loadCurves(dir), { metric: "testTop1" }),
      ],
      path.join(out, "charts.html"),
    );
    const html = fs.readFileSync(file, "utf8");
    expect(bundleCount(html)).toBe(1);
    expect(html.split('class="senet-lab-plot"').length - 1).toBe(2);
    expect(fs.readdirSync(out)).toEqual(["charts.html"]);
    const { CHROMIUM, renderedDom } = await import("../../src/notebook/browser.js");
    if (!fs.existsSync(CHROMIUM)) {
      console.warn(`skipping the browser check: ${CHROMIUM} is not installed`);
      return;
    }
    // The DOM after the scripts ran, without the scripts themselves (they hold the messages).
    const dom = renderedDom(file).replace(/<script[\s\S]*?<\/script>/g, "");
    // A failed load writes a message into the chart's div; Plotly marks a drawn one.
    expect(dom.includes("chart failed") || dom.includes("Plotly is not loaded")).toBe(false);
    const drawn = dom.match(
      /<div id="senet-plot-[0-9a-f]+" class="senet-lab-plot js-plotly-plot"/g,
    );
    expect(drawn?.length).toBe(2);
    expect(dom.includes(">attention=se</text>")).toBe(true); // a legend entry, drawn as SVG text
  }, 120_000);
});
