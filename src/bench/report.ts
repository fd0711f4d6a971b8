/**
 * The benchmark's result file (results/bench/<date>.json): its schema, how the rounds the driver
 * recorded become it (per-round images/s, paired per-round ratios to the PyTorch peers with t
 * intervals, SE/SGE overheads paired within a target's round, FLOP/s against the measured matmul
 * and convolution peaks, kernel calls per training step, the goals judged on interval ends), a
 * schema check that also reads the files of schemas 1 and 2, and the table `senet-lab bench`
 * prints.
 */
import type { LeakCheckResult } from "./leak-check.js";
import { type TimingStats, timingStats } from "./measure.js";
import {
  type BenchTarget,
  ONEDNN_BF16,
  type SkippedWorkload,
  targetPrecision,
  WORKLOAD_GROUPS,
  type Workload,
  type WorkloadGroup,
} from "./plan.js";
import type { ConvPeakShape, KernelCalls, ServePrecision } from "./protocol.js";
import { formatInterval, pairedRatios, type RatioInterval, ratioInterval } from "./stats.js";

/**
 * Identifies the file format; bump on incompatible changes (2: rounds, intervals, peaks; 3: the
 * onednn-bf16 target, conv peaks, kernel calls per step, the target each goal was judged on).
 */
export const BENCH_SCHEMA = "senet-lab/bench@3";

/** Schema 2 (no conv peak, kernel counts or goal targets): results/bench/2026-12-08-before-fusion.json. */
export const BENCH_SCHEMA_V2 = "senet-lab/bench@2";

/** Schema 1 (one block of steps per target, medians only): results/bench/2026-11-23*.json. */
export const BENCH_SCHEMA_V1 = "senet-lab/bench@1";

/** Achieved arithmetic of a workload against the machine's measured matmul and conv peaks. */
export interface FlopReport {
  /** FLOP per image: training 3 × forward multiply-adds × 2, inference forward MACs × 2. */
  perImage: number;
  /** FLOP/s at the workload's images/s. */
  achieved: number;
  /** Which peaks it is set against: bf16 for the mixed-precision targets (pytorch-bf16, onednn-bf16), fp32 for the rest. */
  peakDtype: ServePrecision;
  /** The matmul peak of that dtype, FLOP/s (null: not measured). */
  peak: number | null;
  /** achieved / peak: the fraction of the matmul limit (null without a peak). */
  fractionOfPeak: number | null;
  /** The convolution peak of that dtype, FLOP/s (null: not measured; absent before schema 3). */
  convPeak?: number | null;
  /** achieved / convPeak: the fraction of what one large convolution reaches (null without it). */
  fractionOfConvPeak?: number | null;
}

/** One workload on one target. */
export interface WorkloadReport {
  /** "train:<model>", "infer:<model>", or "train:<model>:b<batch>" in the batch sweep. */
  id: string;
  /** Training step or inference. */
  kind: "train" | "infer";
  /** Group it was measured in (train, sweep, infer). */
  group: WorkloadGroup;
  /** Preset name. */
  model: string;
  /** Images per call. */
  batch: number;
  /** ok: measured; skipped: not run (reason says why); failed: threw (reason is the error). */
  status: "ok" | "skipped" | "failed";
  /** Why skipped or failed. */
  reason?: string;
  /** Untimed warm-up steps at the start of each round. */
  warmup: number;
  /** Images/s of each round (total images / total time of its timed steps); null: not run. */
  rounds?: (number | null)[];
  /** Statistics of every timed step over all rounds (status ok only). */
  timing?: TimingStats;
  /** Median of the per-round images/s: the workload's figure (status ok only). */
  imagesPerSecond?: number;
  /** Median milliseconds per call over all timed steps: step time or latency (status ok only). */
  medianMs?: number;
  /** Geometric mean of the per-round images/s ratios to PyTorch fp32 (>1: faster); null without a peer. */
  speedVsPytorch?: number | null;
  /** Geometric mean of the per-round time ratios to PyTorch fp32 (<1: faster); the latency ratio. */
  timeVsPytorch?: number | null;
  /** Per-round images/s ratio to PyTorch fp32, paired by round: geometric mean and 95 % t interval (log scale). */
  vsPytorch?: RatioInterval | null;
  /** The same against PyTorch under autocast bf16 (the second peer). */
  vsPytorchBf16?: RatioInterval | null;
  /** FLOP/s achieved and the fraction of the measured peak. */
  flops?: FlopReport | null;
  /** Peak RSS of the process while this workload's group ran, MiB (null where not measurable). */
  peakRssMiB?: number | null;
  /** Tensors left behind by this workload's group once released (tfjs targets; 0 expected). */
  numTensorsLeaked?: number;
  /** tfjs kernel invocations in one training step, counted once after warm-up (tfjs targets, training only). */
  kernelCallsPerStep?: KernelCalls;
}

