/**
 * Statistics behind the notebooks' conclusions: mean, sample std (n − 1), Welch's t-test with
 * its two-sided p-value from Student's t distribution, and the verdict a comparison prints.
 * The special functions are checked against SciPy (test/fixtures/stats/reference.json).
 *
 * NaN semantics the notebooks rely on: the mean of no values and the std of fewer than two are
 * NaN, mean/sampleStd pass NaN through (the mean of per-variant stds is NaN with one seed, and a
 * notebook prints "cannot tell"), and every test statistic that cannot be computed (n < 2, no
 * spread) is NaN; `verdict` turns those into words. Welch's test refuses non-finite values
 * (ConfigError naming the value): a NaN there is a bug upstream, not "no data".
 */
import { ConfigError, quote } from "../errors.js";

/** Result of Welch's t-test of mean(a) − mean(b). */
export interface WelchTest {
  /** mean(a) − mean(b); NaN when either sample is empty. */
  diff: number;
  /** Standard error of the difference, √(s_a²/n_a + s_b²/n_b); NaN when n < 2 on either side. */
  se: number;
  /** diff / se (±Infinity when the samples have no spread but different means). */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value; NaN when t or df is not finite. */
  p: number;
  /** Number of values in a. */
  na: number;
  /** Number of values in b. */
  nb: number;
}

/** Refuses non-numbers (and, with `finite`, NaN/±Infinity), naming the sample, index and value. */
function checkSample(what: string, xs: readonly number[], finite: boolean): void {
  if (!Array.isArray(xs))
    throw new ConfigError(`${what} must be an array of numbers; got ${quote(xs)}`);
  xs.forEach((x, i) => {
    if (typeof x !== "number" || (finite && !Number.isFinite(x))) {
      throw new ConfigError(
        `${what}[${i}] must be a ${finite ? "finite " : ""}number; got ${quote(x)}`,
      );
    }
  });
}

/**
 * Arithmetic mean; NaN for an empty sample (a variant with no finished run plots as a gap) or
 * when a value is NaN (e.g. the std of a one-seed variant). Non-numbers are refused.
 */
export function mean(xs: readonly number[]): number {
  checkSample("mean: values", xs, false);
  return xs.reduce((s, v) => s + v, 0) / xs.length;
}

/** Sample standard deviation with the n − 1 denominator; NaN for fewer than two values or a NaN value. */
export function sampleStd(xs: readonly number[]): number {
  checkSample("sampleStd: values", xs, false);
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1));
}

const LANCZOS_G = 7;
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.9189385332046728;

/** Stirling-series correction lgamma(x) − ((x − ½)ln x − x + ½ln 2π), accurate to ~1e-16 for x ≥ 10. */
function stirlingCorrection(x: number): number {
  const x2 = 1 / (x * x);
  return (
    (1 / x) *
    (1 / 12 +
      x2 * (-1 / 360 + x2 * (1 / 1260 + x2 * (-1 / 1680 + x2 * (1 / 1188 + x2 * (-691 / 360360))))))
  );
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9 below 10; Stirling series above). */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x))
    throw new ConfigError(`logGamma: x must be a finite number > 0; got ${quote(x)}`);
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + stirlingCorrection(x);
  if (x < 0.5) {
    // Reflection keeps the Lanczos sum in its accurate range: Γ(x)Γ(1 − x) = π / sin(πx).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a + b), for a, b > 0 (exported for the power analysis's
 * incomplete-beta recurrences). For large arguments the ~a·ln a terms cancel, so the difference
 * lnΓ(big) − lnΓ(big + small) is taken from the Stirling series directly.
 */
export function logBeta(a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (hi < 10) return logGamma(a) + logGamma(b) - logGamma(a + b);
  // lnΓ(hi) − lnΓ(hi + lo) = −(hi − ½)·ln(1 + lo/hi) − lo·ln(hi + lo) + lo + corr(hi) − corr(hi + lo)
  const diff =
    -(hi - 0.5) * Math.log1p(lo / hi) -
    lo * Math.log(hi + lo) +
    lo +
    stirlingCorrection(hi) -
    stirlingCorrection(hi + lo);
  return logGamma(lo) + diff;
}

