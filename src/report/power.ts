/**
 * What a comparison can resolve: the power of the two-sample t-test, the minimum detectable
 * effect (MDE) of a design and the seeds per arm an effect needs, with the sentence the notebooks
 * print instead of a bare "within noise". Conventions are statsmodels' TTestIndPower with
 * ratio = 1 and alternative = "two-sided": n seeds in each arm, pooled-variance t with
 * df = 2n − 2, standardised effect d = |Δ| / std, noncentrality λ = d·√(n/2), and
 *
 *   power = P(T′ > t_c) + P(T′ < −t_c),  T′ ~ noncentral t(df, λ),  t_c = t_{1 − α/2, df}.
 *
 * Checked against statsmodels, SciPy and 30-digit mpmath values in test/fixtures/stats/power.json
 * (scripts/fixtures/gen_power_fixtures.py): power within 2.2e-14 (relative) of mpmath and 1.1e-8
 * of statsmodels (whose critical value, SciPy 1.10's t.isf, is 2e-9 off); the MDE within 7.6e-10
 * of the root of statsmodels' power; seedsPerArm equal to statsmodels' smallest n on every case.
 *
 * Above 10⁶ seeds per arm (df > 2·10⁶) the power is the normal limit Φ(λ − z) + Φ(−λ − z),
 * z = Φ⁻¹(1 − α/2): the t-based value differs from it by O(1/df) < 10⁻⁶ there, and the
 * incomplete beta's b·ln(1 − x) front factor would lose more than that at such df.
 */
import { ConfigError, quote } from "../errors.js";
import { fmtFixed, fmtSigned } from "./numbers.js";
import { incompleteBeta, logBeta, sampleStd, studentTTwoSidedP } from "./stats.js";

/** Significance level the notebooks test at (two-sided). */
export const DEFAULT_ALPHA = 0.05;
/** Power a design is sized for. */
export const DEFAULT_POWER = 0.8;
/** Seeds per arm above which the power is taken in its normal limit (see the module comment). */
const NORMAL_LIMIT_N = 1e6;
/** Largest seeds-per-arm count seedsPerArm reports; beyond it (effects below ~4e-8 std) it says Infinity. */
const MAX_SEEDS = 2 ** 53;

// ---- argument checks ----------------------------------------------------------------------------

/** Refuses anything but a finite number ≥ `min`, naming the function, argument and value. */
function checkNumber(where: string, name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    throw new ConfigError(`${where}: ${name} must be a finite number ≥ ${min}; got ${quote(v)}`);
  }
  return v;
}

/** alpha in (0, 1) and power in (alpha, 1), with their defaults. */
function checkLevels(where: string, alpha: unknown, power: unknown): [number, number] {
  const a = alpha ?? DEFAULT_ALPHA;
  if (typeof a !== "number" || !(a > 0 && a < 1)) {
    throw new ConfigError(`${where}: alpha must be a number in (0, 1); got ${quote(a)}`);
  }
  const p = power ?? DEFAULT_POWER;
  if (typeof p !== "number" || !(p > a && p < 1)) {
    throw new ConfigError(
      `${where}: power must be a number in (alpha, 1) = (${a}, 1); got ${quote(p)}`,
    );
  }
  return [a, p];
}

// ---- root finding -------------------------------------------------------------------------------

/**
 * A root of f in [lo, hi] where f(lo) and f(hi) have opposite signs: Illinois (modified regula
 * falsi) steps, every third step a bisection so the bracket always shrinks, to a relative width
 * `tol`.
 */
