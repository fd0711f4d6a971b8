/**
 * The variant comparison the ablation notebooks print: per-seed values, the comparison table,
 * the verdict lines and the error-bar chart. The columns the notebooks printed before the
 * comparison moved into the library are held to that inline code (copied below as old*), on many
 * random samples, so the executed notebooks' conclusions read the same; the one deliberate
 * change is that "within noise (p ≥ 0.05)" became what the design can resolve (MDE, seeds per arm
 * for the paper's Δ, their cost: src/report/power.ts, checked against statsmodels in
 * power.test.ts), and those new columns and sentences are checked here against the power
 * functions and by hand.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/data/rng.js";
import { ConfigError } from "../../src/errors.js";
import {
  compareVariants,
  printVerdicts,
  valuesOf,
  variantErrorBars,
  variantRows,
} from "../../src/report/compare.js";
import {
  describeResolution,
  minimumDetectableEffect,
  seedsPerArm,
} from "../../src/report/power.js";
import { frameRows } from "../../src/report/summarize.js";
import { ACC, writeFixtureSweep } from "./fixture.js";

// ---- the notebooks' former inline code (cells 5 and 6 of notebooks 02–07); two literals written as
// the doubles they denote (Biome refuses digits a double cannot hold) ----
function oldLogGamma(x: number): number {
  const c = [
    76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155,
    0.1208650973866179e-2, -0.5395239384953e-5,
  ];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const ci of c) ser += ci / ++y;
  return -tmp + Math.log((2.5066282746310007 * ser) / x);
}
function oldBetaCf(a: number, b: number, x: number): number {
  const tiny = 1e-30;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 200; m++) {
    const m2 = 2 * m;
    for (const aa of [
      (m * (b - m) * x) / ((a + m2 - 1) * (a + m2)),
      (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1)),
    ]) {
      d = 1 + aa * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + aa / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
  }
  return h;
}
function oldIncBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    oldLogGamma(a + b) - oldLogGamma(a) - oldLogGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * oldBetaCf(a, b, x)) / a
    : 1 - (front * oldBetaCf(b, a, 1 - x)) / b;
}
const oldMean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const oldStd = (xs: number[]) =>
  xs.length < 2
    ? Number.NaN
    : Math.sqrt(xs.reduce((s, v) => s + (v - oldMean(xs)) ** 2, 0) / (xs.length - 1));
function oldWelch(a: number[], b: number[]) {
  const diff = oldMean(a) - oldMean(b);
  const va = oldStd(a) ** 2 / a.length;
  const vb = oldStd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  const t = diff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const p =
    Number.isFinite(t) && Number.isFinite(df)
      ? oldIncBeta(df / 2, 0.5, df / (df + t * t))
      : Number.NaN;
  return { diff, se, t, df, p, na: a.length, nb: b.length };
}
function oldVerdict(w: ReturnType<typeof oldWelch>, lowerIsBetter = true): string {
  if (w.na < 2 || w.nb < 2) return `n=${w.na} vs ${w.nb}: too few seeds to test`;
  if (!Number.isFinite(w.p)) return w.diff === 0 ? "identical" : "no spread: cannot test";
  if (w.p >= 0.05) return "within noise (p ≥ 0.05)";
  return w.diff < 0 === lowerIsBetter ? "better (p < 0.05)" : "worse (p < 0.05)";
}
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "—");
const signed = (x: number, d = 2) =>
  Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${x.toFixed(d)}` : "—";
function oldCompareRow(
  xs: number[],
  base: number[],
  v: string,
  baseline: string,
  metric: string,
  paper: Record<string, number>,
) {
  const w = oldWelch(xs, base);
  const pv = paper[v];
  const pb = paper[baseline];
  return {
    variant: v,
    n: xs.length,
    [`${metric} mean ± std`]: `${fmt(oldMean(xs))} ± ${fmt(oldStd(xs))}`,
    [`Δ vs ${baseline}`]: v === baseline ? "—" : `${signed(w.diff)} ± ${fmt(w.se)}`,
    t: v === baseline ? "—" : fmt(w.t),
    p: v === baseline ? "—" : fmt(w.p, 3),
    verdict: v === baseline ? "(reference)" : oldVerdict(w),
    "paper top-1 err": pv === undefined ? "—" : fmt(pv),
    "paper Δ": pv === undefined || pb === undefined || v === baseline ? "—" : signed(pv - pb),
  };
}

/** The library's seeded generator (src/data/rng.ts) as a function, for the random samples. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** Rows as the notebooks build them: one per run, labelled, some not completed. */
function makeRows(rand: () => number) {
  const rows: Record<string, unknown>[] = [];
  const variants = ["baseline", "a", "b", "c"];
  for (const v of variants) {
    const n = Math.floor(rand() * 6); // 0 … 5 seeds
    const shift = (rand() - 0.5) * 4;
    const spread = rand() < 0.15 ? 0 : rand() * 2;
    for (let s = 0; s < n; s++) {
      const x = Math.round((20 + shift + (rand() - 0.5) * spread) * 100) / 100;
      rows.push({ variant: v, seed: s, status: "completed", testError: x });
    }
    rows.push({ variant: v, seed: 99, status: "diverged", testError: 90 });
  }
  return { rows, variants };
}