/** SE / SGE cost relative to the plain network on the same target. */
export interface Overheads {
  /** Geometric mean of the per-round time ratios se_X / X, first trained pair (the issue's target ≤ 1.10). */
  seTrain: number | null;
  /** Geometric mean of the per-round time ratios sge_X / X, first trained pair. */
  sgeTrain: number | null;
  /** Geometric mean of the per-round latency ratios se_X / X, first inference pair. */
  seInfer: number | null;
  /** Every attention/plain pair found: id of the attention workload → geometric mean time ratio. */
  all: Record<string, number>;
  /** The same pairs with their 95 % t intervals (pairs within one round of this target). */
  intervals: Record<string, RatioInterval>;
}

/** One backend (or PyTorch peer) in the report. */
export interface TargetReport {
  /** tfjs backend name, "pytorch" or "pytorch-bf16". */
  name: BenchTarget;
  /** Whether it could run here. */
  available: boolean;
  /** Why not. */
  reason?: string;
  /** Library and version line. */
  detail?: string;
  /** Threads it used. */
  threads?: number;
  /** Peak RSS of its whole process, MiB (the two PyTorch peers share one process). */
  processPeakRssMiB?: number | null;
  /** Per-workload results, in plan order. */
  workloads: WorkloadReport[];
  /** SE / SGE overhead ratios. */
  overheads: Overheads;
  /** The 1000-step leak check, when asked for (tfjs targets). */
  leakCheck?: LeakCheckResult;
}

/** One timed burst, in the order they ran: the record that targets alternated. */
export interface ScheduleEntry {
  /** Group of the workload. */
  group: WorkloadGroup;
  /** Round number within the group, from 0. */
  round: number;
  /** Workload id. */
  id: string;
  /** Who ran it. */
  target: BenchTarget;
  /** Images/s of this burst, null when it failed. */
  imagesPerSecond: number | null;
}

/** One peak measurement: an n×n×n matmul, or one large convolution forward. */
export interface PeakMeasurement {
  /** Who measured it. */
  target: BenchTarget;
  /** Which operation (absent in schema 2 files: matmul). */
  op?: "matmul" | "conv";
  /** Arithmetic. */
  dtype: ServePrecision;
  /** n of the n×n×n matmul (conv: the input's height and width). */
  size: number;
  /** The convolution's shape (op "conv" only). */
  conv?: ConvPeakShape;
  /** Best FLOP/s at the start of the run and at its end (null: not measured or unsupported). */
  start: number | null;
  /** As start, after the last group. */
  end: number | null;
  /** Why it is null, when it is. */
  reason?: string;
}

/** The machine's limit as measured in this run. */
export interface PeakReport {
  /** Every measurement. */
  measurements: PeakMeasurement[];
  /** The reference fp32 peak: the best fp32 matmul FLOP/s any target reached (start or end). */
  fp32: number | null;
  /** The reference bf16 peak (PyTorch's bf16 matmul; null without avx512_bf16/AMX or PyTorch). */
  bf16: number | null;
  /** The conv peaks: the best convolution FLOP/s any target reached per dtype (absent before schema 3). */
  conv?: { fp32: number | null; bf16: number | null };
}

/** A performance goal, judged on the interval's conservative end. */
export interface BenchGoal {
  /** What it says, for people. */
  what: string;
  /** Target measured. */
  target: BenchTarget;
  /** Judged on this target instead where `target` did not run or measure the workload (the report says so). */
  fallback?: BenchTarget;
  /** Workload id. */
  workload: string;
  /** Which figure: images/s ratio to PyTorch fp32 or to PyTorch under bf16 autocast, or the SE/SGE time overhead. */
  measure: "vsPytorch" | "vsPytorchBf16" | "overhead";
  /** ">=": met when the interval's lower end ≥ value; "<=": when its upper end ≤ value. */
  op: ">=" | "<=";
  /** The bound. */
  value: number;
}

/** A goal and whether this run shows it met. */
export interface GoalReport extends BenchGoal {
  /** The target whose interval it was judged on: `target`, or `fallback` when `target` did not measure it. */
  judgedOn: BenchTarget;
  /** Why it was judged on the fallback (absent when judged on `target`). */
  fallbackReason?: string;
  /** The interval it is judged on (null: not measured in this run). */
  interval: RatioInterval | null;
  /** true: the conservative end clears the bound; false: it does not; null: not measured. */
  met: boolean | null;
}

/**
 * The goals the report judges (issue 15), each naming the target it is judged on: SE-ResNet-20
 * training at least 1.5× PyTorch fp32 (onednn fp32, and separately onednn-bf16); at least PyTorch
 * bf16 autocast's speed, mixed precision against mixed precision (onednn-bf16, falling back to
 * onednn where onednn-bf16 did not run); SE and SGE costing at most 10 % and 25 % in training
 * (onednn fp32, also listed for onednn-bf16); ResNet-50 batch-1 latency at most 0.6× PyTorch's
 * (onednn). A goal is met only when the interval's conservative end clears it, never on the mean.
 */
