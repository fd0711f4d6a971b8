/**
 * The notebooks' statistics against outside references: SciPy (scipy.special.betainc,
 * scipy.stats.t.sf, scipy.stats.ttest_ind(equal_var=False)) and 40-digit mpmath values, from
 * test/fixtures/stats/reference.json (scripts/fixtures/gen_stats_fixtures.py). Also the verdict
 * strings and their NaN cases, and the error on non-finite input.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  incompleteBeta,
  logGamma,
  mean,
  sampleStd,
  studentTTwoSidedP,
  verdict,
  type WelchTest,
  welchTest,
} from "../../src/report/stats.js";

interface BetaCase {
  a: number;
  b: number;
  x: number;
  scipy: number;
  mpmath: number | null;
}
interface TCase {
  t: number;
  df: number;
  scipy: number;
  mpmath: number | null;
}
interface WelchCase {
  a: number[];
  b: number[];
  diff: number;
  se: number;
  t: number;
  df: number;
  p: number;
}
const REF = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, "../fixtures/stats/reference.json"), "utf8"),
) as { betainc: BetaCase[]; tTwoSidedP: TCase[]; welch: WelchCase[] };

/** Our accuracy against the exact (mpmath) value; the worst case measured is 6.0e-12. */
const TOL_EXACT = 1e-11;
/** Our agreement with SciPy where SciPy itself is within 1e-10 of mpmath (SciPy's betainc is good to ~1e-10 at a, b ~ 5e4). */
const TOL_SCIPY = 1e-10;

const rel = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

/** Checks every case against mpmath and SciPy; returns the worst relative errors. */
function checkAll<C extends { scipy: number; mpmath: number | null }>(
  cases: C[],
  f: (c: C) => number,
) {
  let worstExact = 0;
  let worstScipy = 0;
  const scipyOff: C[] = [];
  for (const c of cases) {
    const got = f(c);
    if (c.mpmath !== null) {
      const e = rel(got, c.mpmath);
      worstExact = Math.max(worstExact, e);
      expect(e, JSON.stringify({ ...c, got })).toBeLessThanOrEqual(TOL_EXACT);
      if (rel(c.scipy, c.mpmath) > TOL_SCIPY) {
        scipyOff.push(c);
        continue;
      }
    }
    const e = rel(got, c.scipy);
    worstScipy = Math.max(worstScipy, e);
    // No 40-digit value (mpmath's series fails at a = b = 5e4): SciPy alone, at 1e-9.
    expect(e, JSON.stringify({ ...c, got })).toBeLessThanOrEqual(
      c.mpmath === null ? 1e-9 : TOL_SCIPY,
    );
  }
  return { worstExact, worstScipy, scipyOff };
}

describe("special functions against SciPy and mpmath", () => {
  it("regularised incomplete beta I_x(a, b) over a, b in 0.05 … 5e4", () => {
    expect(REF.betainc.length).toBeGreaterThan(300);
    const r = checkAll(REF.betainc, (c) => incompleteBeta(c.a, c.b, c.x));
    // SciPy 1.10 is itself off in a few extreme cases (a = 5e4, b = 0.05, x → 1): there we
    // are within TOL_EXACT of mpmath, which the loop checked.
    expect(r.scipyOff.length).toBeLessThanOrEqual(2);
    console.log(
      `incompleteBeta: worst relative error ${r.worstExact.toExponential(2)} vs mpmath, ${r.worstScipy.toExponential(2)} vs SciPy`,
    );
  });

  it("two-sided Student t p-values, df 0.5 … 1e5, p down to 1e-100", () => {
    expect(REF.tTwoSidedP.length).toBeGreaterThan(100);
    const r = checkAll(REF.tTwoSidedP, (c) => studentTTwoSidedP(c.t, c.df));
    expect(r.scipyOff).toEqual([]);
    console.log(
      `studentTTwoSidedP: worst relative error ${r.worstExact.toExponential(2)} vs mpmath, ${r.worstScipy.toExponential(2)} vs SciPy`,
    );
  });

  it("known values: textbook critical points, symmetry, limits", () => {
    expect(studentTTwoSidedP(2.776445105, 4)).toBeCloseTo(0.05, 9);
    expect(studentTTwoSidedP(2.228138852, 10)).toBeCloseTo(0.05, 9);
    expect(studentTTwoSidedP(1, 1)).toBeCloseTo(0.5, 14); // Cauchy: P(|T| ≥ 1) = 1/2
    expect(studentTTwoSidedP(0, 3)).toBe(1);
    expect(studentTTwoSidedP(Number.POSITIVE_INFINITY, 3)).toBe(0);
    expect(studentTTwoSidedP(-2.5, 7)).toBe(studentTTwoSidedP(2.5, 7));
    expect(studentTTwoSidedP(Number.NaN, 3)).toBeNaN();
    for (const a of [0.5, 3]) expect(incompleteBeta(a, a, 0.5)).toBeCloseTo(0.5, 14);
    // a = b = 5e4: exp(a·ln x + b·ln(1 − x) − ln B(a, b)) loses ~1e-10 to the ±7e4 terms' rounding.
    expect(rel(incompleteBeta(5e4, 5e4, 0.5), 0.5)).toBeLessThanOrEqual(2e-10);
    expect(incompleteBeta(2, 3, 0)).toBe(0);
    expect(incompleteBeta(2, 3, 1)).toBe(1);
    expect(incompleteBeta(1, 1, 0.3)).toBeCloseTo(0.3, 15);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 12);
    expect(logGamma(171)).toBeCloseTo(706.5730622457874, 9);
  });

  it("refuses arguments outside the domain, naming the value", () => {
    expect(() => incompleteBeta(-1, 2, 0.5)).toThrow(ConfigError);
    expect(() => incompleteBeta(1, 2, 1.5)).toThrow(/x must be a number in \[0, 1\]; got 1.5/);
    expect(() => studentTTwoSidedP(1, 0)).toThrow(/df must be a finite number > 0; got 0/);
    expect(() => logGamma(-2)).toThrow(ConfigError);
  });
});