/** Pooled std written out here (not the library's pooledStd), as the t-test behind the MDE pools it. */
const pooled = (a: number[], b: number[]) =>
  Math.sqrt(
    ((a.length - 1) * oldStd(a) ** 2 + (b.length - 1) * oldStd(b) ** 2) / (a.length + b.length - 2),
  );

describe("compareVariants / printVerdicts against the notebooks' former code", () => {
  it("prints the same columns and verdict lines on 400 random ablations, 'within noise' replaced by what the design resolves", () => {
    const rand = rng(7);
    const paper = { baseline: 23.3, a: 22.29, c: 22.72 };
    let testable = 0;
    let significant = 0;
    let withinNoise = 0;
    for (let i = 0; i < 400; i++) {
      const { rows, variants } = makeRows(rand);
      const base = valuesOf(rows, "baseline", "testError");
      const got = frameRows(compareVariants(rows, variants, "baseline", "testError", paper));
      const lines: string[] = [];
      printVerdicts(rows, variants, "baseline", paper, { print: (l) => lines.push(l) });
      variants.forEach((v, k) => {
        const xs = valuesOf(rows, v, "testError");
        const old = oldCompareRow(xs, base, v, "baseline", "testError", paper);
        const row = got[k]!;
        const w = oldWelch(xs, base);
        const isBase = v === "baseline";
        const noise = !isBase && old.verdict === "within noise (p ≥ 0.05)";
        // Every column the notebooks printed, unchanged, except a "within noise" verdict.
        const { verdict: oldV, ...oldRest } = old;
        expect(row).toMatchObject(oldRest);
        const n = Math.min(xs.length, base.length);
        const mde = n >= 2 ? minimumDetectableEffect({ n, std: pooled(xs, base) }) : Number.NaN;
        expect(row.MDE).toBe(isBase ? "—" : fmt(mde));
        const pv = paper[v as keyof typeof paper];
        const seeds =
          pv === undefined || isBase || n < 2 || oldStd(xs) + oldStd(base) === 0
            ? undefined
            : seedsPerArm({ effect: pv - paper.baseline, std: pooled(xs, base) });
        expect(row["paper Δ seeds/arm"]).toBe(seeds === undefined ? "—" : String(seeds));
        expect(row["paper Δ hours"]).toBe("—"); // these rows carry no wallSeconds
        if (!noise) expect(row.verdict).toBe(oldV);
        else {
          withinNoise++;
          // Where both arms already have that many seeds, the sentence says so.
          const has = seeds !== undefined && seeds <= n ? ", which this design has" : "";
          expect(row.verdict).toBe(
            `not resolved: detects only |Δ| ≥ ${fmt(mde)} pp${seeds === undefined ? "" : `; the paper's ${signed(pv! - paper.baseline)} pp needs ≈ ${seeds} seeds per arm${has}`}`,
          );
        }
        expect(String(row.verdict)).not.toMatch(/within noise/);
        if (isBase) return;
        // The printed line: the same head; the old verdict and "(paper: …)" where the test could
        // not run, else the verdict (if significant) and the full resolution sentence.
        if (Number.isFinite(w.p)) testable++;
        if (w.p < 0.05) significant++;
        const line = lines[k - 1]!;
        const head = `${v} − baseline: ${signed(w.diff)} pp top-1 error, t = ${fmt(w.t)}, p = ${fmt(w.p, 3)} → `;
        const p = pv !== undefined ? ` (paper: ${signed(pv - paper.baseline)} pp)` : "";
        const res = () =>
          describeResolution({
            n: [xs.length, base.length],
            std: pooled(xs, base),
            diff: w.diff,
            paperDiff: pv === undefined ? undefined : pv - paper.baseline,
            resolved: w.p < 0.05,
            unit: "pp",
          }).text;
        if (!Number.isFinite(w.p)) expect(line).toBe(`${head}${oldVerdict(w)}${p}`);
        else if (noise) {
          expect(line).toBe(`${head}${res()}`);
          expect(line).toContain(`not resolved: this design detects only |Δ| ≥ ${fmt(mde)} pp`);
        } else expect(line).toBe(`${head}${oldVerdict(w)}; ${res()}`);
        expect(line).not.toMatch(/within noise/);
      });
      expect(lines).toHaveLength(variants.length - 1);
    }
    // The random ablations cover every branch: testable, significant, and not.
    expect(testable).toBeGreaterThan(300);
    expect(significant).toBeGreaterThan(50);
    expect(withinNoise).toBeGreaterThan(100);
  });

  it("a hand-computed resolution: MDE, seeds per arm for the paper's Δ and their cost in hours", () => {
    // reference [20, 21, 22] (100 s a run), variant [20.4, 21.6, 22.2, 21.0] (140 s a run):
    // Δ = +0.30, Welch p = 0.690 (scipy.stats.ttest_ind(equal_var=False)); pooled std
    // √((2·1 + 3·0.6)/5) = 0.8718, n = min(4, 3) = 3: MDE = 0.8718 × 3.0709 = 2.68 (statsmodels
    // solve_power(nobs1=3) = 3.0709). The paper's Δ −1.01 is d = 1.1586: 13 seeds per arm (the
    // smallest n whose statsmodels power reaches 0.8). Cost: (13 − 4) + (13 − 3) = 19 runs at the
    // mean 860/7 s = 0.648 h.
    const rows = [
      ...[20, 21, 22].map((x, i) => ({
        variant: "base",
        seed: i,
        status: "completed",
        testError: x,
        wallSeconds: 100,
      })),
      ...[20.4, 21.6, 22.2, 21.0].map((x, i) => ({
        variant: "se",
        seed: i,
        status: "completed",
        testError: x,
        wallSeconds: 140,
      })),
      { variant: "se", seed: 9, status: "diverged", testError: 90, wallSeconds: 5 },
    ];
    const paper = { base: 23.3, se: 22.29 };
    const [b, s] = frameRows(compareVariants(rows, ["base", "se"], "base", "testError", paper));
    expect(b).toMatchObject({ MDE: "—", "paper Δ seeds/arm": "—", "paper Δ hours": "—" });
    expect(s).toMatchObject({
      n: 4,
      "Δ vs base": "+0.30 ± 0.70",
      MDE: "2.68",
      p: "0.690",
      verdict:
        "not resolved: detects only |Δ| ≥ 2.68 pp; the paper's -1.01 pp needs ≈ 13 seeds per arm",
      "paper Δ": "-1.01",
      "paper Δ seeds/arm": "13",
      "paper Δ hours": "0.65",
    });
    const lines: string[] = [];
    printVerdicts(rows, ["base", "se"], "base", paper, { print: (l) => lines.push(l) });
    expect(lines).toEqual([
      "se − base: +0.30 pp top-1 error, t = 0.43, p = 0.690 → not resolved: this design detects only |Δ| ≥ 2.68 pp; the paper's -1.01 pp needs ≈ 13 seeds per arm (≈ 39 min here, or `sweep submit --slurm`)",
    ]);
    // Without a paper value the sentence sizes the observed Δ; the table cell stays short.
    const [, alone] = frameRows(compareVariants(rows, ["base", "se"], "base", "testError"));
    expect(alone).toMatchObject({
      verdict: "not resolved: detects only |Δ| ≥ 2.68 pp",
      "paper Δ seeds/arm": "—",
    });
    const bare: string[] = [];
    printVerdicts(rows, ["se"], "base", {}, { print: (l) => bare.push(l) });
    expect(bare[0]).toMatch(
      /→ not resolved: this design detects only \|Δ\| ≥ 2\.68 pp; the observed \+0\.30 pp would need ≈ \d+ seeds per arm \(≈ [\d.]+ (h|days) here, or `sweep submit --slurm`\)$/,
    );
  });

  it("valuesOf keeps completed runs with a finite value, in order", () => {
    const rows = [
      { variant: "x", status: "completed", m: 2 },
      { variant: "x", status: "diverged", m: 3 },
      { variant: "x", status: "completed", m: Number.NaN },
      { variant: "y", status: "completed", m: 5 },
      { variant: "x", status: "completed", m: "7" },
    ];
    expect(valuesOf(rows, "x", "m")).toEqual([2, 7]);
    expect(valuesOf(rows, "z", "m")).toEqual([]);
  });

  it("a hand-computed table: accuracy (higher is better), custom paper column", () => {
    const rows = [0.9, 0.91, 0.92].map((m, i) => ({
      variant: "base",
      seed: i,
      status: "completed",
      acc: m,
    }));
    rows.push(
      ...[0.95, 0.96, 0.97].map((m, i) => ({
        variant: "se",
        seed: i,
        status: "completed",
        acc: m,
      })),
    );
    const [b, s] = frameRows(
      compareVariants(
        rows,
        ["base", "se"],
        "base",
        "acc",
        { se: 0.8 },
        { lowerIsBetter: false, paperColumn: "paper acc" },
      ),
    );
    expect(b).toMatchObject({
      variant: "base",
      n: 3,
      "acc mean ± std": "0.91 ± 0.01",
      verdict: "(reference)",
      "paper acc": "—",
    });
    // diff 0.05, se = √(2·0.01²/3) = 0.00816, t = 6.12, df = 4: p = 0.0036; pooled std 0.01,
    // n = 3: MDE = 0.01 × 3.0709 (statsmodels solve_power(nobs1=3)); no unit for "acc".
    expect(s).toMatchObject({
      MDE: "0.03",
      variant: "se",
      n: 3,
      "Δ vs base": "+0.05 ± 0.01",
      t: "6.12",
      p: "0.004",
      verdict: "better (p < 0.05)",
      "paper acc": "0.80",
      "paper Δ": "—",
    });
  });

  it("refuses an empty variant list", () => {
    expect(() => compareVariants([], [], "b", "m")).toThrow(ConfigError);
  });
});