function findRoot(f: (x: number) => number, lo: number, hi: number, tol: number): number {
  let a = lo;
  let b = hi;
  let fa = f(a);
  let fb = f(b);
  if (fa === 0) return a;
  if (fb === 0) return b;
  let side = 0;
  for (let i = 0; i < 400; i++) {
    let c = i % 3 === 2 ? (a + b) / 2 : (a * fb - b * fa) / (fb - fa);
    if (!(c > Math.min(a, b) && c < Math.max(a, b))) c = (a + b) / 2;
    const fc = f(c);
    if (fc === 0) return c;
    if (fc < 0 === fb < 0) {
      b = c;
      fb = fc;
      if (side === -1) fa /= 2;
      side = -1;
    } else {
      a = c;
      fa = fc;
      if (side === 1) fb /= 2;
      side = 1;
    }
    if (Math.abs(b - a) <= tol * Math.max(Math.abs(c), 1e-300)) return (a + b) / 2;
  }
  return (a + b) / 2;
}

// ---- normal and Student t ----------------------------------------------------------------------

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erfc(z) for z ≥ 0: a positive-term series for erf below 2, Laplace's continued fraction above. */
function erfcNonNegative(z: number): number {
  if (z < 2) {
    // erf(z) = (2/√π)·e^{−z²}·Σ_k 2^k z^{2k+1} / (1·3·…·(2k+1)): every term positive.
    const z2 = 2 * z * z;
    let term = z;
    let sum = z;
    for (let k = 1; k < 200; k++) {
      term *= z2 / (2 * k + 1);
      sum += term;
      if (term <= 1e-17 * sum) break;
    }
    return 1 - TWO_OVER_SQRT_PI * Math.exp(-z * z) * sum;
  }
  // erfc(z) = e^{−z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), by Lentz's method.
  const tiny = 1e-300;
  let f = z;
  let c = z;
  let d = 0;
  for (let k = 1; k < 5000; k++) {
    const ak = k / 2;
    d = z + ak * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = z + ak / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-z * z) / (f * Math.sqrt(Math.PI));
}

/** Standard normal CDF Φ(x), accurate in both tails (the noncentral t's Φ(−λ) term needs it). */
export function normalCdf(x: number): number {
  if (typeof x !== "number" || Number.isNaN(x)) {
    throw new ConfigError(`normalCdf: x must be a number; got ${quote(x)}`);
  }
  const z = Math.abs(x) / Math.SQRT2;
  const tail = 0.5 * erfcNonNegative(z); // Φ(−|x|)
  return x < 0 ? tail : 1 - tail;
}

/** z with Φ(−z) = q for 0 < q < ½ (the normal limit's critical value). */
function normalUpperQuantile(q: number): number {
  const lq = Math.log(q);
  let hi = 1;
  while (Math.log(normalCdf(-hi)) > lq) hi *= 2;
  return findRoot((z) => Math.log(normalCdf(-z)) - lq, 0, hi, 1e-15);
}

/**
 * Two-sided critical value t_c with P(|T| ≥ t_c) = alpha for Student's t with df degrees of
 * freedom: the test's rejection threshold, which the power is measured against.
 */
export function studentTCritical(alpha: number, df: number): number {
  if (typeof alpha !== "number" || !(alpha > 0 && alpha < 1)) {
    throw new ConfigError(
      `studentTCritical: alpha must be a number in (0, 1); got ${quote(alpha)}`,
    );
  }
  checkNumber("studentTCritical", "df", df, Number.MIN_VALUE);
  const la = Math.log(alpha);
  let hi = 2;
  while (Math.log(studentTTwoSidedP(hi, df)) > la) {
    hi *= 2;
    if (hi > 1e300) return Number.POSITIVE_INFINITY;
  }
  // ln p is close to linear in t over the bracket, so the secant steps converge fast.
  return findRoot((t) => Math.log(studentTTwoSidedP(t, df)) - la, 0, hi, 1e-15);
}

// ---- noncentral t -------------------------------------------------------------------------------

/**
 * Poisson probability e^{−λ}λ^k/k! at k = ⌊λ⌋. The direct −λ + k·ln λ − ln k! cancels terms of
 * size ~k·ln k (2e-13 relative error at λ ≈ 300), so large k uses Loader's saddle-point form
 * −½ln(2πk) − stirlerr(k) − bd0(k, λ), bd0 = k·ln(k/λ) + λ − k (small, as |k − λ| < 1), and
 * small k the product ∏(λ/i)·e^{−λ}.
 */
