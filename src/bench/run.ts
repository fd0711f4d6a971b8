/**
 * `runBench`: the benchmark end to end. Every target keeps one persistent process (one
 * python process serving both PyTorch peers, fp32 and autocast bf16; one node process per tfjs
 * backend). Workloads are measured group by group (training, batch sweep, inference): each
 * process builds and warms the group's workloads, then the driver runs rounds, and in each round
 * every workload on every target in turn (PyTorch, PyTorch bf16, onednn, …, then the next
 * workload), so slow drift of the machine hits every side of a ratio alike. Per-round figures
 * give paired ratios with t intervals (src/bench/stats.ts). A matmul peak and a convolution peak
 * are measured at the start and the end of the run; a training step's tfjs kernel calls are
 * counted once per workload when it is prepared. The result goes to results/bench/<YYYY-MM-DD>.json (atomic).
 */
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend/index.js";
import { countComplexity } from "../complexity/index.js";
import { SYSTEM_PYTHON } from "../setup/system.js";
import { PROJECT_ROOT, writeJsonAtomic } from "../util/fs.js";
import { type BenchOptions, resolveBenchOptions } from "./options.js";
import {
  type BenchTarget,
  CPU_FULL_ROUNDS,
  MODE_ROUNDS,
  ONEDNN_BF16,
  planWorkloads,
  QUICK_DEADLINE_SECONDS,
  QUICK_GROUP_SHARE,
  TORCH_TARGETS,
  targetPrecision,
  WORKLOAD_GROUPS,
  type Workload,
  type WorkloadGroup,
} from "./plan.js";
import type { ConvPeakShape, ServePrecision } from "./protocol.js";
import {
  BENCH_SCHEMA,
  type BenchReport,
  buildTargets,
  judgeGoals,
  type PeakMeasurement,
  type RawTarget,
  type ScheduleEntry,
} from "./report.js";
import { MeasureProcess } from "./session.js";
import { BENCH_CONFIDENCE } from "./stats.js";

const require = createRequire(import.meta.url);

/** The worker script each backend's persistent process runs (`--serve <backend>`). */
export const WORKER_SCRIPT = path.join(PROJECT_ROOT, "src", "bench", "worker.ts");

/** The script serving both PyTorch peers (`--serve <threads>`). */
export const TORCH_SCRIPT = path.join(PROJECT_ROOT, "scripts", "bench", "torch_bench.py");

/** n of the peak's n×n×n matmul: PyTorch and the native backends (big enough to saturate BLAS). */
export const PEAK_SIZE = 2048;
/** n of the peak matmul on the wasm and pure-JS cpu backends (informational; minutes at 2048). */
export const PEAK_SIZE_SLOW = 512;

/**
 * The conv peak's convolution: 3×3, 64→64 channels on 56×56 at batch 32 (ResNet-50's first
 * stage, 7.4 GFLOP a call), compute-bound enough to show what a convolution can reach here.
 */
export const CONV_PEAK_SHAPE: ConvPeakShape = {
  batch: 32,
  size: 56,
  inChannels: 64,
  outChannels: 64,
  kernel: 3,
};

/** Targets that measure the conv peak: PyTorch (both dtypes) and the native tfjs targets. */
const CONV_PEAK_TARGETS: readonly BenchTarget[] = ["pytorch", "tensorflow", "onednn", ONEDNN_BF16];

/** Progress hooks of a run. */
export interface BenchHooks {
  /** One line of progress (children's stderr, phase changes). Default: stderr. */
  log?: (line: string) => void;
}

/** What runBench returns: the report and where it was written (null if not written). */
export interface BenchRun {
  /** The result, as written to the file. */
  report: BenchReport;
  /** Absolute path of results/bench/<date>.json, or null with outDir null. */
  file: string | null;
}

function localDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function pkgVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

/** One target's side of the run: its process (shared by the two PyTorch peers) and records. */
interface Side {
  raw: RawTarget;
  proc: MeasureProcess | null;
  precision?: ServePrecision;
  /** Workload ids prepared in the current group (failed ones removed). */
  ready: Set<string>;
}

/** FLOP per image of each workload: training 3 × forward MACs × 2, inference MACs × 2. */
function flopsPerImage(workloads: Workload[], opts: BenchOptions): Record<string, number> {
  const out: Record<string, number> = {};
  const macs = new Map<string, number>();
  for (const w of workloads) {
    const key = `${w.kind}:${w.model}`;
    if (!macs.has(key)) {
      const overrides = w.kind === "train" ? opts.trainOverrides : opts.inferOverrides;
      macs.set(key, countComplexity(w.model, overrides).macs);
    }
    out[w.id] = (w.kind === "train" ? 6 : 2) * macs.get(key)!;
  }
  return out;
}