export const BENCH_GOALS: readonly BenchGoal[] = [
  {
    what: "onednn (fp32) trains SE-ResNet-20 at least 1.5× as fast as PyTorch fp32 (issue 15's floor; its goal is 2.0×)",
    target: "onednn",
    workload: "train:se_resnet20",
    measure: "vsPytorch",
    op: ">=",
    value: 1.5,
  },
  {
    what: "onednn-bf16 trains SE-ResNet-20 at least 1.5× as fast as PyTorch fp32",
    target: ONEDNN_BF16,
    workload: "train:se_resnet20",
    measure: "vsPytorch",
    op: ">=",
    value: 1.5,
  },
  {
    what: "onednn-bf16 trains SE-ResNet-20 at least as fast as PyTorch under bf16 autocast (mixed precision against mixed precision)",
    target: ONEDNN_BF16,
    fallback: "onednn",
    workload: "train:se_resnet20",
    measure: "vsPytorchBf16",
    op: ">=",
    value: 1,
  },
  {
    what: "onednn (fp32) SE training overhead at most 1.10×",
    target: "onednn",
    workload: "train:se_resnet20",
    measure: "overhead",
    op: "<=",
    value: 1.1,
  },
  {
    what: "onednn (fp32) SGE training overhead at most 1.25×",
    target: "onednn",
    workload: "train:sge_resnet20",
    measure: "overhead",
    op: "<=",
    value: 1.25,
  },
  {
    what: "onednn-bf16 SE training overhead at most 1.10×",
    target: ONEDNN_BF16,
    workload: "train:se_resnet20",
    measure: "overhead",
    op: "<=",
    value: 1.1,
  },
  {
    what: "onednn-bf16 SGE training overhead at most 1.25×",
    target: ONEDNN_BF16,
    workload: "train:sge_resnet20",
    measure: "overhead",
    op: "<=",
    value: 1.25,
  },
  {
    // Latency at most 0.6× PyTorch's is throughput at least 1 / 0.6 of it (batch 1: one image a call).
    what: "onednn (fp32) ResNet-50 batch-1 inference latency at most 0.6× PyTorch's (throughput ≥ 1.667×)",
    target: "onednn",
    workload: "infer:resnet50",
    measure: "vsPytorch",
    op: ">=",
    value: 1 / 0.6,
  },
];

/** How the figures were made, in words, so the JSON needs no source code to be read. */
export interface MethodReport {
  /** Rounds each group ran (fewer than asked when --quick's time ran out). */
  rounds: Partial<Record<WorkloadGroup, number>>;
  /** The order of a round. */
  order: string;
  /** The interval. */
  interval: string;
  /** How FLOP are counted. */
  flops: string;
  /** How the matmul and conv peaks are measured and which one a fraction is against (schema 3). */
  peaks?: string;
  /** How kernel calls per training step are counted (schema 3). */
  kernelCalls?: string;
}

/** The whole result file. */
export interface BenchReport {
  /** BENCH_SCHEMA. */
  schema: typeof BENCH_SCHEMA;
  /** Local date of the run, YYYY-MM-DD (the file name). */
  date: string;
  /** ISO time the run started. */
  startedAt: string;
  /** Wall-clock seconds of the whole run. */
  durationSeconds: number;
  /** "full" or "quick". */
  mode: "full" | "quick";
  /** What the reader must know: caps and skips of --quick, machine load, failures. */
  notes: string[];
  /** Where it ran. */
  machine: {
    /** CPU model name (os.cpus()). */
    cpu: string;
    /** Logical cores available to this process. */
    cores: number;
    /** Total memory, GiB. */
    memoryGiB: number;
    /** OS, kernel release, architecture. */
    platform: string;
    /** 1-minute load average at start and end: > cores means other work competed for the CPU. */
    loadAverage: { start: number; end: number };
  };
  /** Versions of what ran. */
  versions: Record<string, string>;
  /** Settings shared by all targets. */
  settings: {
    /** Images per training step. */
    trainBatch: number;
    /** Images per inference call. */
    inferBatch: number;
    /** Batch sizes of the ResNet-20 training sweep. */
    sweepBatches: number[];
    /** SGD learning rate. */
    lr: number;
    /** SGD momentum. */
    momentum: number;
    /** Threads given to PyTorch and the native backends (wasm and cpu use one). */
    threads: number;
    /** [H, W, C] of the training input. */
    trainInput: number[];
    /** [H, W, C] of the inference input. */
    inferInput: number[];
  };
  /** How the figures were made. */
  method: MethodReport;
  /** PyTorch peers first (when run), then the tfjs backends in the order asked. */
  targets: TargetReport[];
  /** Matmul and convolution peaks measured in this run. */
  peak: PeakReport;
  /** The goals, judged on interval ends. */
  goals: GoalReport[];
  /** Every timed burst in the order it ran. */
  schedule: ScheduleEntry[];
}