function poissonAtMode(k: number, lambda: number): number {
  if (k < 30) {
    let p = Math.exp(-lambda);
    for (let i = 1; i <= k; i++) p *= lambda / i;
    return p;
  }
  const k2 = 1 / (k * k);
  // stirlerr(k) = ln k! − ((k + ½)ln k − k + ½ln 2π): Stirling's series, next term < 1e-16 at k ≥ 30.
  const stirlerr = (1 / k) * (1 / 12 + k2 * (-1 / 360 + k2 * (1 / 1260 - k2 / 1680)));
  const bd0 = k * Math.log1p((k - lambda) / lambda) + (lambda - k);
  return Math.exp(-0.5 * Math.log(2 * Math.PI * k) - stirlerr - bd0);
}

/**
 * F(t; ν, δ) for t > 0 as Φ(−δ) + ½·Σ_j [p_j·I_x(j + ½, ν/2) + q_j·I_x(j + 1, ν/2)], x = t²/(t² + ν),
 * p_j = e^{−δ²/2}(δ²/2)^j / j!, q_j = δ·e^{−δ²/2}(δ²/2)^j / (√2·Γ(j + 3/2)) (the Poisson-mixture
 * series behind Lenth's AS 243). The sum starts at the Poisson mode j₀ = ⌊δ²/2⌋, where the
 * weights are largest, with I_x taken there directly, and runs both ways with the recurrence
 * I_x(a + 1, b) = I_x(a, b) − x^a(1 − x)^b / (a·B(a, b)), so a large δ neither underflows the
 * first weights nor needs thousands of terms from j = 0.
 */
function nctCdfPositiveT(t: number, df: number, delta: number): number {
  const t2 = t * t;
  const x = t2 / (t2 + df);
  const y = df / (t2 + df);
  const phi = normalCdf(-delta);
  if (x === 0) return phi;
  const b = df / 2;
  const lambda = (delta * delta) / 2;
  if (lambda === 0) return phi + 0.5 * incompleteBeta(0.5, b, x);
  const j0 = Math.floor(lambda);
  const lnX = Math.log(x);
  const lnY = Math.log(y);
  const p0 = poissonAtMode(j0, lambda);
  // q₀ = (δ/√2)·p₀·j₀!/Γ(j₀ + 3/2), the Γ ratio as B(j₀ + 1, ½)/√π (no large lnΓ cancels).
  const q0 =
    (delta < 0 ? -1 : 1) *
    p0 *
    Math.exp(0.5 * Math.log(lambda) + logBeta(j0 + 1, 0.5) - 0.5 * Math.log(Math.PI));
  // g(a) = x^a·y^b / (a·B(a, b)) = I_x(a, b) − I_x(a + 1, b); with y = 0 (x = 1) every g is 0.
  const g = (a: number) => (y === 0 ? 0 : Math.exp(a * lnX + b * lnY - logBeta(a, b)) / a);
  const ip0 = incompleteBeta(j0 + 0.5, b, x);
  const iq0 = incompleteBeta(j0 + 1, b, x);
  const gp0 = g(j0 + 0.5);
  const gq0 = g(j0 + 1);

  let sum = p0 * ip0 + q0 * iq0;
  // Forward, j = j₀ + 1, …: weights fall off geometrically (ratio λ/(j + 1) < 1), I_x decreases.
  {
    let p = p0;
    let q = q0;
    let ip = ip0;
    let iq = iq0;
    let gp = gp0;
    let gq = gq0;
    for (let j = j0; j < j0 + 1e6; j++) {
      ip = Math.max(0, ip - gp);
      iq = Math.max(0, iq - gq);
      gp *= (x * (j + 0.5 + b)) / (j + 1.5);
      gq *= (x * (j + 1 + b)) / (j + 2);
      p *= lambda / (j + 1);
      q *= lambda / (j + 1.5);
      const term = p * ip + q * iq;
      sum += term;
      // What is left is at most (p + |q|)·max(ip, iq)·Σ_k r^k with r = λ/(j + 2) < 1.
      const rest = ((p + Math.abs(q)) * Math.max(ip, iq)) / (1 - lambda / (j + 2));
      if (rest <= 1e-17 * (Math.abs(sum) + phi) || rest === 0) break;
    }
  }
  // Backward, j = j₀ − 1, …, 0: the recurrence adds (stable); weights fall off as j/λ.
  {
    let p = p0;
    let q = q0;
    let ip = ip0;
    let iq = iq0;
    let gp = gp0;
    let gq = gq0;
    for (let j = j0 - 1; j >= 0; j--) {
      // g(a − 1) = g(a)·a / (x·(a − 1 + b)), a = j + 1.5 (p) or j + 2 (q).
      gp *= (j + 1.5) / (x * (j + 0.5 + b));
      gq *= (j + 2) / (x * (j + 1 + b));
      ip = Math.min(1, ip + gp);
      iq = Math.min(1, iq + gq);
      p *= (j + 1) / lambda;
      q *= (j + 1.5) / lambda;
      const term = p * ip + q * iq;
      sum += term;
      const r = j / lambda;
      const rest = ((p + Math.abs(q)) * r) / (1 - r);
      if (rest <= 1e-17 * (Math.abs(sum) + phi)) break;
    }
  }
  return phi + 0.5 * sum;
}

