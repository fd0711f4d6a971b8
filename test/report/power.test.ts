/**
 * The power analysis (src/report/power.ts) against outside references in
 * test/fixtures/stats/power.json (scripts/fixtures/gen_power_fixtures.py): statsmodels'
 * TTestIndPower (power, solve_power for nobs1 and for effect_size), SciPy's nct.cdf, t.isf and
 * ndtr, and 30-digit mpmath values (a quadrature of the noncentral t CDF, exact critical values
 * and the power built from them). The worst errors measured are in the test names; the bounds
 * asserted leave a few-fold margin. Then the special cases, the resolution sentence and the
 * error messages.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  describeResolution,
  fmtDuration,
  minimumDetectableEffect,
  noncentralTCdf,
  normalCdf,
  pooledStd,
  seedsPerArm,
  studentTCritical,
  twoSampleTTestPower,
} from "../../src/report/power.js";

interface PowerCase {
  effect: number;
  n: number;
  alpha: number;
  power: number;
  mpmath: number;
}
interface NobsCase {
  effect: number;
  alpha: number;
  power: number;
  solvePower: number | null;
  root: number | null;
  nInt: number;
}
interface EffectCase {
  n: number;
  alpha: number;
  power: number;
  solvePower: number;
  root: number;
}
interface NctCase {
  t: number;
  df: number;
  nc: number;
  scipy: number;
  mpmath: number;
}
const REF = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, "../fixtures/stats/power.json"), "utf8"),
) as {
  power: PowerCase[];
  largeN: (Omit<PowerCase, "mpmath"> & { test: "t" | "normal" })[];
  nobs: NobsCase[];
  effect: EffectCase[];
  nct: NctCase[];
  tCrit: { alpha: number; df: number; scipy: number; mpmath: number }[];
  normalCdf: { x: number; scipy: number }[];
};

const rel = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

/** Worst relative error of f over the cases against field `ref`, each case held to `tol`. */
function worstRel<C>(cases: C[], f: (c: C) => number, want: (c: C) => number, tol: number) {
  let worst = 0;
  for (const c of cases) {
    const got = f(c);
    const e = rel(got, want(c));
    expect(e, JSON.stringify({ ...c, got })).toBeLessThanOrEqual(tol);
    worst = Math.max(worst, e);
  }
  return worst;
}

const nct = (c: NctCase) => noncentralTCdf(c.t, c.df, c.nc);

describe("noncentral t CDF against a 30-digit mpmath quadrature and SciPy (Boost)", () => {
  it("t ≥ 0: worst relative error 2.0e-14 vs mpmath (values 1e-20 … 1, df 1 … 398, nc −2 … 25)", () => {
    const cases = REF.nct.filter((c) => c.t >= 0);
    expect(cases.length).toBeGreaterThan(120);
    const w = worstRel(cases, nct, (c) => c.mpmath, 1e-13);
    console.log(`noncentralTCdf, t ≥ 0: worst relative error ${w.toExponential(2)} vs mpmath`);
  });

  it("t < 0: absolute error ≤ 4e-15 vs mpmath, relative 1.7e-13 where F ≥ 1e-3", () => {
    // F(t; ν, δ) = 1 − F(−t; ν, −δ) for t < 0: exact in absolute terms, relative only off the far
    // left tail (there the power function adds it to a number near alpha, so absolute is what counts).
    const cases = REF.nct.filter((c) => c.t < 0);
    expect(cases.length).toBeGreaterThan(40);
    let worstAbs = 0;
    for (const c of cases) {
      const e = Math.abs(nct(c) - c.mpmath);
      expect(e, JSON.stringify(c)).toBeLessThanOrEqual(2e-14);
      worstAbs = Math.max(worstAbs, e);
    }
    const w = worstRel(
      cases.filter((c) => c.mpmath >= 1e-3),
      nct,
      (c) => c.mpmath,
      1e-12,
    );
    console.log(
      `noncentralTCdf, t < 0: worst absolute error ${worstAbs.toExponential(2)}, relative ${w.toExponential(2)} where F ≥ 1e-3`,
    );
  });

  it("agrees with SciPy's nct.cdf wherever SciPy agrees with mpmath (worst 2e-13 where F ≥ 1e-3)", () => {
    // SciPy 1.10 (Boost) is itself wrong below ~1e-16 (1.1e-16 for a true 5.4e-25), hence the filter.
    const cases = REF.nct.filter((c) => rel(c.scipy, c.mpmath) < 1e-12 && c.mpmath >= 1e-3);
    expect(cases.length).toBeGreaterThan(150);
    worstRel(cases, nct, (c) => c.scipy, 1e-12);
  });

  it("limits, symmetry and the central case", () => {
    expect(noncentralTCdf(0, 5, 1.3)).toBe(normalCdf(-1.3));
    expect(noncentralTCdf(Number.POSITIVE_INFINITY, 5, 2)).toBe(1);
    expect(noncentralTCdf(Number.NEGATIVE_INFINITY, 5, 2)).toBe(0);
    // nc = 0 is Student's t: F(2.776445105; 4) = 0.975.
    expect(noncentralTCdf(2.776445105, 4, 0)).toBeCloseTo(0.975, 9);
    expect(noncentralTCdf(-2.776445105, 4, 0)).toBeCloseTo(0.025, 9);
    // F(t; ν, δ) = 1 − F(−t; ν, −δ)
    expect(noncentralTCdf(1.7, 9, 0.8) + noncentralTCdf(-1.7, 9, -0.8)).toBeCloseTo(1, 14);
    // A huge noncentrality (λ = δ²/2 = 5000) sums from the Poisson mode without underflow.
    expect(noncentralTCdf(100, 30, 100)).toBeGreaterThan(0.4);
    expect(noncentralTCdf(100, 30, 100)).toBeLessThan(0.6);
  });
});