/**
 * Runs the benchmark. Options are validated (and every model name resolved) before anything
 * is started; unavailable backends and a missing PyTorch are reported, not thrown.
 */
export async function runBench(
  raw: Partial<BenchOptions> | Record<string, unknown> = {},
  hooks: BenchHooks = {},
): Promise<BenchRun> {
  const opts = resolveBenchOptions(raw);
  const log = hooks.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const names: BenchTarget[] = [
    ...(opts.torch ? (opts.torchBf16 ? TORCH_TARGETS : (["pytorch"] as const)) : []),
    ...opts.backends,
  ];
  // Resolve every model now: a bad name or override fails before any process starts.
  const plans = new Map(names.map((n) => [n, planWorkloads(opts, n)] as const));
  const started = new Date();
  const load0 = os.loadavg()[0]!;
  const mode = opts.quick ? "quick" : "full";
  const deadline = opts.quick ? started.getTime() + QUICK_DEADLINE_SECONDS * 1000 : null;
  const cmdTimeout = () =>
    deadline === null ? null : Math.max(60_000, deadline - Date.now() + 60_000);
  const versions: Record<string, string> = {
    node: process.versions.node,
    "senet-lab": pkgVersion("senet-lab"),
    "@tensorflow/tfjs": tf.version.tfjs,
    "@tensorflow/tfjs-backend-wasm": pkgVersion("@tensorflow/tfjs-backend-wasm"),
  };
  const notes: string[] = [];

  // FLOP counts come from the project's complexity counter, on the cpu backend in this process.
  let flops: Record<string, number> = {};
  try {
    await initBackend("cpu", { quiet: true });
    flops = flopsPerImage(
      [...new Map([...plans.values()].flatMap((p) => p.run).map((w) => [w.id, w])).values()],
      opts,
    );
  } catch (err) {
    notes.push(`no FLOP figures: ${err instanceof Error ? err.message : String(err)}`);
  }

  // Start the processes: one python for both PyTorch peers, one node per backend.
  const sides: Side[] = [];
  let torchProc: MeasureProcess | null = null;
  for (const name of names) {
    const { run, skipped } = plans.get(name)!;
    const rawT: RawTarget = {
      name,
      available: true,
      planned: run,
      skipped,
      rounds: {},
      errors: {},
      groupPeakRssMiB: {},
      groupTensorsLeaked: {},
      kernelCalls: {},
    };
    let proc: MeasureProcess | null = null;
    if (name === "pytorch" || name === "pytorch-bf16") {
      torchProc ??= new MeasureProcess(
        "pytorch",
        SYSTEM_PYTHON,
        [TORCH_SCRIPT, "--serve", String(opts.threads)],
        {
          cwd: PROJECT_ROOT,
          // OMP/MKL thread pools follow torch.set_num_threads; keep BLAS from oversubscribing too.
          env: { ...process.env, OMP_NUM_THREADS: String(opts.threads) },
          log,
        },
      );
      proc = torchProc;
    } else if (run.length > 0 || opts.leakCheck > 0) {
      log(`[bench] ${name}: starting its measurement process`);
      proc = new MeasureProcess(
        name,
        process.execPath,
        ["--import", "tsx", WORKER_SCRIPT, "--serve", name],
        {
          cwd: PROJECT_ROOT,
          env: { ...process.env, SENET_LAB_QUIET: "1", SENET_LAB_THREADS: String(opts.threads) },
          log,
        },
      );
    }
    sides.push({
      raw: rawT,
      proc,
      ...(name === "pytorch-bf16" ? { precision: "bf16" as const } : {}),
      ...(name === "pytorch" ? { precision: "fp32" as const } : {}),
      ready: new Set(),
    });
  }
  for (const s of sides) {
    if (!s.proc) {
      s.raw.detail = "not run (every workload skipped)";
      continue;
    }
    const info = await s.proc.request({ cmd: "info" }, 180_000);
    if (!info.ok || info.available === false) {
      s.raw.available = false;
      let why = info.reason ?? info.error ?? "no answer";
      if (/No module named 'torch'/.test(s.proc.stderr)) {
        why = `PyTorch is not installed for ${SYSTEM_PYTHON} (Debian: apt-get install -y python3-torch)`;
      }
      s.raw.reason = why;
      continue;
    }
    if (info.detail !== undefined) {
      s.raw.detail = s.precision === "bf16" ? `${info.detail}, torch.autocast bf16` : info.detail;
    }
    if (info.threads !== undefined) s.raw.threads = info.threads;
    if (info.versions) Object.assign(versions, info.versions);
  }
  const live = (s: Side) => s.raw.available && s.proc !== null && s.proc.deadReason === null;

  // The machine's limits in this run: best matmul FLOP/s and best convolution FLOP/s, at the
  // start and again at the end. The PyTorch process measures both dtypes (for both peers);
  // onednn-bf16 measures only the conv (its matmul is onednn's fp32 one).
  const peaks: PeakMeasurement[] = [];
  const measurePeaks = async (when: "start" | "end") => {
    const seconds = opts.quick ? 0.5 : 1.5;
    for (const s of sides) {
      if (!live(s) || s.raw.name === "pytorch-bf16") continue;
      const name = s.raw.name;
      const dtypes: ServePrecision[] =
        name === "pytorch"
          ? opts.torchBf16
            ? ["fp32", "bf16"]
            : ["fp32"]
          : [targetPrecision(name)];
      for (const op of ["matmul", "conv"] as const) {
        if (op === "matmul" && name === ONEDNN_BF16) continue;
        if (op === "conv" && !CONV_PEAK_TARGETS.includes(name)) continue;
        for (const dtype of dtypes) {
          const size =
            op === "conv"
              ? CONV_PEAK_SHAPE.size
              : name === "wasm" || name === "cpu"
                ? PEAK_SIZE_SLOW
                : PEAK_SIZE;
          let m = peaks.find((p) => p.target === name && p.dtype === dtype && p.op === op);
          if (!m) {
            m = {
              target: name,
              op,
              dtype,
              size,
              ...(op === "conv" ? { conv: CONV_PEAK_SHAPE } : {}),
              start: null,
              end: null,
            };
            peaks.push(m);
          }
          const r = await s.proc!.request(
            op === "matmul"
              ? { cmd: "peak", size, dtype, seconds }
              : { cmd: "convPeak", shape: CONV_PEAK_SHAPE, dtype, seconds },
            cmdTimeout(),
          );
          m[when] = r.ok ? (r.flopPerSecond ?? null) : null;
          const why = r.ok ? r.reason : r.error;
          if (m[when] === null && why) m.reason = why;
        }
      }
    }
  };
  log("[bench] matmul and conv peaks (start)");
  await measurePeaks("start");

  // Groups: prepare everywhere, then rounds of A B A B …, then release.
  const schedule: ScheduleEntry[] = [];
  const roundsRun: Partial<Record<WorkloadGroup, number>> = {};
  const wanted = opts.rounds ?? MODE_ROUNDS[mode];
  const groups = WORKLOAD_GROUPS.filter((g) =>
    sides.some((s) => s.raw.planned.some((w) => w.group === g)),
  );
  for (const [gi, group] of groups.entries()) {
    const left = groups.slice(gi).reduce((s, g) => s + QUICK_GROUP_SHARE[g], 0);
    const groupDeadline =
      deadline === null
        ? null
        : Date.now() + (Math.max(0, deadline - Date.now()) * QUICK_GROUP_SHARE[group]) / left;
    const ids: string[] = [];
    for (const s of sides) {
      s.ready.clear();
      const ws = s.raw.planned.filter((w) => w.group === group);
      for (const w of ws) if (!ids.includes(w.id)) ids.push(w.id);
      for (const w of ws) s.raw.rounds[w.id] = [];
      if (!live(s) || ws.length === 0) continue;
      log(`[bench] ${s.raw.name}: preparing ${group} (${ws.map((w) => w.id).join(", ")})`);
      const r = await s.proc!.request(
        { cmd: "prepare", workloads: ws, ...(s.precision ? { precision: s.precision } : {}) },
        cmdTimeout(),
      );
      for (const w of ws) {
        const err = r.ok ? r.errors?.[w.id] : (r.error ?? "prepare failed");
        if (err !== undefined) s.raw.errors[w.id] = err;
        else s.ready.add(w.id);
        const kc = r.kernelCalls?.[w.id];
        if (kc) s.raw.kernelCalls![w.id] = kc;
      }
    }
    let round = 0;
    for (; round < wanted; round++) {
      if (groupDeadline !== null && round >= 2 && Date.now() > groupDeadline) break;
      log(`[bench] ${group}: round ${round + 1} of ${wanted}`);
      for (const id of ids) {
        for (const s of sides) {
          const w = s.raw.planned.find((x) => x.id === id);
          if (!w) continue;
          const series = s.raw.rounds[id]!;
          const capped = w.maxRounds !== null && round >= w.maxRounds;
          if (!s.ready.has(id) || !live(s) || capped) {
            series.push(null);
            continue;
          }
          const r = await s.proc!.request(
            { cmd: "round", id, ...(s.precision ? { precision: s.precision } : {}) },
            cmdTimeout(),
          );
          if (r.ok && r.timesMs && r.timesMs.length > 0) {
            series.push(r.timesMs);
            const sum = r.timesMs.reduce((a, b) => a + b, 0);
            schedule.push({
              group,
              round,
              id,
              target: s.raw.name,
              imagesPerSecond: (w.batch * r.timesMs.length * 1000) / sum,
            });
          } else {
            series.push(null);
            s.raw.errors[id] = r.error ?? "no timed calls";
            s.ready.delete(id);
            schedule.push({ group, round, id, target: s.raw.name, imagesPerSecond: null });
          }
        }
      }
    }
    roundsRun[group] = round;
    if (round < wanted) {
      notes.push(
        `--quick: the ${group} group ran ${round} of ${wanted} rounds before its share of the ${QUICK_DEADLINE_SECONDS} s budget was spent`,
      );
    }
    for (const s of sides) {
      const ws = s.raw.planned.filter((w) => w.group === group);
      if (!live(s) || ws.length === 0) continue;
      const r = await s.proc!.request(
        {
          cmd: "release",
          ids: ws.map((w) => w.id),
          ...(s.precision ? { precision: s.precision } : {}),
        },
        cmdTimeout(),
      );
      s.raw.groupPeakRssMiB[group] = r.peakRssMiB ?? null;
      if (r.numTensorsLeaked !== undefined) s.raw.groupTensorsLeaked[group] = r.numTensorsLeaked;
    }
  }

  // Leak checks (tfjs backends), then the peaks again, then the processes end.
  if (opts.leakCheck > 0) {
    const lcModel = opts.trainModels[0] ?? "resnet20";
    const config = planWorkloads(
      { ...opts, inferModels: [], trainModels: [lcModel], sweepBatches: [] },
      "wasm",
    ).run[0]!.config;
    for (const s of sides) {
      if (!live(s) || s.precision || (opts.quick && s.raw.name === "cpu")) continue;
      const r = await s.proc!.request({
        cmd: "leakCheck",
        check: {
          model: lcModel,
          config,
          batch: opts.leakCheckBatch,
          steps: opts.leakCheck,
          lr: opts.lr,
          momentum: opts.momentum,
        },
      });
      if (r.ok && r.leakCheck) s.raw.leakCheck = r.leakCheck;
      else notes.push(`${s.raw.name}: leak check failed: ${r.error ?? "no result"}`);
    }
  }
  log("[bench] matmul and conv peaks (end)");
  await measurePeaks("end");
  const closed = new Map<MeasureProcess, number | null>();
  for (const s of sides) {
    if (!s.proc) continue;
    if (!closed.has(s.proc)) closed.set(s.proc, (await s.proc.close())?.peakRssMiB ?? null);
    if (s.raw.available) s.raw.processPeakRssMiB = closed.get(s.proc) ?? null;
  }
  for (const s of sides) {
    // A process that died mid-run: its workloads without an error get its reason.
    const dead = s.proc?.deadReason;
    if (dead && !/exited \(code 0\)/.test(dead)) {
      for (const w of s.raw.planned) {
        if ((s.raw.rounds[w.id] ?? []).every((x) => x === null)) s.raw.errors[w.id] ??= dead;
      }
    }
  }

  const best = (dtype: ServePrecision, op: "matmul" | "conv" = "matmul") => {
    const vals = peaks
      .filter((p) => p.dtype === dtype && p.op === op)
      .flatMap((p) => [p.start, p.end])
      .filter((v): v is number => v !== null);
    return vals.length ? Math.max(...vals) : null;
  };
  const peak = {
    measurements: peaks,
    fp32: best("fp32"),
    bf16: best("bf16"),
    conv: { fp32: best("fp32", "conv"), bf16: best("bf16", "conv") },
  };
  const targets = buildTargets(
    sides.map((s) => s.raw),
    flops,
    peak,
  );
  const load1 = os.loadavg()[0]!;
  const cores = os.availableParallelism();
  if (opts.quick) {
    notes.push(
      `--quick: ${MODE_ROUNDS.quick} rounds per group at most, each round a warm-up step and up to ${opts.steps ?? 3} timed steps in a ~1.5 s box (training); the cpu backend skipped; intervals are wider than a full run's`,
    );
  }
  if (!opts.quick && opts.backends.includes("cpu") && opts.steps === null) {
    notes.push(
      `cpu backend: the first ${CPU_FULL_ROUNDS} rounds only, one timed step each (pure JS takes minutes per step); its intervals have n = ${CPU_FULL_ROUNDS}`,
    );
  }
  if (Math.max(load0, load1) > cores * 0.75) {
    notes.push(
      `machine busy: 1-minute load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end on ${cores} cores; other processes competed for the CPU, so timings are pessimistic and noisy (the per-round intervals show how much)`,
    );
  }
  const torch = targets.find((t) => t.name === "pytorch");
  if (opts.torch && torch && !torch.available) notes.push(`no PyTorch comparison: ${torch.reason}`);
  const trainCfg = plans.get(names[0]!)?.run.find((w) => w.kind === "train")?.config;
  const inferCfg = plans.get(names[0]!)?.run.find((w) => w.kind === "infer")?.config;
  const report: BenchReport = {
    schema: BENCH_SCHEMA,
    date: localDate(started),
    startedAt: started.toISOString(),
    durationSeconds: (Date.now() - started.getTime()) / 1000,
    mode,
    notes,
    machine: {
      cpu: os.cpus()[0]?.model?.trim() || "unknown",
      cores,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      loadAverage: { start: load0, end: load1 },
    },
    versions,
    settings: {
      trainBatch: opts.trainBatch,
      inferBatch: opts.inferBatch,
      sweepBatches: [...new Set([...opts.sweepBatches])].sort((a, b) => a - b),
      lr: opts.lr,
      momentum: opts.momentum,
      threads: opts.threads,
      trainInput: trainCfg ? [...trainCfg.inputShape] : [],
      inferInput: inferCfg ? [...inferCfg.inputShape] : [],
    },
    method: {
      rounds: roundsRun,
      order: `persistent processes; per group, every round runs each workload on ${names.join(", ")} in turn (A B A B …), each a warm-up step and time-boxed timed steps`,
      interval: `ratio = geometric mean of per-round ratios (ours / peer, paired by round; overheads paired within a target's round), ${Math.round(BENCH_CONFIDENCE * 100)} % Student t interval of the log ratios over rounds`,
      flops:
        "FLOP counted from src/complexity multiply-adds (convolutions and dense layers; attention elementwise work left out): training 3 × forward MACs × 2 FLOP per image, inference forward MACs × 2",
      peaks: `at the start and the end each process times an n×n×n matmul (n = ${PEAK_SIZE}, ${PEAK_SIZE_SLOW} on wasm and cpu; onednn-bf16 none: its matmul is fp32) and, on ${CONV_PEAK_TARGETS.join(", ")}, a ${CONV_PEAK_SHAPE.kernel}×${CONV_PEAK_SHAPE.kernel} ${CONV_PEAK_SHAPE.inChannels}→${CONV_PEAK_SHAPE.outChannels} convolution forward on ${CONV_PEAK_SHAPE.size}×${CONV_PEAK_SHAPE.size} at batch ${CONV_PEAK_SHAPE.batch} (fp32; bf16 on onednn-bf16 and under PyTorch autocast); each peak is the best figure of its op and dtype; a workload's FLOP/s is given as a fraction of both peaks of its dtype (bf16 for pytorch-bf16 and onednn-bf16, fp32 for the rest)`,
      kernelCalls:
        "tfjs kernel invocations of one training step (tf.profile's kernel list, forward, backward and update, without tf.customGrad's \"…__op\" wrapper entries), counted once per workload after its warm-up, outside the timed rounds",
    },
    targets,
    peak,
    goals: judgeGoals(targets),
    schedule,
  };
  let file: string | null = null;
  if (opts.outDir !== null) {
    const dir = path.isAbsolute(opts.outDir) ? opts.outDir : path.join(PROJECT_ROOT, opts.outDir);
    file = path.join(dir, `${report.date}.json`);
    writeJsonAtomic(file, report);
  }
  return { report, file };
}