/** Lentz's continued fraction for I_x(a, b) (Numerical Recipes' betacf), run to convergence. */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const eps = 1e-16;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + even * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = 1 + even / c;
    if (Math.abs(c) < tiny) c = tiny;
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + odd * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = 1 + odd / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < eps) return h;
  }
  return h;
}

/** I_x(a, b) given both x and y = 1 − x (so callers can pass a y without cancellation). */
function incompleteBetaXY(a: number, b: number, x: number, y: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const logFront = a * Math.log(x) + b * Math.log(y) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(b, a, y)) / b;
}

/** Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1 (SciPy's betainc). */
export function incompleteBeta(a: number, b: number, x: number): number {
  for (const [name, v] of [
    ["a", a],
    ["b", b],
  ] as const) {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(`incompleteBeta: ${name} must be a finite number > 0; got ${quote(v)}`);
    }
  }
  if (typeof x !== "number" || !(x >= 0 && x <= 1)) {
    throw new ConfigError(`incompleteBeta: x must be a number in [0, 1]; got ${quote(x)}`);
  }
  return incompleteBetaXY(a, b, x, 1 - x);
}

/**
 * Two-sided p-value P(|T| ≥ |t|) of Student's t with df > 0 degrees of freedom (df need not be
 * an integer: Welch's df is not). t = ±Infinity gives 0; NaN t or df gives NaN.
 */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df)) return Number.NaN;
  if (typeof df !== "number" || !(df > 0) || !Number.isFinite(df)) {
    throw new ConfigError(`studentTTwoSidedP: df must be a finite number > 0; got ${quote(df)}`);
  }
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  // x = df / (df + t²), 1 − x = t² / (df + t²), both without cancellation.
  return incompleteBetaXY(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
}

/**
 * Welch's unequal-variance t-test of mean(a) − mean(b), two-sided. Samples with fewer than two
 * values give NaN se/t/df/p (and `verdict` says "too few seeds"); non-finite values are refused.
 */
export function welchTest(a: readonly number[], b: readonly number[]): WelchTest {
  checkSample("welchTest: a", a, true);
  checkSample("welchTest: b", b, true);
  const diff = mean(a) - mean(b);
  const va = sampleStd(a) ** 2 / a.length;
  const vb = sampleStd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  const t = diff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const p =
    Number.isFinite(t) && Number.isFinite(df) && df > 0 ? studentTTwoSidedP(t, df) : Number.NaN;
  return { diff, se, t, df, p, na: a.length, nb: b.length };
}

/**
 * The words a notebook prints for a Welch test at the 5 % level: "better/worse (p < 0.05)",
 * "within noise (p ≥ 0.05)", "identical" / "no spread: cannot test" when both samples are
 * constant, or "n=… vs …: too few seeds to test". `lowerIsBetter` is true for errors.
 */
export function verdict(w: WelchTest, lowerIsBetter = true): string {
  if (w.na < 2 || w.nb < 2) return `n=${w.na} vs ${w.nb}: too few seeds to test`;
  if (!Number.isFinite(w.p)) return w.diff === 0 ? "identical" : "no spread: cannot test";
  if (w.p >= 0.05) return "within noise (p ≥ 0.05)";
  return w.diff < 0 === lowerIsBetter ? "better (p < 0.05)" : "worse (p < 0.05)";
}

/** z of a two-sided 95 % normal interval, Φ⁻¹(0.975). */
const Z95 = 1.959963984540054;

/**
 * Wilson score interval [lo, hi] of a proportion: `successes` of `n` trials (e.g. top-1 hits on
 * n images) at 95 % by default. Wilson rather than the normal approximation because it stays
 * inside [0, 1] and keeps its coverage near 0 and 1 and at small n (checked against statsmodels'
 * proportion_confint(method="wilson") in test/fixtures/stats/binomial.json).
 */
export function binomialInterval(successes: number, n: number, z: number = Z95): [number, number] {
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`n must be a positive integer; got ${quote(n)}`);
  }
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new ConfigError(`successes must be an integer in [0, ${n}]; got ${quote(successes)}`);
  }
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