describe("two-sample t-test power against statsmodels TTestIndPower (ratio 1, two-sided)", () => {
  it("worst relative error 2.2e-14 vs the 30-digit power, 1.1e-8 vs statsmodels (d 0.05 … 5, n 2 … 200, α 0.05 / 0.01)", () => {
    expect(REF.power.length).toBeGreaterThan(150);
    const f = (c: PowerCase) =>
      twoSampleTTestPower({ effectSize: c.effect, n: c.n, alpha: c.alpha });
    const exact = worstRel(REF.power, f, (c) => c.mpmath, 1e-13);
    // statsmodels takes its critical value from SciPy 1.10's t.isf, off by up to 2.2e-9 relative
    // (see the tCrit test), which moves its power by up to 1.1e-8: the same gap as ours.
    const sm = worstRel(REF.power, f, (c) => c.power, 5e-8);
    const smOwn = Math.max(...REF.power.map((c) => rel(c.power, c.mpmath)));
    console.log(
      `twoSampleTTestPower: worst relative error ${exact.toExponential(2)} vs mpmath, ${sm.toExponential(2)} vs statsmodels (statsmodels vs mpmath: ${smOwn.toExponential(2)})`,
    );
  });

  it("d = 0 gives alpha; the sign of d does not matter; power grows with n and d", () => {
    expect(twoSampleTTestPower({ effectSize: 0, n: 10 })).toBeCloseTo(0.05, 13);
    expect(twoSampleTTestPower({ effectSize: 0, n: 3, alpha: 0.01 })).toBeCloseTo(0.01, 13);
    expect(twoSampleTTestPower({ effectSize: -0.7, n: 8 })).toBe(
      twoSampleTTestPower({ effectSize: 0.7, n: 8 }),
    );
    let last = 0;
    for (const n of [2, 3, 5, 10, 30, 100]) {
      const p = twoSampleTTestPower({ effectSize: 0.5, n });
      expect(p).toBeGreaterThan(last);
      last = p;
    }
  });

  it("normal limit above 10⁶ seeds per arm: matches statsmodels' t power at 10⁵ … 10⁶ and NormalIndPower above (relative 1e-9)", () => {
    for (const c of REF.largeN) {
      const got = twoSampleTTestPower({ effectSize: c.effect, n: c.n, alpha: c.alpha });
      expect(rel(got, c.power), JSON.stringify({ ...c, got })).toBeLessThanOrEqual(1e-9);
    }
    // The switch moves the power by O(1/df), under 1e-6 relative.
    const t = twoSampleTTestPower({ effectSize: 0.004, n: 1e6 });
    const z = twoSampleTTestPower({ effectSize: 0.004, n: 1e6 + 1 });
    expect(rel(z, t)).toBeLessThan(1e-6);
  });
});

