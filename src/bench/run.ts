/**
 * `runBench`: the benchmark end to end. PyTorch first, then each tfjs backend in its
 * own child process (src/bench/worker.ts), sequentially so they never compete for the cores;
 * then statistics, ratios and the result file results/bench/<YYYY-MM-DD>.json (atomic write).
 */
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../backend/index.js";
import { PROJECT_ROOT, writeJsonAtomic } from "../util/fs.js";
import { type BenchOptions, resolveBenchOptions } from "./options.js";
import { CPU_FULL_PLAN, planWorkloads, QUICK_DEADLINE_SECONDS } from "./plan.js";
import { RESULT_PREFIX, type WorkerJob, type WorkerOutput } from "./protocol.js";
import { BENCH_SCHEMA, type BenchReport, buildTargets, type RawTarget } from "./report.js";
import { runChild } from "./spawn.js";
import { runTorch } from "./torch.js";

const require = createRequire(import.meta.url);

/** The worker script each backend's child process runs. */
export const WORKER_SCRIPT = path.join(PROJECT_ROOT, "src", "bench", "worker.ts");

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

async function runBackend(
  backend: BackendName,
  opts: BenchOptions,
  deadline: number | null,
  log: (l: string) => void,
): Promise<RawTarget> {
  const { run, skipped } = planWorkloads(opts, backend);
  const base = { name: backend, planned: run, skipped } as const;
  const lcModel = opts.trainModels[0] ?? "resnet20";
  const job: WorkerJob = {
    backend,
    workloads: run,
    leakCheck:
      opts.leakCheck > 0 && !(opts.quick && backend === "cpu")
        ? {
            model: lcModel,
            config: planWorkloads({ ...opts, inferModels: [], trainModels: [lcModel] }, "wasm")
              .run[0]!.config,
            batch: opts.leakCheckBatch,
            steps: opts.leakCheck,
            lr: opts.lr,
            momentum: opts.momentum,
          }
        : null,
    deadline,
  };
  if (run.length === 0 && !job.leakCheck) {
    return { ...base, available: true, detail: "not run (every workload skipped)", results: [] };
  }
  log(`[bench] ${backend}: ${run.length} workloads in a child process`);
  const res = await runChild(
    process.execPath,
    ["--import", "tsx", WORKER_SCRIPT, JSON.stringify(job)],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SENET_LAB_QUIET: "1", SENET_LAB_THREADS: String(opts.threads) },
      // A --quick child that overruns its deadline by a minute is killed; full runs are unbounded.
      timeoutMs: deadline === null ? null : Math.max(60_000, deadline - Date.now() + 60_000),
      onStderrLine: log,
    },
  );
  const line = res.stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) {
    const why = res.timedOut
      ? "killed: --quick time limit"
      : (res.spawnError ??
        `child exited with ${res.code}: ${res.stderrTail.trim().split("\n").slice(-3).join(" | ")}`);
    return { ...base, available: false, reason: why, results: [] };
  }
  const out = JSON.parse(line.slice(RESULT_PREFIX.length)) as WorkerOutput;
  return {
    ...base,
    available: out.available,
    ...(out.reason === undefined ? {} : { reason: out.reason }),
    ...(out.detail === undefined ? {} : { detail: out.detail }),
    ...(out.threads === undefined ? {} : { threads: out.threads }),
    processPeakRssMiB: out.processPeakRssMiB,
    results: out.results,
    ...(out.leakCheck ? { leakCheck: out.leakCheck } : {}),
  };
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
  // Resolve every model now: a bad name or override fails before any child starts.
  for (const target of ["pytorch", ...opts.backends] as const) planWorkloads(opts, target);
  const started = new Date();
  const load0 = os.loadavg()[0]!;
  const deadline = opts.quick ? started.getTime() + QUICK_DEADLINE_SECONDS * 1000 : null;
  const raws: RawTarget[] = [];
  const versions: Record<string, string> = {
    node: process.versions.node,
    "senet-lab": pkgVersion("senet-lab"),
    "@tensorflow/tfjs": tf.version.tfjs,
    "@tensorflow/tfjs-backend-wasm": pkgVersion("@tensorflow/tfjs-backend-wasm"),
  };
  if (opts.torch) {
    const { run, skipped } = planWorkloads(opts, "pytorch");
    log(`[bench] pytorch: ${run.length} workloads`);
    const t = await runTorch(run, {
      threads: opts.threads,
      // --quick: PyTorch gets its share of the budget like each backend.
      deadline:
        deadline === null
          ? null
          : Date.now() + (deadline - Date.now()) / (opts.backends.length + 1),
      timeoutMs: deadline === null ? null : Math.max(60_000, deadline - Date.now() + 60_000),
      log,
    });
    if (t.versions) Object.assign(versions, t.versions);
    const { versions: _v, ...rest } = t;
    raws.push({ ...rest, planned: run, skipped });
  }
  for (const [i, backend] of opts.backends.entries()) {
    // --quick: share the time left equally among the backends still to run, so a slow one
    // cannot use up the budget of those after it.
    const share =
      deadline === null
        ? null
        : Date.now() + Math.max(0, deadline - Date.now()) / (opts.backends.length - i);
    raws.push(await runBackend(backend, opts, share, log));
  }
  const targets = buildTargets(raws);
  const load1 = os.loadavg()[0]!;
  const cores = os.availableParallelism();
  const notes: string[] = [];
  if (opts.quick) {
    notes.push(
      `--quick: fewer steps (median of up to ${opts.steps ?? 5} training steps, stopping after ~8 s per workload) and the cpu backend skipped; figures are indicative only`,
    );
  }
  if (!opts.quick && opts.backends.includes("cpu") && opts.steps === null) {
    notes.push(
      `cpu backend: ${CPU_FULL_PLAN.steps} timed steps after ${CPU_FULL_PLAN.warmup} warm-up (pure JS takes minutes per step), not 10`,
    );
  }
  if (Math.max(load0, load1) > cores * 0.75) {
    notes.push(
      `machine busy: 1-minute load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end on ${cores} cores; other processes competed for the CPU, so timings are pessimistic and noisy (see each workload's timing.relIqr)`,
    );
  }
  const torch = targets.find((t) => t.name === "pytorch");
  if (opts.torch && torch && !torch.available) notes.push(`no PyTorch comparison: ${torch.reason}`);
  const trainCfg = planWorkloads({ ...opts, inferModels: [] }, "pytorch").run[0]?.config;
  const inferCfg = planWorkloads({ ...opts, trainModels: [] }, "pytorch").run[0]?.config;
  const report: BenchReport = {
    schema: BENCH_SCHEMA,
    date: localDate(started),
    startedAt: started.toISOString(),
    durationSeconds: (Date.now() - started.getTime()) / 1000,
    mode: opts.quick ? "quick" : "full",
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
      lr: opts.lr,
      momentum: opts.momentum,
      threads: opts.threads,
      trainInput: trainCfg ? [...trainCfg.inputShape] : [],
      inferInput: inferCfg ? [...inferCfg.inputShape] : [],
    },
    targets,
  };
  let file: string | null = null;
  if (opts.outDir !== null) {
    const dir = path.isAbsolute(opts.outDir) ? opts.outDir : path.join(PROJECT_ROOT, opts.outDir);
    file = path.join(dir, `${report.date}.json`);
    writeJsonAtomic(file, report);
  }
  return { report, file };
}
