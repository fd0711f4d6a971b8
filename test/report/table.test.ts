import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as dfd from "danfojs-node";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  addPaperColumn,
  formatSummary,
  frameRows,
  loadCurves,
  loadSweep,
  pivot,
  saveTable,
  summarize,
  sweepTable,
  toCsv,
  toHtml,
  toMarkdown,
} from "../../src/report/index.js";
import { readManifest } from "../../src/sweep/layout.js";
import { ACC, writeFixtureSweep } from "./fixture.js";

const dir = writeFixtureSweep();

/** Sample standard deviation, written out independently of danfojs. */
function sampleStd(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

describe("loadSweep", () => {
  it("gives one row per run with grid keys, seed, status and summary numbers", () => {
    const df = loadSweep(dir);
    expect(df.shape).toEqual([12, 10]);
    expect(df.columns).toEqual([
      "id",
      "seed",
      "depth",
      "attention",
      "status",
      "epochs",
      "testTop1",
      "params",
      "divergedAt_epoch",
      "divergedAt_step",
    ]);
    const rows = frameRows(df);
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId["attention=se__depth=20__seed=3"]!.status).toBe("diverged");
    expect(Number.isNaN(byId["attention=se__depth=20__seed=3"]!.testTop1)).toBe(true);
    expect(byId["attention=se__depth=32__seed=3"]!.status).toBe("missing");
    expect(byId["attention=none__depth=32__seed=2"]!.testTop1).toBe(0.931);
    expect(byId["attention=none__depth=32__seed=2"]!.depth).toBe(32);
  });

  it("loads training curves in long form", () => {
    const c = loadCurves(dir);
    expect(c.columns.slice(0, 6)).toEqual(["id", "seed", "depth", "attention", "status", "epoch"]);
    expect(c.shape[0]).toBe(11 * 3); // 11 runs wrote metrics, 3 epochs each
  });

  it("gives an empty frame, not an error, before any run has recorded an epoch", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "senet-empty-"));
    fs.copyFileSync(path.join(dir, "sweep.json"), path.join(empty, "sweep.json"));
    expect(loadCurves(empty).shape[0]).toBe(0);
    const runs = frameRows(loadSweep(empty));
    expect(runs.map((r) => r.status)).toEqual(Array(12).fill("missing"));
  });

  it("names the folder when it is not a sweep", () => {
    expect(() => loadSweep(os.tmpdir())).toThrow(/not a sweep folder: no sweep.json/);
  });
});

describe("summarize", () => {
  const df = loadSweep(dir);
  const s = summarize(df, { by: ["depth", "attention"], metrics: ["testTop1"] });
  const rows = frameRows(s);

  it("gives mean, sample std (n − 1) and n per group, in the spec's order", () => {
    expect(rows.map((r) => `${r.depth}/${r.attention}`)).toEqual([
      "20/none",
      "20/se",
      "32/none",
      "32/se",
    ]);
    const r = rows[0]!;
    const xs = [ACC["20,none,1"], ACC["20,none,2"], ACC["20,none,3"]] as number[];
    expect(r.testTop1_n).toBe(3);
    expect(r.testTop1_mean).toBeCloseTo(0.9233333333, 10);
    expect(r.testTop1_std).toBeCloseTo(sampleStd(xs), 12);
    expect(r.testTop1_std).toBeCloseTo(0.01527525231651947, 12); // by hand: sqrt(0.00046667 / 2)
    // Not the population std (÷ n), which would be 0.01247.
    expect(Math.abs(Number(r.testTop1_std) - 0.012472191289246) > 1e-3).toBe(true);
  });

  it("leaves out diverged and unfinished runs but counts them", () => {
    const se20 = rows[1]!;
    expect(se20.runs).toBe(3);
    expect(se20.diverged).toBe(1);
    expect(se20.testTop1_n).toBe(2);
    expect(se20.testTop1_mean).toBeCloseTo(0.9325, 12);
    expect(se20.testTop1_std).toBeCloseTo(sampleStd([0.93, 0.935]), 12);
    const se32 = rows[3]!;
    expect(se32.runs).toBe(3);
    expect(se32.testTop1_n).toBe(2);
  });

  it("reports NaN, not 0, for the std of a single seed", () => {
    const one = df.query(df.seed.eq(1));
    const r = frameRows(summarize(one, { by: ["depth", "attention"], metrics: ["testTop1"] }))[0]!;
    expect(r.testTop1_n).toBe(1);
    expect(Number.isNaN(r.testTop1_std)).toBe(true);
  });

  it("summarises over everything with no group columns", () => {
    const r = frameRows(summarize(df, { by: [], metrics: ["params"] }))[0]!;
    expect(r.params_n).toBe(10);
  });

  it("names a missing column and lists the real ones", () => {
    expect(() => summarize(df, { by: ["width"], metrics: ["testTop1"] })).toThrow(
      /group column "width" is not a column; columns: id, seed, depth/,
    );
  });
});

