/**
 * Which workloads each target runs, in which group, with how many rounds and steps: one table of
 * mode defaults and the exceptions (the pure-JS cpu backend: skipped by --quick, 3 rounds of one
 * step in a full run; the batch sweep: native targets only under --quick, never the cpu backend).
 *
 * The bench measures in rounds (src/bench/run.ts): every target keeps one persistent process;
 * a group's workloads are built and warmed once per process, then each round runs every
 * workload on every target in turn (A B A B …), each a time-boxed burst of `plan.steps` steps
 * after `plan.warmup` untimed ones.
 */
import { type ModelConfig, presetConfig } from "../models/index.js";
import type { MeasurePlan } from "./measure.js";
import type { BenchOptions } from "./options.js";
import { type BenchBackend, ONEDNN_BF16 } from "./targets.js";

export { BENCH_BACKENDS, type BenchBackend, backendOf, ONEDNN_BF16 } from "./targets.js";

/** Who runs a workload: a tfjs target, PyTorch fp32, or PyTorch under autocast bf16. */
export type BenchTarget = BenchBackend | "pytorch" | "pytorch-bf16";

/** The arithmetic a target's convolutions run at: bf16 for the two mixed-precision targets. */
export function targetPrecision(target: BenchTarget): "fp32" | "bf16" {
  return target === ONEDNN_BF16 || target === "pytorch-bf16" ? "bf16" : "fp32";
}

/** The two PyTorch peers, served by one python process (the bf16 one under torch.autocast). */
export const TORCH_TARGETS = ["pytorch", "pytorch-bf16"] as const;

/**
 * A set of workloads measured together: built and warmed at once, interleaved round by round,
 * released together (so memory holds one group's models at a time).
 */
export type WorkloadGroup = "train" | "sweep" | "infer";

/**
 * The groups in the order they run. Inference comes before the batch sweep: after training at
 * batch 128/256 the onednn process's batch-1 ResNet-50 inference measured ~3× slower (110–163 ms
 * against 31–57 ms per image, 2026-12-08): the output pool kept the large-batch arrays and
 * allocated everything else afresh. Fixed since (the pool evicts the least recently used sizes,
 * src/backend/onednn-kernels/util.ts); the order stays, so a regression cannot hide in inference.
 */
export const WORKLOAD_GROUPS: readonly WorkloadGroup[] = ["train", "infer", "sweep"];

/** One timed job: a model, a batch and a measuring plan. */
export interface Workload {
  /** "train:<model>", "infer:<model>", or "train:<model>:b<batch>" in the batch sweep. */
  id: string;
  /** Training step (forward, backward, SGD update) or inference. */
  kind: "train" | "infer";
  /** Which group it is measured with (overheads pair workloads of one group and round). */
  group: WorkloadGroup;
  /** Preset name. */
  model: string;
  /** Resolved model config (overrides applied); the PyTorch script builds the same network from it. */
  config: ModelConfig;
  /** Images per call. */
  batch: number;
  /** One round: untimed warm-up steps, then timed steps until `steps` or the round's time box. */
  plan: MeasurePlan;
  /** Untimed steps when the workload is built, before the first round (JIT, filter reorders). */
  prepareWarmup: number;
  /** The most rounds this target runs it in (null: every round); the cpu backend's cap. */
  maxRounds: number | null;
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
  /** As Workload.group (the report sorts skipped rows among the measured ones by it). */
  group: WorkloadGroup;
  /** Preset name. */
  model: string;
  /** Images per call. */
  batch: number;
  /** Why it is skipped. */
  reason: string;
}

/** Rounds per group by mode: enough rounds for a t interval (df ≥ 7) in quick, 12 in full. */
export const MODE_ROUNDS: Record<"full" | "quick", number> = { full: 12, quick: 8 };

/** One round's plan per mode and kind: a warm step, then a few timed steps in a time box. */
const MODE_PLANS: Record<"full" | "quick", Record<"train" | "infer", MeasurePlan>> = {
  full: {
    train: { warmup: 1, steps: 5, minSteps: 5, budgetSeconds: null },
    infer: { warmup: 1, steps: 10, minSteps: 10, budgetSeconds: null },
  },
  quick: {
    train: { warmup: 1, steps: 3, minSteps: 1, budgetSeconds: 1.5 },
    infer: { warmup: 1, steps: 5, minSteps: 2, budgetSeconds: 0.75 },
  },
};

/**
 * One round's plan of the batch inference throughput workload: a call is 32 ResNet-50 images
 * (seconds each on 2 cores), so a warm call and 2 timed ones per round, where the latency
 * workloads take 10, keep a full run's inference group within minutes per target.
 */
const THROUGHPUT_PLANS: Record<"full" | "quick", MeasurePlan> = {
  full: { warmup: 1, steps: 2, minSteps: 2, budgetSeconds: null },
  quick: { warmup: 1, steps: 2, minSteps: 1, budgetSeconds: 0.75 },
};

/** Untimed steps when a workload is built (before round 1), per mode. */
const PREPARE_WARMUP: Record<"full" | "quick", number> = { full: 2, quick: 1 };

/**
 * The pure-JS cpu backend takes minutes per ResNet-20 step at batch 64 even with the faster
 * Conv2DBackpropFilter: --quick skips it, a full run gives it the first 3 rounds of one step
 * each after one warm-up step (the report says so in its notes).
 */