/**
 * CDF P(T′ ≤ t) of the noncentral t distribution (df > 0, noncentrality nc): the law of the t
 * statistic when a true effect exists, which the power integrates. Absolute error ≲ 1e-14;
 * relative ≲ 1e-13 for F ≥ 1e-20, except for t < 0 in the left tail (F < 1e-3), where
 * F = 1 − F(−t; ν, −δ) is good in absolute terms only. Below ~1e-20 the series' terms can
 * underflow (as in SciPy 1.10's Boost): neither tail matters to a power.
 */
export function noncentralTCdf(t: number, df: number, nc: number): number {
  if (typeof t !== "number" || Number.isNaN(t)) {
    throw new ConfigError(`noncentralTCdf: t must be a number; got ${quote(t)}`);
  }
  checkNumber("noncentralTCdf", "df", df, Number.MIN_VALUE);
  if (typeof nc !== "number" || !Number.isFinite(nc)) {
    throw new ConfigError(`noncentralTCdf: nc must be a finite number; got ${quote(nc)}`);
  }
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  if (t === 0) return normalCdf(-nc);
  if (nc === 0) {
    // Central t: straight from the two-sided p, with no 1 − F cancellation in the left tail.
    const half = studentTTwoSidedP(t, df) / 2;
    return t < 0 ? half : 1 - half;
  }
  // F(t; ν, δ) = 1 − F(−t; ν, −δ) for t < 0 (T′ with −δ is −T′ with δ).
  const v = t > 0 ? nctCdfPositiveT(t, df, nc) : 1 - nctCdfPositiveT(-t, df, -nc);
  return Math.min(1, Math.max(0, v));
}

// ---- power, MDE, seeds per arm ------------------------------------------------------------------

/** Two-sided power at noncentrality λ ≥ 0 with critical value t_c (t) or z (normal limit). */
function powerAt(lambda: number, n: number, crit: number): number {
  if (n > NORMAL_LIMIT_N) return normalCdf(lambda - crit) + normalCdf(-lambda - crit);
  const df = 2 * n - 2;
  // P(T′ > tc) + P(T′ < −tc) = (1 − F(tc; λ)) + (1 − F(tc; −λ)).
  return 1 - noncentralTCdf(crit, df, lambda) + (1 - noncentralTCdf(crit, df, -lambda));
}

/** The critical value powerAt needs for n seeds per arm. */
function criticalValue(n: number, alpha: number): number {
  return n > NORMAL_LIMIT_N ? normalUpperQuantile(alpha / 2) : studentTCritical(alpha, 2 * n - 2);
}