/** Raw outcome of one target's process, before statistics. */
export interface RawTarget {
  /** Target name. */
  name: BenchTarget;
  /** Whether it ran. */
  available: boolean;
  /** Why not. */
  reason?: string;
  /** Library line. */
  detail?: string;
  /** Threads. */
  threads?: number;
  /** Peak RSS of the process, MiB. */
  processPeakRssMiB?: number | null;
  /** Workloads it was given. */
  planned: Workload[];
  /** Workloads it skipped by plan. */
  skipped: SkippedWorkload[];
  /** Per workload id: the timed milliseconds of each round of its group (null: not run then). */
  rounds: Record<string, (number[] | null)[]>;
  /** Per workload id: why it failed (build, warm-up or a round). */
  errors: Record<string, string>;
  /** Per group: peak RSS of the process while the group was prepared and measured. */
  groupPeakRssMiB: Partial<Record<WorkloadGroup, number | null>>;
  /** Per group: tensors left behind once the group's workloads were released (tfjs; 0 expected). */
  groupTensorsLeaked: Partial<Record<WorkloadGroup, number>>;
  /** Per training workload id: kernel calls of one step (tfjs targets; absent: not counted). */
  kernelCalls?: Record<string, KernelCalls>;
  /** Leak check. */
  leakCheck?: LeakCheckResult;
}

const median = (xs: number[]) => timingStats(xs).medianMs;
const perRound = (w: WorkloadReport): (number | null)[] => w.rounds ?? [];
const inverse = (xs: (number | null)[]) => xs.map((v) => (v == null || v <= 0 ? null : 1 / v));
const intervalOrNull = (xs: number[]) => (xs.length === 0 ? null : ratioInterval(xs));

function workloadReport(
  t: RawTarget,
  w: Workload,
  flopsPerImage: number | undefined,
): WorkloadReport {
  const base = {
    id: w.id,
    kind: w.kind,
    group: w.group,
    model: w.model,
    batch: w.batch,
    warmup: w.plan.warmup,
  };
  if (!t.available) return { ...base, status: "skipped", reason: `${t.name} unavailable` };
  const rounds = t.rounds[w.id] ?? [];
  const ips = rounds.map((ms) => {
    const sum = ms?.reduce((s, v) => s + v, 0) ?? 0;
    return ms && ms.length > 0 && sum > 0 ? (w.batch * ms.length * 1000) / sum : null;
  });
  const all = rounds.flatMap((ms) => ms ?? []);
  const peakRssMiB = t.groupPeakRssMiB[w.group] ?? null;
  const error = t.errors[w.id];
  if (error !== undefined || all.length === 0) {
    return {
      ...base,
      status: "failed",
      reason: error ?? "no timed calls",
      rounds: ips,
      peakRssMiB,
    };
  }
  const timing = timingStats(all);
  const achieved = ips.filter((v): v is number => v !== null);
  const imagesPerSecond = median(achieved);
  return {
    ...base,
    status: "ok",
    rounds: ips,
    timing,
    imagesPerSecond,
    medianMs: timing.medianMs,
    flops:
      flopsPerImage === undefined
        ? null
        : {
            perImage: flopsPerImage,
            achieved: flopsPerImage * imagesPerSecond,
            peakDtype: targetPrecision(t.name),
            peak: null,
            fractionOfPeak: null,
            convPeak: null,
            fractionOfConvPeak: null,
          },
    peakRssMiB,
    ...(t.groupTensorsLeaked[w.group] === undefined
      ? {}
      : { numTensorsLeaked: t.groupTensorsLeaked[w.group] }),
    ...(t.kernelCalls?.[w.id] === undefined ? {} : { kernelCallsPerStep: t.kernelCalls[w.id] }),
  };
}

function overheads(workloads: WorkloadReport[]): Overheads {
  const byId = new Map(workloads.filter((w) => w.status === "ok").map((w) => [w.id, w]));
  const all: Record<string, number> = {};
  const intervals: Record<string, RatioInterval> = {};
  let seTrain: number | null = null;
  let sgeTrain: number | null = null;
  let seInfer: number | null = null;
  for (const w of workloads) {
    const m = /^(se|sge)_(.+)$/.exec(w.model);
    if (!m || w.status !== "ok") continue;
    const plain = byId.get(`${w.kind}:${m[2]}`);
    if (!plain || plain.group !== w.group) continue;
    // Time per image of se_X over X's, round by round (both ran in the same round).
    const r = pairedRatios(inverse(perRound(w)), inverse(perRound(plain)));
    const iv = intervalOrNull(r);
    if (!iv) continue;
    all[w.id] = iv.mean;
    intervals[w.id] = iv;
    if (w.kind === "train" && m[1] === "se") seTrain ??= iv.mean;
    if (w.kind === "train" && m[1] === "sge") sgeTrain ??= iv.mean;
    if (w.kind === "infer" && m[1] === "se") seInfer ??= iv.mean;
  }
  return { seTrain, sgeTrain, seInfer, all, intervals };
}

/**
 * Turns raw per-round timings into target reports: per-round images/s, ratios to the PyTorch
 * peers paired by round, overheads paired within a target's round, FLOP/s against the matmul
 * and conv peaks of `peak`. `flopsPerImage` maps workload ids to FLOP per image (absent: no
 * FLOP figures).
 */