describe("pivot and paper column", () => {
  const df = loadSweep(dir);
  const s = summarize(df, { by: ["depth", "attention"], metrics: ["testTop1"] });

  it("spreads attention across and depth down", () => {
    const p = pivot(s, { index: "depth", columns: "attention", values: "testTop1_mean" });
    expect(p.columns).toEqual(["depth", "none", "se"]);
    const rows = frameRows(p);
    expect(rows.map((r) => r.depth)).toEqual([20, 32]);
    expect(rows[1]!.se).toBeCloseTo(0.943, 12);
  });

  it("fills absent cells and refuses duplicate cells", () => {
    const partial = new dfd.DataFrame({ d: [20, 20, 32], a: ["x", "y", "x"], v: [1, 2, 3] });
    const rows = frameRows(pivot(partial, { index: "d", columns: "a", values: "v" }));
    expect(Number.isNaN(rows[1]!.y)).toBe(true);
    expect(() => pivot(df, { index: "depth", columns: "attention", values: "testTop1" })).toThrow(
      /more than one row for depth=20 and attention="none"; summarize before pivoting/,
    );
  });

  it("puts the most specific paper number beside ours, with the difference", () => {
    const paper = readManifest(dir).spec.paper;
    const rows = frameRows(addPaperColumn(s, paper, "testTop1"));
    expect(rows.map((r) => r.testTop1_paper)).toEqual([0.9, 0.95, 0.9, Number.NaN]);
    expect(rows[1]!.testTop1_delta).toBeCloseTo(0.9325 - 0.95, 12);
    expect(() => addPaperColumn(s, paper, "nope")).toThrow(ConfigError);
  });
});

describe("rendering", () => {
  const table = sweepTable(dir, { metrics: ["testTop1"] });

  it("formats mean ± std with digits from the spread, n and diverged", () => {
    const rows = frameRows(table.formatted);
    expect(table.formatted.columns).toEqual([
      "depth",
      "attention",
      "testTop1",
      "testTop1 (paper)",
      "testTop1 Δ",
      "n",
      "diverged",
    ]);
    // smallest std 0.0010 → 4 decimals (two significant digits of the spread)
    expect(rows[0]!.testTop1).toBe("0.9233 ± 0.0153");
    expect(rows[3]!["testTop1 (paper)"]).toBe("—");
    expect(rows[1]!.diverged).toBe(1);
    expect(table.caption).toMatch(/10\/12 runs completed; paper: T1; T2/);
  });

  it("writes Markdown, CSV and HTML that carry the numbers", () => {
    const md = toMarkdown(table.formatted, { caption: table.caption });
    expect(md).toContain("| 20 | none | 0.9233 ± 0.0153 | 0.9 | +0.0233 | 3 | 0 |");
    const csv = toCsv(table.summary).trim().split("\n");
    expect(csv[0]).toBe(
      "depth,attention,runs,diverged,testTop1_mean,testTop1_std,testTop1_n,testTop1_paper,testTop1_delta",
    );
    expect(csv[4]!.startsWith("32,se,3,0,0.943,")).toBe(true);
    expect(csv[4]!.endsWith(",2,,")).toBe(true); // no paper number: empty cells
    const html = toHtml(new dfd.DataFrame({ a: ["<b>&"], n: [1] }), { caption: "x < y" });
    expect(html).toContain("&lt;b&gt;&amp;");
    expect(html).toContain("x &lt; y</div><table");
    expect(html).not.toContain("<b>&");
  });

  it("saves .md and .csv atomically", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "senet-table-"));
    const files = saveTable(table.summary, path.join(out, "t"), { caption: "cap" });
    expect(fs.readdirSync(out).sort()).toEqual(["t.csv", "t.md"]);
    expect(fs.readFileSync(files.markdown, "utf8")).toContain("± 0.0153");
    expect(fs.readFileSync(files.csv, "utf8")).toBe(toCsv(table.summary));
    expect(formatSummary(table.summary).columns).toContain("testTop1");
  });
});
