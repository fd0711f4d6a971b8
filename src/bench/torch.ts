/**
 * The PyTorch reference run: scripts/bench/torch_bench.py under the system python (Debian's
 * python3-torch; SENET_LAB_PYTHON overrides), the same workloads as the tfjs targets. When
 * python or torch is missing the target is reported unavailable with the reason.
 */
import path from "node:path";
import { SYSTEM_PYTHON } from "../setup/system.js";
import { PROJECT_ROOT } from "../util/fs.js";
import type { Workload } from "./plan.js";
import type { WorkerWorkloadResult } from "./protocol.js";
import type { RawTarget } from "./report.js";
import { runChild } from "./spawn.js";

/** The script that builds and times the PyTorch networks. */
export const TORCH_SCRIPT = path.join(PROJECT_ROOT, "scripts", "bench", "torch_bench.py");

interface TorchOutput {
  ok: boolean;
  versions: { torch: string; python: string };
  threads: number;
  results: WorkerWorkloadResult[];
}

/** Runs the PyTorch workloads; never throws for a missing python/torch (reported instead). */
export async function runTorch(
  workloads: Workload[],
  opts: {
    threads: number;
    deadline: number | null;
    timeoutMs: number | null;
    log: (l: string) => void;
  },
): Promise<Omit<RawTarget, "planned" | "skipped"> & { versions?: Record<string, string> }> {
  const job = {
    threads: opts.threads,
    deadline: opts.deadline === null ? null : opts.deadline / 1000,
    workloads: workloads.map((w) => ({
      id: w.id,
      kind: w.kind,
      config: w.config,
      batch: w.batch,
      warmup: w.plan.warmup,
      steps: w.plan.steps,
      minSteps: w.plan.minSteps,
      budgetSeconds: w.plan.budgetSeconds,
      lr: w.lr,
      momentum: w.momentum,
    })),
  };
  const res = await runChild(SYSTEM_PYTHON, [TORCH_SCRIPT, JSON.stringify(job)], {
    cwd: PROJECT_ROOT,
    // OMP/MKL thread pools follow torch.set_num_threads; keep BLAS from oversubscribing too.
    env: { ...process.env, OMP_NUM_THREADS: String(opts.threads) },
    timeoutMs: opts.timeoutMs,
    onStderrLine: opts.log,
  });
  const fail = (reason: string) => ({
    name: "pytorch" as const,
    available: false,
    reason,
    results: [],
  });
  if (res.spawnError) return fail(`${SYSTEM_PYTHON} could not start: ${res.spawnError}`);
  if (res.timedOut) return fail("timed out");
  if (res.code !== 0) {
    const tail = res.stderrTail.trim().split("\n").slice(-3).join(" | ");
    if (/No module named 'torch'/.test(res.stderrTail)) {
      return fail(
        `PyTorch is not installed for ${SYSTEM_PYTHON} (Debian: apt-get install -y python3-torch)`,
      );
    }
    return fail(`torch_bench.py exited with ${res.code}: ${tail}`);
  }
  let out: TorchOutput;
  try {
    out = JSON.parse(res.stdout.trim().split("\n").pop() ?? "") as TorchOutput;
  } catch {
    return fail(`torch_bench.py printed no JSON result: ${res.stdout.slice(0, 200)}`);
  }
  return {
    name: "pytorch",
    available: true,
    detail: `PyTorch ${out.versions.torch} (python ${out.versions.python}), channels_last`,
    threads: out.threads,
    // Each workload's peak is measured from a reset; the largest is the process's peak.
    processPeakRssMiB: Math.max(0, ...out.results.map((r) => r.peakRssMiB ?? 0)) || null,
    results: out.results,
    versions: { torch: out.versions.torch, python: out.versions.python },
  };
}