export function buildTargets(
  raw: RawTarget[],
  flopsPerImage: Record<string, number> = {},
  peak: Pick<PeakReport, "fp32" | "bf16" | "conv"> = { fp32: null, bf16: null },
): TargetReport[] {
  const targets: TargetReport[] = raw.map((t) => {
    const order = [...t.planned.map((w) => w.id), ...t.skipped.map((s) => s.id)];
    const reports: WorkloadReport[] = [
      ...t.planned.map((w) => workloadReport(t, w, flopsPerImage[w.id])),
      ...t.skipped.map((s) => ({
        id: s.id,
        kind: s.kind,
        group: s.group,
        model: s.model,
        batch: s.batch,
        warmup: 0,
        status: "skipped" as const,
        reason: s.reason,
      })),
    ].sort(
      (a, b) =>
        WORKLOAD_GROUPS.indexOf(a.group) - WORKLOAD_GROUPS.indexOf(b.group) ||
        order.indexOf(a.id) - order.indexOf(b.id),
    );
    return {
      name: t.name,
      available: t.available,
      ...(t.reason === undefined ? {} : { reason: t.reason }),
      ...(t.detail === undefined ? {} : { detail: t.detail }),
      ...(t.threads === undefined ? {} : { threads: t.threads }),
      ...(t.processPeakRssMiB === undefined ? {} : { processPeakRssMiB: t.processPeakRssMiB }),
      workloads: reports,
      overheads: overheads(reports),
      ...(t.leakCheck ? { leakCheck: t.leakCheck } : {}),
    };
  });
  const okById = (name: BenchTarget) =>
    new Map(
      (targets.find((t) => t.name === name)?.workloads ?? [])
        .filter((w) => w.status === "ok")
        .map((w) => [w.id, w]),
    );
  const fp32 = okById("pytorch");
  const bf16 = okById("pytorch-bf16");
  for (const t of targets) {
    for (const w of t.workloads) {
      if (w.status !== "ok") continue;
      if (w.flops) {
        const p = w.flops.peakDtype === "bf16" ? peak.bf16 : peak.fp32;
        w.flops.peak = p;
        w.flops.fractionOfPeak = p ? w.flops.achieved / p : null;
        const c = peak.conv?.[w.flops.peakDtype] ?? null;
        w.flops.convPeak = c;
        w.flops.fractionOfConvPeak = c ? w.flops.achieved / c : null;
      }
      if (t.name === "pytorch" || t.name === "pytorch-bf16") continue;
      const ref = fp32.get(w.id);
      const speed = ref ? pairedRatios(perRound(w), perRound(ref)) : [];
      const time = ref ? pairedRatios(inverse(perRound(w)), inverse(perRound(ref))) : [];
      w.vsPytorch = intervalOrNull(speed);
      w.speedVsPytorch = w.vsPytorch?.mean ?? null;
      w.timeVsPytorch = time.length ? ratioInterval(time).mean : null;
      const refB = bf16.get(w.id);
      w.vsPytorchBf16 = refB ? intervalOrNull(pairedRatios(perRound(w), perRound(refB))) : null;
    }
  }
  return targets;
}

/** Why `target` has no figure for goal `g` in this run, or null when it has one. */
function whyNotMeasured(targets: TargetReport[], target: BenchTarget, g: BenchGoal): string | null {
  const t = targets.find((x) => x.name === target);
  if (!t) return `${target} was not in this run`;
  if (!t.available) return `${target} was unavailable (${t.reason ?? "no reason given"})`;
  const w = t.workloads.find((x) => x.id === g.workload);
  if (!w) return `${target} did not run ${g.workload}`;
  if (w.status !== "ok")
    return `${target} ${g.workload} ${w.status}${w.reason ? ` (${w.reason})` : ""}`;
  return null;
}

/**
 * Judges each goal on its interval's conservative end (lower for ≥, upper for ≤), on the goal's
 * target, or on its fallback where the target did not measure the workload (saying why).
 */
export function judgeGoals(
  targets: TargetReport[],
  goals: readonly BenchGoal[] = BENCH_GOALS,
): GoalReport[] {
  return goals.map((g) => {
    const why = whyNotMeasured(targets, g.target, g);
    const useFallback = why !== null && g.fallback !== undefined;
    const judgedOn = useFallback ? g.fallback! : g.target;
    const t = targets.find((x) => x.name === judgedOn);
    const w = t?.workloads.find((x) => x.id === g.workload);
    const interval =
      (g.measure === "overhead" ? t?.overheads.intervals[g.workload] : w?.[g.measure]) ?? null;
    const end = interval ? (g.op === ">=" ? interval.lo : interval.hi) : Number.NaN;
    const met =
      !interval || !Number.isFinite(end) ? null : g.op === ">=" ? end >= g.value : end <= g.value;
    return {
      ...g,
      judgedOn,
      ...(useFallback ? { fallbackReason: `${why}; judged on ${judgedOn}` } : {}),
      interval,
      met,
    };
  });
}

/**
 * Problems with a parsed report (empty when it matches its schema); used by tests and readers.
 * Files of schema 1 (results/bench/2026-11-23*.json) are still read: checked against schema 1's
 * fields, without the rounds, intervals and peaks schema 2 adds; files of schema 2
 * (2026-12-08-before-fusion.json) without the conv peaks, kernel counts and goal targets schema 3 adds.
 */