/**
 * Power of the two-sided two-sample t-test with n seeds per arm at standardised effect
 * effectSize = |Δ|/std (statsmodels TTestIndPower().power with ratio = 1): the chance a true
 * effect of that size comes out significant. n ≥ 2 may be fractional, as in statsmodels.
 */
export function twoSampleTTestPower(opts: {
  effectSize: number;
  n: number;
  alpha?: number;
}): number {
  const where = "twoSampleTTestPower";
  if (typeof opts.effectSize !== "number" || !Number.isFinite(opts.effectSize)) {
    throw new ConfigError(
      `${where}: effectSize must be a finite number; got ${quote(opts.effectSize)}`,
    );
  }
  const n = checkNumber(where, "n", opts.n, 2);
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  if (typeof alpha !== "number" || !(alpha > 0 && alpha < 1)) {
    throw new ConfigError(`${where}: alpha must be a number in (0, 1); got ${quote(alpha)}`);
  }
  return powerAt(Math.abs(opts.effectSize) * Math.sqrt(n / 2), n, criticalValue(n, alpha));
}

/**
 * Smallest |Δ| (in the metric's units: d·std) that a design with n seeds per arm detects with the
 * given power at level alpha, so a non-significant Δ can say what it could have seen. NaN when
 * n < 2 (no noise estimate; std is then not looked at); 0 when std = 0. n may be fractional.
 */
export function minimumDetectableEffect(opts: {
  n: number;
  std: number;
  alpha?: number;
  power?: number;
}): number {
  const where = "minimumDetectableEffect";
  const n = checkNumber(where, "n", opts.n, 0);
  const [alpha, target] = checkLevels(where, opts.alpha, opts.power);
  if (n < 2) return Number.NaN;
  const std = checkNumber(where, "std", opts.std, 0);
  if (std === 0) return 0;
  return std * minimumDetectableEffectSize(n, alpha, target);
}

/** The standardised MDE d for n ≥ 2: the root of power(d) = target (power(0) = alpha < target). */
function minimumDetectableEffectSize(n: number, alpha: number, target: number): number {
  const crit = criticalValue(n, alpha);
  const scale = Math.sqrt(n / 2);
  const f = (d: number) => powerAt(d * scale, n, crit) - target;
  let hi = 1;
  while (f(hi) < 0) hi *= 2;
  return findRoot(f, 0, hi, 1e-14);
}

/**
 * Smallest whole number of seeds per arm (≥ 2, the fewest a t-test can use) at which a true
 * difference `effect` with this `std` comes out significant with the given power: what it would
 * take to resolve a Δ. effect = 0 gives Infinity (no number of seeds detects no difference), as
 * does a need beyond 2^53 seeds; std = 0 with effect ≠ 0 gives 2. The sign of effect is ignored.
 */