describe("mean, sample std and Welch's t-test", () => {
  it("matches scipy.stats.ttest_ind(equal_var=False) (unequal n 2 … 40, p down to 1e-9)", () => {
    for (const c of REF.welch) {
      const w = welchTest(c.a, c.b);
      for (const k of ["diff", "se", "t", "df", "p"] as const) {
        expect(rel(w[k], c[k]), `${k} of ${JSON.stringify(c)}`).toBeLessThanOrEqual(1e-10);
      }
      expect([w.na, w.nb]).toEqual([c.a.length, c.b.length]);
    }
  });

  it("mean and n − 1 std; NaN for no values / fewer than two", () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(sampleStd([1, 2, 6])).toBeCloseTo(Math.sqrt(7), 15);
    expect(mean([])).toBeNaN();
    expect(sampleStd([4])).toBeNaN();
    expect(sampleStd([])).toBeNaN();
    // NaN passes through: notebook 02 averages per-variant stds, NaN with one seed each.
    expect(mean([Number.NaN, 1])).toBeNaN();
    expect(sampleStd([Number.NaN, 1, 2])).toBeNaN();
  });

  it("keeps NaN statistics for samples it cannot test", () => {
    const w = welchTest([1], [2, 3]);
    expect(w.diff).toBe(-1.5);
    expect([w.se, w.t, w.df, w.p].every(Number.isNaN)).toBe(true);
    const none = welchTest([], [1, 2]);
    expect(none.diff).toBeNaN();
    expect(none.na).toBe(0);
    const flat = welchTest([2, 2, 2], [1, 1]);
    expect(flat.t).toBe(Number.POSITIVE_INFINITY);
    expect(flat.p).toBeNaN();
  });

  it("refuses non-finite values, naming the sample, index and value", () => {
    expect(() => welchTest([1, Number.NaN], [1, 2])).toThrow(ConfigError);
    expect(() => welchTest([1, Number.NaN], [1, 2])).toThrow(
      "welchTest: a[1] must be a finite number; got NaN",
    );
    expect(() => welchTest([1, 2], [Number.POSITIVE_INFINITY])).toThrow(
      "welchTest: b[0] must be a finite number; got Infinity",
    );
    expect(() => mean(["3" as unknown as number])).toThrow(
      'mean: values[0] must be a number; got "3"',
    );
  });
});

describe("verdict", () => {
  const w = (over: Partial<WelchTest>): WelchTest => ({
    diff: 1,
    se: 1,
    t: 1,
    df: 4,
    p: 0.5,
    na: 3,
    nb: 3,
    ...over,
  });
  it("prints the notebooks' wording", () => {
    expect(verdict(w({ na: 1, nb: 3 }))).toBe("n=1 vs 3: too few seeds to test");
    expect(verdict(w({ na: 3, nb: 0, p: 0.001 }))).toBe("n=3 vs 0: too few seeds to test");
    expect(verdict(w({ p: Number.NaN, diff: 0 }))).toBe("identical");
    expect(verdict(w({ p: Number.NaN, diff: 0.3 }))).toBe("no spread: cannot test");
    expect(verdict(w({ p: 0.05 }))).toBe("within noise (p ≥ 0.05)");
    expect(verdict(w({ p: 0.049, diff: -1 }))).toBe("better (p < 0.05)");
    expect(verdict(w({ p: 0.049, diff: 1 }))).toBe("worse (p < 0.05)");
    expect(verdict(w({ p: 0.049, diff: 1 }), false)).toBe("better (p < 0.05)");
    expect(verdict(w({ p: 0.049, diff: -1 }), false)).toBe("worse (p < 0.05)");
  });
  it("from real tests: identical samples, constant different samples, a clear difference", () => {
    expect(verdict(welchTest([1, 1, 1], [1, 1]))).toBe("identical");
    expect(verdict(welchTest([2, 2, 2], [1, 1]))).toBe("no spread: cannot test");
    expect(verdict(welchTest([10, 10.1, 9.9, 10.05], [12, 12.1, 11.9]))).toBe("better (p < 0.05)");
    expect(verdict(welchTest([10, 11, 9], [10.2, 9.5, 10.9]))).toBe("within noise (p ≥ 0.05)");
  });
});