describe("Student t critical value and the normal CDF", () => {
  it("t_c: worst relative error 5.9e-14 vs mpmath; SciPy 1.10's t.isf is 2.2e-9 off", () => {
    const f = (c: (typeof REF.tCrit)[number]) => studentTCritical(c.alpha, c.df);
    const w = worstRel(REF.tCrit, f, (c) => c.mpmath, 5e-13);
    worstRel(REF.tCrit, f, (c) => c.scipy, 1e-8);
    console.log(`studentTCritical: worst relative error ${w.toExponential(2)} vs mpmath`);
    expect(studentTCritical(0.05, 4)).toBeCloseTo(2.776445105, 8);
  });

  it("Φ: worst relative error 1.1e-13 vs scipy.special.ndtr, x −37.5 … 7", () => {
    const w = worstRel(
      REF.normalCdf,
      (c) => normalCdf(c.x),
      (c) => c.scipy,
      5e-13,
    );
    console.log(`normalCdf: worst relative error ${w.toExponential(2)} vs SciPy`);
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(-1.959963984540054)).toBeCloseTo(0.025, 15);
  });
});

describe("minimum detectable effect and seeds per arm against solve_power", () => {
  it("MDE: worst relative error 7.6e-10 vs the root of statsmodels' power, 6.3e-6 vs solve_power(nobs1=n) itself", () => {
    const f = (c: EffectCase) =>
      minimumDetectableEffect({ n: c.n, std: 1, alpha: c.alpha, power: c.power });
    // statsmodels' power is 1e-8 off (its critical value), which moves its root by ~1e-9; our
    // own power at our MDE is the target to 1e-12 (and our power is good to 2e-14, above).
    const w = worstRel(REF.effect, f, (c) => c.root, 5e-9);
    // solve_power stops at its root finder's tolerance.
    worstRel(REF.effect, f, (c) => c.solvePower, 2e-5);
    for (const c of REF.effect) {
      const p = twoSampleTTestPower({ effectSize: f(c), n: c.n, alpha: c.alpha });
      expect(Math.abs(p - c.power)).toBeLessThan(1e-12);
    }
    console.log(
      `minimumDetectableEffect: worst relative error ${w.toExponential(2)} vs statsmodels`,
    );
  });

  it("MDE is d·std in the metric's units", () => {
    const d = minimumDetectableEffect({ n: 3, std: 1 });
    expect(minimumDetectableEffect({ n: 3, std: 0.25 })).toBeCloseTo(0.25 * d, 14);
    expect(d).toBeCloseTo(3.0708922664, 8); // statsmodels: solve_power(nobs1=3) = 3.07089227
  });

  it("seedsPerArm is the smallest integer n ≥ 2 at which statsmodels' power reaches the target (all 44 cases)", () => {
    expect(REF.nobs.length).toBe(44);
    for (const c of REF.nobs) {
      const got = seedsPerArm({ effect: c.effect, std: 1, alpha: c.alpha, power: c.power });
      expect(got, JSON.stringify(c)).toBe(c.nInt);
      if (c.root !== null) {
        expect(c.root).toBeGreaterThan(got - 1);
        expect(c.root).toBeLessThanOrEqual(got);
      }
    }
    // the effect in metric units: 0.3 pp at std 1 pp is d = 0.3 (statsmodels: 175.4 → 176).
    expect(seedsPerArm({ effect: -0.3, std: 1 })).toBe(176);
    expect(seedsPerArm({ effect: 0.6, std: 2 })).toBe(176);
  });

  it("tiny effects: ~2(z_{α/2} + z_β)²/d² seeds (normal limit), Infinity past 2^53", () => {
    const n = seedsPerArm({ effect: 1e-3, std: 1 });
    expect(rel(n, 2 * ((1.959963984540054 + 0.8416212335729143) / 1e-3) ** 2)).toBeLessThan(1e-5);
    expect(seedsPerArm({ effect: 1e-12, std: 1 })).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("edge cases and errors", () => {
  it("n < 2 has no noise estimate; std = 0 detects anything; effect = 0 needs infinitely many seeds", () => {
    expect(minimumDetectableEffect({ n: 1, std: Number.NaN })).toBeNaN();
    expect(minimumDetectableEffect({ n: 0, std: 1 })).toBeNaN();
    expect(minimumDetectableEffect({ n: 5, std: 0 })).toBe(0);
    expect(seedsPerArm({ effect: 0, std: 1 })).toBe(Number.POSITIVE_INFINITY);
    expect(seedsPerArm({ effect: 0, std: 0 })).toBe(Number.POSITIVE_INFINITY);
    expect(seedsPerArm({ effect: 0.1, std: 0 })).toBe(2);
    expect(seedsPerArm({ effect: 50, std: 1 })).toBe(2);
  });

  it("pooledStd: the pooled t-test's std; NaN with fewer than two values in an arm", () => {
    // (2·1 + 3·0.2) / 5 = 0.52 for [20, 21, 22] (var 1) and [20.4, 21.6, 22.2, 21] (var 0.6)
    expect(pooledStd([20, 21, 22], [20.4, 21.6, 22.2, 21])).toBeCloseTo(Math.sqrt(3.8 / 5), 14);
    expect(pooledStd([1], [1, 2])).toBeNaN();
  });

  it("refuses bad input with ConfigError naming the value", () => {
    expect(() => minimumDetectableEffect({ n: -1, std: 1 })).toThrow(ConfigError);
    expect(() => minimumDetectableEffect({ n: -1, std: 1 })).toThrow(
      "minimumDetectableEffect: n must be a finite number ≥ 0; got -1",
    );
    expect(() => minimumDetectableEffect({ n: 5, std: Number.NaN })).toThrow(
      "minimumDetectableEffect: std must be a finite number ≥ 0; got NaN",
    );
    expect(() => minimumDetectableEffect({ n: 5, std: 1, power: 0.01 })).toThrow(
      "minimumDetectableEffect: power must be a number in (alpha, 1) = (0.05, 1); got 0.01",
    );
    expect(() => seedsPerArm({ effect: 1, std: -2 })).toThrow(
      "seedsPerArm: std must be a finite number ≥ 0; got -2",
    );
    expect(() => seedsPerArm({ effect: Number.NaN, std: 1 })).toThrow(
      "seedsPerArm: effect must be a finite number; got NaN",
    );
    expect(() => seedsPerArm({ effect: 1, std: 1, alpha: 1.5 })).toThrow(
      "seedsPerArm: alpha must be a number in (0, 1); got 1.5",
    );
    expect(() => twoSampleTTestPower({ effectSize: 0.5, n: 1 })).toThrow(
      "twoSampleTTestPower: n must be a finite number ≥ 2; got 1",
    );
    expect(() => noncentralTCdf(1, 0, 1)).toThrow(/df must be a finite number/);
    expect(() => noncentralTCdf(Number.NaN, 3, 1)).toThrow(
      "noncentralTCdf: t must be a number; got NaN",
    );
    expect(() => studentTCritical(0, 3)).toThrow(
      "studentTCritical: alpha must be a number in (0, 1); got 0",
    );
    expect(() => normalCdf(Number.NaN)).toThrow("normalCdf: x must be a number; got NaN");
    expect(() => describeResolution({ n: 3, std: Number.NaN, diff: 0.1 })).toThrow(
      "describeResolution: std must be a finite number ≥ 0; got NaN",
    );
    expect(() => describeResolution({ n: -3, std: 1, diff: 0.1 })).toThrow(
      "describeResolution: n must be a finite number ≥ 0; got -3",
    );
    expect(() => describeResolution({ n: 3, std: 1, diff: 0.1, paperDiff: Number.NaN })).toThrow(
      "describeResolution: paperDiff must be a finite number; got NaN",
    );
  });
});

describe("describeResolution: the sentence instead of 'within noise'", () => {
  // n = 3, std 1: MDE = 3.07 (statsmodels solve_power(nobs1=3) = 3.0709); the paper's 0.3 at
  // std 1 needs 176 seeds per arm (statsmodels: 175.4).
  it("not resolved, with the paper's Δ and the cost of the extra runs", () => {
    const r = describeResolution({
      n: 3,
      std: 1,
      diff: 0.12,
      paperDiff: -0.3,
      secondsPerRun: 120,
      unit: "pp",
    });
    expect(r.mde).toBeCloseTo(3.0708922664, 8);
    expect(r).toMatchObject({ n: 3, target: -0.3, targetSource: "paper", seedsPerArm: 176 });
    expect(r.extraRuns).toBe(2 * (176 - 3));
    expect(r.hours).toBeCloseTo((346 * 120) / 3600, 12);
    expect(r.text).toBe(
      "not resolved: this design detects only |Δ| ≥ 3.07 pp; the paper's -0.30 pp needs ≈ 176 seeds per arm (≈ 12 h here, or `sweep submit --slurm`)",
    );
    expect(r.short).toBe(
      "not resolved: detects only |Δ| ≥ 3.07 pp; the paper's -0.30 pp needs ≈ 176 seeds per arm",
    );
  });

  it("without a paper value: the observed Δ; without seconds: the number of runs", () => {
    const r = describeResolution({ n: [4, 3], std: 1, diff: 0.3 });
    expect(r.n).toBe(3);
    expect(r).toMatchObject({ targetSource: "observed", seedsPerArm: 176, hours: null });
    expect(r.extraRuns).toBe(176 - 4 + (176 - 3));
    expect(r.text).toBe(
      "not resolved: this design detects only |Δ| ≥ 3.07; the observed +0.30 would need ≈ 176 seeds per arm (345 more runs, or `sweep submit --slurm`)",
    );
    expect(r.short).toBe("not resolved: detects only |Δ| ≥ 3.07");
  });

  it("resolved, a paper Δ the design already covers, a zero paper Δ", () => {
    const r = describeResolution({
      n: 10,
      std: 0.1,
      diff: -0.5,
      paperDiff: -0.4,
      resolved: true,
      unit: "pp",
    });
    // d = 4: n = 2 detects only d ≥ 5.65, n = 3 d ≥ 3.07.
    expect(r.seedsPerArm).toBe(3);
    expect(r.extraRuns).toBe(0);
    expect(r.text).toBe(
      "this design detects |Δ| ≥ 0.13 pp; the paper's -0.40 pp needs ≈ 3 seeds per arm, which this design has",
    );
    const resolvedNoPaper = describeResolution({ n: 10, std: 0.1, diff: -0.5, resolved: true });
    expect(resolvedNoPaper.text).toBe("this design detects |Δ| ≥ 0.13");
    expect(resolvedNoPaper.seedsPerArm).toBeNull();
    const zero = describeResolution({ n: 3, std: 1, diff: 0.2, paperDiff: 0, unit: "pp" });
    expect(zero.seedsPerArm).toBe(Number.POSITIVE_INFINITY);
    expect(zero.text).toBe(
      "not resolved: this design detects only |Δ| ≥ 3.07 pp; the paper's +0.00 pp (no difference) cannot be resolved by any number of seeds",
    );
  });

  it("too few seeds, and no spread", () => {
    const few = describeResolution({ n: [1, 3], std: Number.NaN, diff: 0.4, paperDiff: 1 });
    expect(few.mde).toBeNaN();
    expect(few.seedsPerArm).toBeNull();
    expect(few.text).toBe("too few seeds to estimate noise (n = 1 per arm; a t-test needs ≥ 2)");
    const flat = describeResolution({ n: 3, std: 0, diff: 0 });
    expect(flat.mde).toBe(0);
    expect(flat.text).toMatch(/^no spread across seeds/);
  });

  it("durations read as minutes, hours or days", () => {
    expect(fmtDuration(0.004)).toBe("1 min");
    expect(fmtDuration(0.65)).toBe("39 min");
    expect(fmtDuration(3.25)).toBe("3.3 h");
    expect(fmtDuration(11.4)).toBe("11 h");
    expect(fmtDuration(100)).toBe("4.2 days");
    expect(fmtDuration(24 * 30)).toBe("30 days");
  });
});