export function checkBenchReport(value: unknown): string[] {
  const problems: string[] = [];
  const r = value as Partial<BenchReport> | null;
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  const numOrNaN = (v: unknown) => typeof v === "number" || v === null; // JSON writes NaN as null
  need(r !== null && typeof r === "object", "report is not an object");
  if (!r || typeof r !== "object") return problems;
  const v1 = (r.schema as string) === BENCH_SCHEMA_V1;
  const v2 = (r.schema as string) === BENCH_SCHEMA_V2;
  need(
    r.schema === BENCH_SCHEMA || v1 || v2,
    `schema must be ${BENCH_SCHEMA} (or ${BENCH_SCHEMA_V2}, ${BENCH_SCHEMA_V1})`,
  );
  need(typeof r.date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(r.date), "date must be YYYY-MM-DD");
  need(
    typeof r.startedAt === "string" && !Number.isNaN(Date.parse(r.startedAt)),
    "startedAt must be an ISO time",
  );
  need(num(r.durationSeconds), "durationSeconds must be a number");
  need(r.mode === "full" || r.mode === "quick", "mode must be full or quick");
  need(
    Array.isArray(r.notes) && r.notes.every((n) => typeof n === "string"),
    "notes must be strings",
  );
  const m = r.machine;
  need(
    !!m &&
      typeof m.cpu === "string" &&
      num(m.cores) &&
      num(m.memoryGiB) &&
      num(m.loadAverage?.start),
    "machine needs cpu, cores, memoryGiB, loadAverage",
  );
  need(
    !!r.versions &&
      typeof r.versions.node === "string" &&
      typeof r.versions["@tensorflow/tfjs"] === "string",
    "versions needs node and @tensorflow/tfjs",
  );
  need(
    !!r.settings && num(r.settings.trainBatch) && num(r.settings.threads),
    "settings incomplete",
  );
  need(Array.isArray(r.targets) && r.targets.length > 0, "targets must be a non-empty list");
  if (!v1) {
    need(
      !!r.method && typeof r.method.interval === "string" && typeof r.method.rounds === "object",
      "method must say the rounds and the interval",
    );
    need(
      !!r.peak && Array.isArray(r.peak.measurements) && numOrNaN(r.peak.fp32),
      "peak must list measurements and the fp32 peak",
    );
    need(Array.isArray(r.goals), "goals must be a list");
    if (!v2) {
      need(
        !!r.peak?.conv && numOrNaN(r.peak.conv.fp32) && numOrNaN(r.peak.conv.bf16),
        "peak.conv must give the fp32 and bf16 conv peaks (null where not measured)",
      );
      need(
        Array.isArray(r.peak?.measurements) &&
          r.peak!.measurements.every((m) => m.op === "matmul" || m.op === "conv"),
        'every peak measurement must say its op ("matmul" or "conv")',
      );
      need(
        Array.isArray(r.goals) && r.goals.every((g) => typeof g.judgedOn === "string"),
        "every goal must say the target it was judged on (judgedOn)",
      );
      need(
        typeof r.method?.peaks === "string" && typeof r.method?.kernelCalls === "string",
        "method must say how peaks and kernel calls are measured",
      );
    }
    need(
      Array.isArray(r.schedule) &&
        r.schedule.every((e) => typeof e.id === "string" && num(e.round)),
      "schedule must list the timed bursts",
    );
  }
  const interval = (iv: unknown) => {
    if (iv === null || iv === undefined) return true;
    const x = iv as RatioInterval;
    return num(x.mean) && numOrNaN(x.lo) && numOrNaN(x.hi) && num(x.n);
  };
  for (const t of r.targets ?? []) {
    const where = `target ${String(t?.name)}`;
    need(
      typeof t.name === "string" && typeof t.available === "boolean",
      `${where}: name/available`,
    );
    need(t.available || typeof t.reason === "string", `${where}: unavailable without a reason`);
    need(Array.isArray(t.workloads), `${where}: workloads must be a list`);
    need(!!t.overheads && typeof t.overheads.all === "object", `${where}: overheads missing`);
    for (const w of t.workloads ?? []) {
      const ww = `${where} ${String(w?.id)}`;
      need(
        /^(train|infer):/.test(w.id) && (w.kind === "train" || w.kind === "infer"),
        `${ww}: id/kind`,
      );
      need(["ok", "skipped", "failed"].includes(w.status), `${ww}: status`);
      if (w.status === "ok") {
        need(num(w.medianMs) && w.medianMs! > 0, `${ww}: medianMs`);
        need(num(w.imagesPerSecond) && w.imagesPerSecond! > 0, `${ww}: imagesPerSecond`);
        need(!!w.timing && num(w.timing.n) && w.timing.n >= 1, `${ww}: timing`);
        need(
          w.speedVsPytorch === undefined || w.speedVsPytorch === null || num(w.speedVsPytorch),
          `${ww}: speedVsPytorch`,
        );
        need(w.peakRssMiB === null || num(w.peakRssMiB), `${ww}: peakRssMiB`);
        if (!v1) {
          need(Array.isArray(w.rounds) && w.rounds.length > 0, `${ww}: rounds`);
          need(interval(w.vsPytorch) && interval(w.vsPytorchBf16), `${ww}: intervals`);
        }
        const kc = w.kernelCallsPerStep;
        need(
          kc === undefined ||
            (num(kc.total) &&
              kc.total > 0 &&
              Object.values(kc.byName ?? {}).reduce((a, b) => a + b, 0) === kc.total),
          `${ww}: kernelCallsPerStep must give a total > 0 equal to the sum by name`,
        );
      } else {
        need(
          typeof w.reason === "string" && w.reason !== "",
          `${ww}: ${w.status} without a reason`,
        );
      }
    }
  }
  return problems;
}

