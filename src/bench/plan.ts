/**
 * Which workloads each backend runs, with how many steps: one table of mode defaults and one
 * exception, the pure-JS cpu backend (skipped by --quick, 3 steps in a full run; see CPU_FULL_PLAN).
 */
import type { BackendName } from "../backend/index.js";
import { type ModelConfig, presetConfig } from "../models/index.js";
import type { MeasurePlan } from "./measure.js";
import type { BenchOptions } from "./options.js";

/** Who runs a workload: a tfjs backend or the PyTorch reference. */
export type BenchTarget = BackendName | "pytorch";

/** One timed job: a model, a batch and a measuring plan. */
export interface Workload {
  /** "train:<model>" or "infer:<model>". */
  id: string;
  /** Training step (forward, backward, SGD update) or inference. */
  kind: "train" | "infer";
  /** Preset name. */
  model: string;
  /** Resolved model config (overrides applied); the PyTorch script builds the same network from it. */
  config: ModelConfig;
  /** Images per call. */
  batch: number;
  /** Warm-up, steps, budget. */
  plan: MeasurePlan;
  /** SGD learning rate and momentum (training only). */
  lr: number;
  momentum: number;
}

/** A workload a target does not run, and why. */
export interface SkippedWorkload {
  /** As Workload.id. */
  id: string;
  /** As Workload.kind. */
  kind: "train" | "infer";
  /** Preset name. */
  model: string;
  /** Images per call. */
  batch: number;
  /** Why it is skipped. */
  reason: string;
}

/** Step counts per mode: full is the "median of >= 10 steps after warm-up". */
const MODE_PLANS: Record<"full" | "quick", Record<"train" | "infer", MeasurePlan>> = {
  full: {
    train: { warmup: 2, steps: 10, minSteps: 10, budgetSeconds: null },
    infer: { warmup: 3, steps: 20, minSteps: 20, budgetSeconds: null },
  },
  quick: {
    train: { warmup: 1, steps: 5, minSteps: 2, budgetSeconds: 8 },
    infer: { warmup: 2, steps: 10, minSteps: 3, budgetSeconds: 4 },
  },
};

/**
 * The pure-JS cpu backend takes minutes per ResNet-20 step at batch 64 even with the faster
 * Conv2DBackpropFilter: --quick skips it, a full run times 3 steps after 1 warm-up (the report
 * says so in its notes).
 */
export const CPU_FULL_PLAN: MeasurePlan = { warmup: 1, steps: 3, minSteps: 3, budgetSeconds: null };
/** Why --quick skips the cpu backend. */
export const CPU_QUICK_SKIP =
  "--quick skips the pure-JS cpu backend (minutes per step at these sizes); run without --quick to measure it (3 steps)";

/** Seconds a whole --quick run may take before remaining workloads are skipped. */
export const QUICK_DEADLINE_SECONDS = 165;

/** The workloads `target` runs and those it skips, for the given options. */
export function planWorkloads(
  opts: BenchOptions,
  target: BenchTarget,
): { run: Workload[]; skipped: SkippedWorkload[] } {
  const mode = opts.quick ? "quick" : "full";
  const run: Workload[] = [];
  const skipped: SkippedWorkload[] = [];
  const jobs = [
    ...opts.trainModels.map((m) => ["train", m] as const),
    ...opts.inferModels.map((m) => ["infer", m] as const),
  ];
  for (const [kind, model] of jobs) {
    const batch = kind === "train" ? opts.trainBatch : opts.inferBatch;
    const id = `${kind}:${model}`;
    const base = MODE_PLANS[mode][kind];
    const plan: MeasurePlan = {
      warmup: opts.warmup ?? base.warmup,
      steps: opts.steps ?? base.steps,
      minSteps: Math.min(opts.steps ?? base.steps, base.minSteps),
      budgetSeconds: base.budgetSeconds,
    };
    if (target === "cpu") {
      if (opts.quick) {
        skipped.push({ id, kind, model, batch, reason: CPU_QUICK_SKIP });
        continue;
      }
      if (opts.steps === null) Object.assign(plan, CPU_FULL_PLAN);
    }
    const overrides = kind === "train" ? opts.trainOverrides : opts.inferOverrides;
    run.push({
      id,
      kind,
      model,
      config: presetConfig(model, overrides),
      batch,
      plan,
      lr: opts.lr,
      momentum: opts.momentum,
    });
  }
  return { run, skipped };
}
