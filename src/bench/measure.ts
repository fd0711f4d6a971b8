/**
 * Timing and memory measurement shared by the benchmark's workers: warm-up, then timed calls
 * until the step count or a time budget is reached; robust statistics of the times; and a
 * per-workload peak RSS on Linux (VmHWM reset through /proc/self/clear_refs).
 */
import fs from "node:fs";
import { ConfigError } from "../errors.js";

/** How many times to run a workload and for how long. */
export interface MeasurePlan {
  /** Untimed calls first (JIT, kernel setup, allocator warm-up). */
  warmup: number;
  /** Timed calls wanted. */
  steps: number;
  /** Stop early once this many calls are timed and the budget is spent. */
  minSteps: number;
  /** Seconds of timed calls after which to stop (once minSteps are done); null: no budget. */
  budgetSeconds: number | null;
}

/** Runs `fn` per the plan; returns the wall-clock milliseconds of each timed call. */
export async function timeCalls(fn: () => Promise<unknown>, plan: MeasurePlan): Promise<number[]> {
  for (let i = 0; i < plan.warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < plan.steps) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    const spent = (performance.now() - start) / 1000;
    if (
      plan.budgetSeconds !== null &&
      times.length >= plan.minSteps &&
      spent > plan.budgetSeconds
    ) {
      break;
    }
  }
  return times;
}

/** Summary statistics of a set of timings, in milliseconds. */
export interface TimingStats {
  /** Number of timed calls. */
  n: number;
  /** Median (the benchmark's figure). */
  medianMs: number;
  /** Fastest and slowest call. */
  minMs: number;
  maxMs: number;
  /** Interquartile range relative to the median: the run's noise (0.05 = ±2.5%). */
  relIqr: number;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Median, range and relative IQR of timings (throws on an empty list). */
export function timingStats(times: readonly number[]): TimingStats {
  if (times.length === 0)
    throw new ConfigError("timingStats needs at least one timing; got an empty list");
  const s = [...times].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  return {
    n: s.length,
    medianMs: median,
    minMs: s[0]!,
    maxMs: s[s.length - 1]!,
    relIqr: median > 0 ? (quantile(s, 0.75) - quantile(s, 0.25)) / median : 0,
  };
}

/**
 * Resets the kernel's peak-RSS mark (VmHWM) so the next `peakRssMiB` covers only what runs in
 * between. Returns false where unsupported (not Linux, or a kernel before 4.0).
 */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** Peak resident memory in MiB: VmHWM on Linux, else the process-lifetime maxRSS. */
export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Current resident memory in MiB. */
export function rssMiB(): number {
  return process.memoryUsage.rss() / 2 ** 20;
}
