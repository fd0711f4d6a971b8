/**
 * The bench's interval statistics: paired per-round ratios (ours / peer, both measured in the
 * same round, adjacent in time, so machine drift hits both) and a Student t interval of their
 * mean on the log scale: the geometric mean of the per-round ratios, exp(mean(log r) ± t·s/√n).
 * Why t and not a bootstrap: with the 6–12 rounds a run can afford, a percentile bootstrap
 * undercovers (its interval is too narrow at small n) and depends on a seed; the t interval is
 * deterministic and exact when the log ratios are normal. Why logs: ratios are multiplicative, so
 * ours/peer and peer/ours get reciprocal intervals, and a noisy run cannot give a negative end.
 */
import { ConfigError, quote } from "../errors.js";
import { mean, sampleStd, studentTTwoSidedP } from "../report/stats.js";

/** A mean with its two-sided confidence interval, as the report prints "1.08× [1.03, 1.13]". */
export interface RatioInterval {
  /** Mean of the per-round values. */
  mean: number;
  /** Lower end of the interval (NaN with fewer than two rounds). */
  lo: number;
  /** Upper end of the interval (NaN with fewer than two rounds). */
  hi: number;
  /** Number of rounds (paired values) it is computed from. */
  n: number;
  /** Confidence level of [lo, hi] (0.95). */
  level: number;
  /** How the interval is computed, so a reader of the JSON needs no source code. */
  method: IntervalMethod;
}

/** The two ways the bench computes an interval: plain values, or ratios on the log scale. */
export type IntervalMethod =
  | "t interval of per-round values"
  | "t interval of per-round log ratios (geometric mean)";

/** Confidence level of every interval the bench reports. */
export const BENCH_CONFIDENCE = 0.95;

/**
 * The two-sided Student t quantile: t such that P(|T| ≥ t) = 1 − level for df degrees of freedom
 * (scipy.stats.t.ppf(0.5 + level / 2, df)); bisection on the project's t distribution, to 1e-12.
 */
export function tQuantile(level: number, df: number): number {
  if (typeof level !== "number" || !(level > 0 && level < 1)) {
    throw new ConfigError(`tQuantile: level must be a number in (0, 1); got ${quote(level)}`);
  }
  if (typeof df !== "number" || !(df > 0) || !Number.isFinite(df)) {
    throw new ConfigError(`tQuantile: df must be a finite number > 0; got ${quote(df)}`);
  }
  const p = 1 - level;
  let lo = 0;
  let hi = 1;
  while (studentTTwoSidedP(hi, df) > p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSidedP(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Mean and `level` t interval of per-round values (mean ± t·s/√n); NaN ends with one value.
 * Non-finite or empty input is a ConfigError (a round without a figure must be dropped first).
 */
export function tInterval(values: readonly number[], level = BENCH_CONFIDENCE): RatioInterval {
  if (!Array.isArray(values) || values.length === 0) {
    throw new ConfigError(`tInterval needs at least one value; got ${quote(values)}`);
  }
  for (const v of values) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ConfigError(`tInterval: every value must be a finite number; got ${quote(v)}`);
    }
  }
  const n = values.length;
  const m = mean(values);
  const method = "t interval of per-round values" as const;
  if (n < 2) return { mean: m, lo: Number.NaN, hi: Number.NaN, n, level, method };
  const half = (tQuantile(level, n - 1) * sampleStd(values)) / Math.sqrt(n);
  return { mean: m, lo: m - half, hi: m + half, n, level, method };
}

/**
 * The interval of per-round ratios: the `level` t interval of their logarithms, mapped back
 * (mean = geometric mean). Every ratio must be a finite number > 0.
 */
export function ratioInterval(ratios: readonly number[], level = BENCH_CONFIDENCE): RatioInterval {
  if (!Array.isArray(ratios)) {
    throw new ConfigError(`ratioInterval needs a list of ratios; got ${quote(ratios)}`);
  }
  for (const r of ratios) {
    if (typeof r !== "number" || !Number.isFinite(r) || r <= 0) {
      throw new ConfigError(
        `ratioInterval: every ratio must be a finite number > 0; got ${quote(r)}`,
      );
    }
  }
  const log = tInterval(
    ratios.map((r) => Math.log(r)),
    level,
  );
  return {
    mean: Math.exp(log.mean),
    lo: Math.exp(log.lo),
    hi: Math.exp(log.hi),
    n: log.n,
    level,
    method: "t interval of per-round log ratios (geometric mean)",
  };
}

/**
 * Per-round ratios a[i] / b[i] of two sides' figures paired by round; rounds where either side
 * has no figure (null: skipped or failed) are dropped, so the pairing never shifts.
 */
export function pairedRatios(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
): number[] {
  if (a.length !== b.length) {
    throw new ConfigError(
      `pairedRatios: both sides need one figure per round; got ${a.length} and ${b.length}`,
    );
  }
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x != null && y != null && y > 0 && Number.isFinite(x / y)) out.push(x / y);
  }
  return out;
}

/** "1.08× [1.03, 1.13] (n = 12 rounds)": the report's way of printing an interval. */
export function formatInterval(r: RatioInterval | null | undefined, digits = 2): string {
  if (!r) return "–";
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : "–");
  return `${f(r.mean)}× [${f(r.lo)}, ${f(r.hi)}] (n = ${r.n} round${r.n === 1 ? "" : "s"})`;
}