describe("variantErrorBars", () => {
  it("bars of mean ± std with n, and the paper on a right axis only where it has numbers", () => {
    const rows = [
      { variant: "a", status: "completed", testError: 10 },
      { variant: "a", status: "completed", testError: 12 },
      { variant: "b", status: "completed", testError: 8 },
    ];
    const fig = variantErrorBars(rows, ["a", "b"], "T", { b: 22 });
    expect(fig.data[0]).toMatchObject({
      type: "bar",
      x: ["a", "b"],
      y: [11, 8],
      customdata: [2, 1],
    });
    expect((fig.data[0]!.error_y as { array: number[] }).array[0]).toBeCloseTo(Math.SQRT2, 14);
    expect((fig.data[0]!.error_y as { array: number[] }).array[1]).toBeNaN();
    expect(fig.data[1]).toMatchObject({ type: "scatter", x: ["b"], y: [22], yaxis: "y2" });
    expect(fig.layout.yaxis2).toBeDefined();
    const plain = variantErrorBars(rows, ["a", "b"], "T");
    expect(plain.data).toHaveLength(1);
    expect(plain.layout.yaxis2).toBeUndefined();
  });
});

describe("variantRows", () => {
  it("labels every run of a sweep folder", () => {
    const dir = writeFixtureSweep();
    const rows = variantRows(dir, (r) => `${r.attention}-${r.depth}`);
    expect(rows).toHaveLength(Object.keys(ACC).length);
    expect(valuesOf(rows, "none-20", "testTop1")).toEqual([0.91, 0.92, 0.94]);
    expect(valuesOf(rows, "se-20", "testTop1")).toEqual([0.93, 0.935]);
  });
});
