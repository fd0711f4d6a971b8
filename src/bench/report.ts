/**
 * The benchmark's result file (results/bench/<date>.json): its schema, how raw child results
 * become it (statistics, ratios to PyTorch, SE/SGE overheads), a schema check, and the table
 * `senet-lab bench` prints.
 */
import type { LeakCheckResult } from "./leak-check.js";
import { type TimingStats, timingStats } from "./measure.js";
import type { BenchTarget, SkippedWorkload, Workload } from "./plan.js";
import type { WorkerWorkloadResult } from "./protocol.js";

/** Identifies the file format; bump on incompatible changes. */
export const BENCH_SCHEMA = "senet-lab/bench@1";

/** One workload on one target. */
export interface WorkloadReport {
  /** "train:<model>" or "infer:<model>". */
  id: string;
  /** Training step or inference. */
  kind: "train" | "infer";
  /** Preset name. */
  model: string;
  /** Images per call. */
  batch: number;
  /** ok: measured; skipped: not run (reason says why); failed: threw (reason is the error). */
  status: "ok" | "skipped" | "failed";
  /** Why skipped or failed. */
  reason?: string;
  /** Warm-up calls before timing. */
  warmup: number;
  /** Timing statistics (status ok only). */
  timing?: TimingStats;
  /** Images per second at the median (status ok only). */
  imagesPerSecond?: number;
  /** Median milliseconds per call: step time (train) or latency (infer) (status ok only). */
  medianMs?: number;
  /** This target's images/s over PyTorch's (>1: faster than PyTorch); null without a PyTorch figure. */
  speedVsPytorch?: number | null;
  /** This target's median time over PyTorch's (<1: faster); the latency ratio. */
  timeVsPytorch?: number | null;
  /** Peak RSS while this workload ran, MiB (null where not measurable). */
  peakRssMiB?: number | null;
  /** Tensors left behind by the workload (tfjs targets; 0 expected). */
  numTensorsLeaked?: number;
}

/** SE / SGE cost relative to the plain network on the same target. */
export interface Overheads {
  /** Median step time of se_X over X, for the first trained pair (issue target <= 1.10). */
  seTrain: number | null;
  /** Median step time of sge_X over X, for the first trained pair. */
  sgeTrain: number | null;
  /** Median latency of se_X over X, for the first inference pair. */
  seInfer: number | null;
  /** Every attention/plain pair found: id of the attention workload → time ratio. */
  all: Record<string, number>;
}

/** One backend (or PyTorch) in the report. */
export interface TargetReport {
  /** tfjs backend name, or "pytorch". */
  name: BenchTarget;
  /** Whether it could run here. */
  available: boolean;
  /** Why not. */
  reason?: string;
  /** Library and version line. */
  detail?: string;
  /** Threads it used. */
  threads?: number;
  /** Peak RSS of its whole child process, MiB. */
  processPeakRssMiB?: number | null;
  /** Per-workload results, in plan order. */
  workloads: WorkloadReport[];
  /** SE / SGE overhead ratios. */
  overheads: Overheads;
  /** The 1000-step leak check, when asked for (tfjs targets). */
  leakCheck?: LeakCheckResult;
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
  /** PyTorch first (when run), then the tfjs backends in the order asked. */
  targets: TargetReport[];
}

/** Raw outcome of one target's child process, before statistics. */
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
  /** Peak RSS of the child, MiB. */
  processPeakRssMiB?: number | null;
  /** Workloads it was given. */
  planned: Workload[];
  /** Workloads it skipped by plan. */
  skipped: SkippedWorkload[];
  /** Raw results by workload id. */
  results: WorkerWorkloadResult[];
  /** Leak check. */
  leakCheck?: LeakCheckResult;
}

function workloadReport(w: Workload, r: WorkerWorkloadResult | undefined): WorkloadReport {
  const base = { id: w.id, kind: w.kind, model: w.model, batch: w.batch, warmup: w.plan.warmup };
  if (!r) return { ...base, status: "failed", reason: "no result from the child process" };
  if (r.skipped) return { ...base, status: "skipped", reason: r.skipped };
  if (r.error !== undefined || r.timesMs.length === 0) {
    return {
      ...base,
      status: "failed",
      reason: r.error ?? "no timed calls",
      peakRssMiB: r.peakRssMiB,
    };
  }
  const timing = timingStats(r.timesMs);
  return {
    ...base,
    status: "ok",
    timing,
    medianMs: timing.medianMs,
    imagesPerSecond: (w.batch * 1000) / timing.medianMs,
    peakRssMiB: r.peakRssMiB,
    ...(r.numTensorsLeaked === undefined ? {} : { numTensorsLeaked: r.numTensorsLeaked }),
  };
}