const fmt = (v: number | null | undefined, digits = 1) =>
  v == null || !Number.isFinite(v) ? "–" : v >= 100 ? v.toFixed(0) : v.toFixed(digits);
const gflops = (v: number | null | undefined) =>
  v == null || !Number.isFinite(v) ? "–" : `${(v / 1e9).toFixed(1)} GFLOP/s`;
const pct = (v: number | null | undefined) =>
  v == null || !Number.isFinite(v) ? "–" : `${(v * 100).toFixed(1)} %`;

function aligned(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/**
 * The human-readable report: a table of images/s (or latency) per workload and target, then
 * every ratio and overhead with its interval, the batch sweep, the fraction of the measured
 * peak, and the goals judged on interval ends.
 */
export function formatBenchTable(report: BenchReport): string {
  const targets = report.targets;
  const ids: string[] = [];
  for (const t of targets) {
    for (const w of t.workloads) if (w.group !== "sweep" && !ids.includes(w.id)) ids.push(w.id);
  }
  const header = ["workload", ...targets.map((t) => (t.available ? t.name : `${t.name} (n/a)`))];
  const rows: string[][] = [];
  for (const id of ids) {
    const any = targets.flatMap((t) => t.workloads).find((w) => w.id === id)!;
    rows.push([
      `${any.kind} ${any.model} b${any.batch}`,
      ...targets.map((t) => {
        const w = t.workloads.find((x) => x.id === id);
        if (!w) return "";
        if (w.status !== "ok") return w.status;
        // Training and batched inference are throughput (img/s); batch-1 inference is latency.
        const main =
          w.kind === "train" || w.batch > 1
            ? `${fmt(w.imagesPerSecond)} img/s`
            : `${fmt(w.medianMs)} ms`;
        return w.vsPytorch ? `${main} (${fmt(w.vsPytorch.mean, 2)}×)` : main;
      }),
    ]);
  }
  rows.push([
    "SE / SGE train overhead",
    ...targets.map((t) =>
      t.overheads.seTrain === null && t.overheads.sgeTrain === null
        ? ""
        : `${fmt(t.overheads.seTrain, 2)}× / ${fmt(t.overheads.sgeTrain, 2)}×`,
    ),
  ]);
  rows.push([
    "peak RSS (MiB)",
    ...targets.map((t) => (t.processPeakRssMiB == null ? "" : fmt(t.processPeakRssMiB, 0))),
  ]);
  if (targets.some((t) => t.leakCheck)) {
    rows.push([
      "leak check",
      ...targets.map((t) => {
        const lc = t.leakCheck;
        if (!lc) return "";
        return `${lc.steps} steps: tensors ${lc.numTensorsFlat ? "flat" : "GROW"}, RSS ${lc.rssGrowthMiB >= 0 ? "+" : ""}${fmt(lc.rssGrowthMiB, 0)} MiB`;
      }),
    ]);
  }
  const rounds = Object.entries(report.method.rounds)
    .map(([g, n]) => `${g} ${n}`)
    .join(", ");
  const out = [
    `senet-lab bench (${report.mode}) ${report.date} on ${report.machine.cpu}, ${report.machine.cores} cores, load ${report.machine.loadAverage.start.toFixed(1)}→${report.machine.loadAverage.end.toFixed(1)}`,
    `method: ${report.method.order}; rounds: ${rounds}; ${report.method.interval}`,
    "train and batched infer: median per-round images/s; batch-1 infer: median latency; (×): geometric mean of the per-round images/s ratios to PyTorch fp32",
    "",
    ...aligned(header, rows),
  ];
  const ratioLines: string[] = [];
  for (const t of targets) {
    for (const w of t.workloads) {
      if (w.status !== "ok" || w.group === "sweep") continue;
      if (w.vsPytorch) {
        ratioLines.push(
          `${t.name} ${w.id}: ratio ${formatInterval(w.vsPytorch)} vs PyTorch fp32${w.vsPytorchBf16 ? `; ${formatInterval(w.vsPytorchBf16)} vs PyTorch bf16` : ""}`,
        );
      }
    }
    for (const [id, iv] of Object.entries(t.overheads.intervals)) {
      ratioLines.push(`${t.name} ${id} overhead over the plain network: ${formatInterval(iv)}`);
    }
  }
  if (ratioLines.length) {
    out.push(
      "",
      "images/s ratios (ours / peer, per round) and time overheads (attention / plain, per round), geometric mean [95 % t interval on the log scale]:",
      ...ratioLines,
    );
  }
  const sweepModel = targets.flatMap((t) => t.workloads).find((w) => w.group === "sweep")?.model;
  if (sweepModel) {
    const batches = [...report.settings.sweepBatches].sort((a, b) => a - b);
    const cell = (t: TargetReport, b: number) => {
      const w = t.workloads.find(
        (x) => x.kind === "train" && x.model === sweepModel && x.batch === b,
      );
      if (!w) return "";
      if (w.status !== "ok") return w.status;
      return `${fmt(w.imagesPerSecond)}${w.vsPytorch ? ` (${fmt(w.vsPytorch.lo, 2)}–${fmt(w.vsPytorch.hi, 2)}×)` : ""}`;
    };
    out.push(
      "",
      `batch sweep: train ${sweepModel}, median per-round images/s (95 % interval of the ratio to PyTorch fp32)`,
      ...aligned(
        ["batch", ...targets.map((t) => t.name)],
        batches.map((b) => [String(b), ...targets.map((t) => cell(t, b))]),
      ),
    );
  }
  const kcTargets = targets.filter((t) => t.workloads.some((w) => w.kernelCallsPerStep));
  if (kcTargets.length) {
    const kcIds: string[] = [];
    for (const t of kcTargets) {
      for (const w of t.workloads)
        if (w.kernelCallsPerStep && !kcIds.includes(w.id)) kcIds.push(w.id);
    }
    out.push(
      "",
      "kernel calls per training step (tf.profile of one untimed step after warm-up; method.kernelCalls in the JSON):",
      ...aligned(
        ["workload", ...kcTargets.map((t) => t.name)],
        kcIds.map((id) => [
          id,
          ...kcTargets.map((t) => {
            const kc = t.workloads.find((x) => x.id === id)?.kernelCallsPerStep;
            return kc ? String(kc.total) : "";
          }),
        ]),
      ),
    );
  }
  const pk = report.peak;
  out.push(
    "",
    `peaks in this run: matmul (best n×n) fp32 ${gflops(pk.fp32)}, bf16 ${gflops(pk.bf16)}; convolution fp32 ${gflops(pk.conv?.fp32)}, bf16 ${gflops(pk.conv?.bf16)}; ${report.method.flops}`,
  );
  if (report.method.peaks) out.push(report.method.peaks);
  for (const m of pk.measurements) {
    const what =
      m.op === "conv" && m.conv
        ? `conv ${m.conv.kernel}×${m.conv.kernel} ${m.conv.inChannels}→${m.conv.outChannels} on ${m.conv.size}×${m.conv.size} b${m.conv.batch}`
        : `matmul ${m.size}`;
    out.push(
      `  ${m.target} ${m.dtype} ${what}: ${gflops(m.start)} at start, ${gflops(m.end)} at end${m.reason ? ` (${m.reason})` : ""}`,
    );
  }
  const fracRows: string[][] = [];
  for (const id of ids) {
    const any = targets.flatMap((t) => t.workloads).find((w) => w.id === id)!;
    fracRows.push([
      `${any.kind} ${any.model} b${any.batch}`,
      ...targets.map((t) => {
        const w = t.workloads.find((x) => x.id === id);
        if (!w?.flops) return "";
        const conv =
          w.flops.convPeak === undefined ? "" : `, ${pct(w.flops.fractionOfConvPeak)} of conv`;
        return `${gflops(w.flops.achieved)} = ${pct(w.flops.fractionOfPeak)} of ${w.flops.peakDtype} matmul${conv}`;
      }),
    ]);
  }
  out.push(...aligned(["achieved FLOP/s", ...targets.map((t) => t.name)], fracRows));
  if (report.goals.length) {
    out.push("", "goals (met only when the interval's conservative end clears the bound):");
    for (const g of report.goals) {
      const verdict = g.met === null ? "not measured" : g.met ? "MET" : "not met";
      const end = g.op === ">=" ? "lower end" : "upper end";
      const on = g.judgedOn === undefined ? "" : ` [judged on ${g.judgedOn}]`;
      out.push(
        `  ${g.what} (${end} ${g.op} ${Number(g.value.toFixed(3))})${on}: ${verdict}${g.interval ? `, ${formatInterval(g.interval)}` : ""}${g.fallbackReason ? `; ${g.fallbackReason}` : ""}`,
      );
    }
  }
  for (const t of targets) if (!t.available) out.push(`${t.name}: unavailable: ${t.reason}`);
  for (const t of targets) {
    for (const w of t.workloads) {
      if (w.status === "failed") out.push(`${t.name} ${w.id} failed: ${w.reason}`);
    }
  }
  if (report.notes.length) out.push("", ...report.notes.map((n) => `note: ${n}`));
  return out.join("\n");
}