export const CPU_FULL_PLAN: MeasurePlan = { warmup: 0, steps: 1, minSteps: 1, budgetSeconds: null };
/** Rounds the cpu backend takes part in during a full run. */
export const CPU_FULL_ROUNDS = 3;
/** Why --quick skips the cpu backend. */
export const CPU_QUICK_SKIP =
  "--quick skips the pure-JS cpu backend (minutes per step at these sizes); run without --quick to measure it (3 rounds of one step)";
/** Why the batch-N inference throughput workload skips a target. */
export const THROUGHPUT_SKIP = {
  cpu: "the inference throughput workload skips the pure-JS cpu backend (minutes per image at 224×224)",
  quick: "--quick times the batch inference throughput on PyTorch and the native backends only",
} as const;

/** Why the batch sweep skips a target. */
export const SWEEP_SKIP = {
  cpu: "the batch sweep skips the pure-JS cpu backend (minutes per step at batch 256)",
  quick: "--quick sweeps batch sizes on PyTorch and the onednn/tensorflow backends only",
} as const;

/** Seconds a whole --quick run may take before rounds are cut (at least 2 rounds per group). */
export const QUICK_DEADLINE_SECONDS = 165;

/**
 * How --quick splits its time among the groups that run (normalised over those left): the
 * training group, whose ratios and overheads the goals judge, gets half.
 */
export const QUICK_GROUP_SHARE: Record<WorkloadGroup, number> = {
  train: 0.5,
  sweep: 0.25,
  infer: 0.25,
};

/** The batch sizes the sweep adds beside the training group's own batch (which it reuses). */
export function sweepBatches(opts: BenchOptions): number[] {
  if (opts.trainModels.length === 0) return [];
  return opts.sweepBatches.filter((b) => b !== opts.trainBatch);
}

/**
 * The batch of the inference throughput workload (the first inference model at
 * opts.inferThroughputBatch, images/s), or null when there is none: turned off, no inference
 * model, or the same batch as the latency workloads.
 */
export function throughputBatch(opts: BenchOptions): number | null {
  const b = opts.inferThroughputBatch;
  return b === null || opts.inferModels.length === 0 || b === opts.inferBatch ? null : b;
}

/** The workloads `target` runs and those it skips, for the given options, in group order. */
export function planWorkloads(
  opts: BenchOptions,
  target: BenchTarget,
): { run: Workload[]; skipped: SkippedWorkload[] } {
  const mode = opts.quick ? "quick" : "full";
  const run: Workload[] = [];
  const skipped: SkippedWorkload[] = [];
  const sweepModel = opts.trainModels[0];
  const jobs: { kind: "train" | "infer"; group: WorkloadGroup; model: string; batch: number }[] = [
    ...opts.trainModels.map((model) => ({
      kind: "train" as const,
      group: "train" as const,
      model,
      batch: opts.trainBatch,
    })),
    ...(sweepModel === undefined
      ? []
      : sweepBatches(opts).map((batch) => ({
          kind: "train" as const,
          group: "sweep" as const,
          model: sweepModel,
          batch,
        }))),
    ...opts.inferModels.map((model) => ({
      kind: "infer" as const,
      group: "infer" as const,
      model,
      batch: opts.inferBatch,
    })),
    ...(throughputBatch(opts) === null
      ? []
      : [
          {
            kind: "infer" as const,
            group: "infer" as const,
            model: opts.inferModels[0]!,
            batch: throughputBatch(opts)!,
          },
        ]),
  ];
  for (const { kind, group, model, batch } of jobs) {
    // The sweep's and the throughput workload's ids carry their batch (they share a model with
    // a workload at the default batch).
    const id =
      group === "sweep" || (kind === "infer" && batch !== opts.inferBatch)
        ? `${kind}:${model}:b${batch}`
        : `${kind}:${model}`;
    const throughput = kind === "infer" && batch !== opts.inferBatch;
    const base = throughput ? THROUGHPUT_PLANS[mode] : MODE_PLANS[mode][kind];
    const plan: MeasurePlan = {
      warmup: opts.warmup ?? base.warmup,
      steps: opts.steps ?? base.steps,
      minSteps: Math.min(opts.steps ?? base.steps, base.minSteps),
      budgetSeconds: base.budgetSeconds,
    };
    let maxRounds: number | null = null;
    if (target === "cpu") {
      if (opts.quick) {
        skipped.push({ id, kind, group, model, batch, reason: CPU_QUICK_SKIP });
        continue;
      }
      if (group === "sweep") {
        skipped.push({ id, kind, group, model, batch, reason: SWEEP_SKIP.cpu });
        continue;
      }
      if (throughput) {
        skipped.push({ id, kind, group, model, batch, reason: THROUGHPUT_SKIP.cpu });
        continue;
      }
      if (opts.steps === null) {
        Object.assign(plan, CPU_FULL_PLAN);
        maxRounds = CPU_FULL_ROUNDS;
      }
    }
    if (group === "sweep" && opts.quick && target === "wasm") {
      skipped.push({ id, kind, group, model, batch, reason: SWEEP_SKIP.quick });
      continue;
    }
    if (throughput && opts.quick && target === "wasm") {
      skipped.push({ id, kind, group, model, batch, reason: THROUGHPUT_SKIP.quick });
      continue;
    }
    const overrides = kind === "train" ? opts.trainOverrides : opts.inferOverrides;
    run.push({
      id,
      kind,
      group,
      model,
      config: presetConfig(model, overrides),
      batch,
      plan,
      prepareWarmup: PREPARE_WARMUP[mode],
      maxRounds,
      lr: opts.lr,
      momentum: opts.momentum,
    });
  }
  return { run, skipped };
}