function overheads(workloads: WorkloadReport[]): Overheads {
  const byId = new Map(workloads.filter((w) => w.status === "ok").map((w) => [w.id, w]));
  const all: Record<string, number> = {};
  let seTrain: number | null = null;
  let sgeTrain: number | null = null;
  let seInfer: number | null = null;
  for (const w of workloads) {
    const m = /^(se|sge)_(.+)$/.exec(w.model);
    if (!m || w.status !== "ok") continue;
    const plain = byId.get(`${w.kind}:${m[2]}`);
    if (!plain?.medianMs || !w.medianMs) continue;
    const ratio = w.medianMs / plain.medianMs;
    all[w.id] = ratio;
    if (w.kind === "train" && m[1] === "se") seTrain ??= ratio;
    if (w.kind === "train" && m[1] === "sge") sgeTrain ??= ratio;
    if (w.kind === "infer" && m[1] === "se") seInfer ??= ratio;
  }
  return { seTrain, sgeTrain, seInfer, all };
}

/** Turns raw child outcomes into target reports with ratios to PyTorch (when it ran). */
export function buildTargets(raw: RawTarget[]): TargetReport[] {
  const targets: TargetReport[] = raw.map((t) => {
    const byId = new Map(t.results.map((r) => [r.id, r]));
    const order = [...t.planned.map((w) => w.id), ...t.skipped.map((s) => s.id)];
    const reports: WorkloadReport[] = [
      ...t.planned.map((w) =>
        t.available
          ? workloadReport(w, byId.get(w.id))
          : {
              id: w.id,
              kind: w.kind,
              model: w.model,
              batch: w.batch,
              warmup: w.plan.warmup,
              status: "skipped" as const,
              reason: `${t.name} unavailable`,
            },
      ),
      ...t.skipped.map((s) => ({
        id: s.id,
        kind: s.kind,
        model: s.model,
        batch: s.batch,
        warmup: 0,
        status: "skipped" as const,
        reason: s.reason,
      })),
    ].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
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
  const torch = targets.find((t) => t.name === "pytorch");
  const torchById = new Map(
    (torch?.workloads ?? []).filter((w) => w.status === "ok").map((w) => [w.id, w]),
  );
  for (const t of targets) {
    for (const w of t.workloads) {
      if (w.status !== "ok") continue;
      const ref = torchById.get(w.id);
      const comparable = ref?.medianMs && ref.batch === w.batch;
      w.speedVsPytorch = comparable ? w.imagesPerSecond! / ref.imagesPerSecond! : null;
      w.timeVsPytorch = comparable ? w.medianMs! / ref.medianMs! : null;
    }
  }
  return targets;
}

/** Problems with a parsed report (empty when it matches the schema); used by tests and readers. */
export function checkBenchReport(value: unknown): string[] {
  const problems: string[] = [];
  const r = value as Partial<BenchReport> | null;
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  need(r !== null && typeof r === "object", "report is not an object");
  if (!r || typeof r !== "object") return problems;
  need(r.schema === BENCH_SCHEMA, `schema must be ${BENCH_SCHEMA}`);
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
        need(w.speedVsPytorch === null || num(w.speedVsPytorch), `${ww}: speedVsPytorch`);
        need(w.peakRssMiB === null || num(w.peakRssMiB), `${ww}: peakRssMiB`);
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

/** The human-readable table: one row per workload, one column per target. */
export function formatBenchTable(report: BenchReport): string {
  const targets = report.targets;
  const ids: string[] = [];
  for (const t of targets) for (const w of t.workloads) if (!ids.includes(w.id)) ids.push(w.id);
  const header = ["workload", ...targets.map((t) => (t.available ? t.name : `${t.name} (n/a)`))];
  const rows: string[][] = [];
  for (const id of ids) {
    const any = targets.flatMap((t) => t.workloads).find((w) => w.id === id)!;
    const label = `${any.kind} ${any.model} b${any.batch}`;
    rows.push([
      label,
      ...targets.map((t) => {
        const w = t.workloads.find((x) => x.id === id);
        if (!w) return "";
        if (w.status !== "ok") return w.status;
        const main =
          w.kind === "train" ? `${fmt(w.imagesPerSecond)} img/s` : `${fmt(w.medianMs)} ms`;
        const ratio =
          t.name === "pytorch" || w.speedVsPytorch == null
            ? ""
            : w.kind === "train"
              ? ` (${fmt(w.speedVsPytorch, 2)}x)`
              : ` (${fmt(w.timeVsPytorch, 2)}x)`;
        return `${main}${ratio}`;
      }),
    ]);
  }
  rows.push([
    "SE / SGE train overhead",
    ...targets.map((t) =>
      t.overheads.seTrain === null && t.overheads.sgeTrain === null
        ? ""
        : `${fmt(t.overheads.seTrain, 2)}x / ${fmt(t.overheads.sgeTrain, 2)}x`,
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const out = [
    `senet-lab bench (${report.mode}) ${report.date} on ${report.machine.cpu}, ${report.machine.cores} cores, load ${report.machine.loadAverage.start.toFixed(1)}→${report.machine.loadAverage.end.toFixed(1)}`,
    "train: images/s (x PyTorch's images/s); infer: median latency (x PyTorch's latency)",
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ];
  for (const t of targets) if (!t.available) out.push(`${t.name}: unavailable: ${t.reason}`);
  for (const t of targets) {
    for (const w of t.workloads) {
      if (w.status === "failed") out.push(`${t.name} ${w.id} failed: ${w.reason}`);
    }
  }
  if (report.notes.length) out.push("", ...report.notes.map((n) => `note: ${n}`));
  return out.join("\n");
}