export function seedsPerArm(opts: {
  effect: number;
  std: number;
  alpha?: number;
  power?: number;
}): number {
  const where = "seedsPerArm";
  if (typeof opts.effect !== "number" || !Number.isFinite(opts.effect)) {
    throw new ConfigError(`${where}: effect must be a finite number; got ${quote(opts.effect)}`);
  }
  const std = checkNumber(where, "std", opts.std, 0);
  const [alpha, target] = checkLevels(where, opts.alpha, opts.power);
  if (opts.effect === 0) return Number.POSITIVE_INFINITY;
  if (std === 0) return 2;
  const d = Math.abs(opts.effect) / std;
  const reaches = (n: number) =>
    powerAt(d * Math.sqrt(n / 2), n, criticalValue(n, alpha)) >= target;
  if (reaches(2)) return 2;
  let lo = 2; // power(lo) < target
  let hi = 4;
  while (!reaches(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > MAX_SEEDS) return Number.POSITIVE_INFINITY;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (reaches(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Pooled standard deviation √(((n_a − 1)s_a² + (n_b − 1)s_b²)/(n_a + n_b − 2)) of two arms: the
 * std the pooled t-test, and so the MDE, uses. NaN when either arm has fewer than two values.
 */
export function pooledStd(a: readonly number[], b: readonly number[]): number {
  const sa = sampleStd(a);
  const sb = sampleStd(b);
  if (a.length < 2 || b.length < 2) return Number.NaN;
  return Math.sqrt(
    ((a.length - 1) * sa ** 2 + (b.length - 1) * sb ** 2) / (a.length + b.length - 2),
  );
}

// ---- the resolution sentence --------------------------------------------------------------------

/** What describeResolution is told about one comparison. */
export interface ResolutionInput {
  /** Seeds per arm, or the two arms' counts [variant, reference]; the design's n is the smaller. */
  n: number | readonly [number, number];
  /** Std of the metric across seeds (pooled over the arms); ignored (may be NaN) when n < 2. */
  std: number;
  /** The observed difference Δ; NaN when unknown. */
  diff: number;
  /** The paper's difference for the same comparison, when it has one. */
  paperDiff?: number;
  /** Mean seconds one run takes here (e.g. the rows' wallSeconds), for the cost in hours. */
  secondsPerRun?: number;
  /** Whether the comparison's test was significant (default false: "not resolved"). */
  resolved?: boolean;
  /** Significance level (default 0.05, two-sided). */
  alpha?: number;
  /** Power the design is sized for (default 0.8). */
  power?: number;
  /** Unit printed after each difference, e.g. "pp" (default none). */
  unit?: string;
  /** Decimals of the differences (default 2). */
  digits?: number;
}

/** What a comparison can resolve, as numbers and as words. */
export interface Resolution {
  /** The design's seeds per arm (the smaller arm). */
  n: number;
  /** Minimum detectable |Δ| in the metric's units; NaN when n < 2. */
  mde: number;
  /** The Δ the seeds are sized for: the paper's, else (not resolved) the observed one, else null. */
  target: number | null;
  /** Where `target` comes from. */
  targetSource: "paper" | "observed" | null;
  /** Seeds per arm that resolve `target`; Infinity when it is 0; null without target or noise. */
  seedsPerArm: number | null;
  /** Runs still to train to get there: Σ over both arms of max(0, seedsPerArm − that arm's n). */
  extraRuns: number | null;
  /** extraRuns × secondsPerRun / 3600 (sequential run time here); null without secondsPerRun. */
  hours: number | null;
  /**
   * The full sentence, e.g. "not resolved: this design detects only |Δ| ≥ 0.90 pp; the paper's
   * +0.30 pp needs ≈ 40 seeds per arm (≈ 11 h here, or `sweep submit --slurm`)".
   */
  text: string;
  /** The table-cell form: no "this design", no cost, no observed-Δ part. */
  short: string;
}

/** A seed count for a sentence: plain up to a million, then in exponent form. */
function fmtCount(n: number): string {
  return n < 1e6 ? String(n) : n.toExponential(1);
}

/** Hours as minutes, hours or days, whichever reads best. */
export function fmtDuration(hours: number): string {
  if (hours < 1) return `${Math.max(1, Math.round(hours * 60))} min`;
  if (hours < 10) return `${hours.toFixed(1)} h`;
  if (hours < 48) return `${Math.round(hours)} h`;
  const days = hours / 24;
  return `${days < 10 ? days.toFixed(1) : Math.round(days)} days`;
}

/**
 * The numbers and the sentence for "what can this comparison resolve": the MDE of its design and
 * the seeds per arm (with their cost) that would resolve the paper's Δ, or the observed Δ when
 * there is no paper value and the test did not resolve it. Replaces a bare "within noise".
 */
export function describeResolution(input: ResolutionInput): Resolution {
  const where = "describeResolution";
  const arms: readonly number[] | undefined =
    typeof input.n === "number" ? [input.n, input.n] : Array.isArray(input.n) ? input.n : undefined;
  if (arms === undefined || arms.length !== 2) {
    throw new ConfigError(`${where}: n must be a number or two numbers; got ${quote(input.n)}`);
  }
  for (const a of arms) checkNumber(where, "n", a, 0);
  const n = Math.min(arms[0]!, arms[1]!);
  const [alpha, power] = checkLevels(where, input.alpha, input.power);
  const digits = input.digits ?? 2;
  const u = input.unit ? ` ${input.unit}` : "";
  const resolved = input.resolved ?? false;
  if (typeof input.diff !== "number") {
    throw new ConfigError(
      `${where}: diff must be a number (NaN when unknown); got ${quote(input.diff)}`,
    );
  }
  if (
    input.paperDiff !== undefined &&
    (typeof input.paperDiff !== "number" || !Number.isFinite(input.paperDiff))
  ) {
    throw new ConfigError(
      `${where}: paperDiff must be a finite number; got ${quote(input.paperDiff)}`,
    );
  }
  if (input.secondsPerRun !== undefined)
    checkNumber(where, "secondsPerRun", input.secondsPerRun, 0);
  const none = {
    n,
    target: null,
    targetSource: null,
    seedsPerArm: null,
    extraRuns: null,
    hours: null,
  };
  if (n < 2) {
    const text = `too few seeds to estimate noise (n = ${n} per arm; a t-test needs ≥ 2)`;
    return { ...none, mde: Number.NaN, text, short: text };
  }
  const std = checkNumber(where, "std", input.std, 0);
  const mde = minimumDetectableEffect({ n, std, alpha, power });
  if (std === 0) {
    const text =
      "no spread across seeds: the noise, and what this design resolves, cannot be estimated";
    return { ...none, mde, text, short: text };
  }
  const mdeText = `${fmtFixed(mde, digits)}${u}`;
  const head = resolved
    ? `this design detects |Δ| ≥ ${mdeText}`
    : `not resolved: this design detects only |Δ| ≥ ${mdeText}`;
  const shortHead = resolved
    ? `detects |Δ| ≥ ${mdeText}`
    : `not resolved: detects only |Δ| ≥ ${mdeText}`;

  let target: number | null = null;
  let targetSource: Resolution["targetSource"] = null;
  if (input.paperDiff !== undefined) {
    target = input.paperDiff;
    targetSource = "paper";
  } else if (!resolved && Number.isFinite(input.diff) && input.diff !== 0) {
    target = input.diff;
    targetSource = "observed";
  }
  if (target === null) return { ...none, mde, text: head, short: shortHead };

  const seeds = seedsPerArm({ effect: target, std, alpha, power });
  const finite = Number.isFinite(seeds);
  const extraRuns = finite ? arms.reduce((s, a) => s + Math.max(0, seeds - Math.ceil(a)), 0) : null;
  const hours =
    extraRuns !== null && input.secondsPerRun !== undefined
      ? (extraRuns * input.secondsPerRun) / 3600
      : null;
  const what =
    targetSource === "paper"
      ? `the paper's ${fmtSigned(target, digits)}${u}`
      : `the observed ${fmtSigned(target, digits)}${u}`;
  const verb = targetSource === "paper" ? "needs" : "would need";
  let need: string;
  let cost = "";
  if (!finite) {
    need =
      target === 0
        ? `${what} (no difference) cannot be resolved by any number of seeds`
        : `${what} needs more than 2^53 seeds per arm`;
  } else if (extraRuns === 0) {
    need = `${what} ${verb} ≈ ${fmtCount(seeds)} seeds per arm, which this design has`;
  } else {
    need = `${what} ${verb} ≈ ${fmtCount(seeds)} seeds per arm`;
    cost =
      hours !== null
        ? ` (≈ ${fmtDuration(hours)} here, or \`sweep submit --slurm\`)`
        : ` (${fmtCount(extraRuns!)} more runs, or \`sweep submit --slurm\`)`;
  }
  return {
    n,
    mde,
    target,
    targetSource,
    seedsPerArm: seeds,
    extraRuns,
    hours,
    text: `${head}; ${need}${cost}`,
    short: targetSource === "paper" ? `${shortHead}; ${need}` : shortHead,
  };
}
