/**
 * The benchmark's child process: one per backend, so backends never share a process (tfjs keeps
 * global state, the wasm module and native thread pools stay put once loaded). Started by
 * runBench as `node --import tsx worker.ts <job JSON>`; prints one line
 * `RESULT_PREFIX<WorkerOutput JSON>` on stdout and progress on stderr. Nothing imports this
 * module but the child itself (the message types live in protocol.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend/index.js";
import { buildModel } from "../models/index.js";
import { type LeakCheckResult, runLeakCheck } from "./leak-check.js";
import { peakRssMiB, resetPeakRss, timeCalls } from "./measure.js";
import type { Workload } from "./plan.js";
import {
  RESULT_PREFIX,
  type WorkerJob,
  type WorkerOutput,
  type WorkerWorkloadResult,
} from "./protocol.js";
import { makeInference, makeSgdStep } from "./train-step.js";

async function runWorkload(w: Workload): Promise<WorkerWorkloadResult> {
  const canReset = resetPeakRss();
  const before = tf.memory().numTensors;
  const model = buildModel(w.config, { name: w.model });
  let timesMs: number[] = [];
  let error: string | undefined;
  try {
    if (w.kind === "train") {
      const s = makeSgdStep(model, { batch: w.batch, lr: w.lr, momentum: w.momentum });
      try {
        timesMs = await timeCalls(() => s.step(), w.plan);
      } finally {
        s.dispose();
      }
    } else {
      const inf = makeInference(model, w.batch);
      try {
        timesMs = await timeCalls(() => inf.run(), w.plan);
      } finally {
        inf.dispose();
      }
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    model.dispose();
  }
  const peak = canReset ? peakRssMiB() : null;
  return {
    id: w.id,
    timesMs,
    peakRssMiB: peak,
    numTensorsLeaked: tf.memory().numTensors - before,
    ...(error === undefined ? {} : { error }),
  };
}

/** Runs a job in this process (the worker's body; exported for tests). */
export async function runWorkerJob(job: WorkerJob): Promise<WorkerOutput> {
  let detail: string | undefined;
  let threads: number | undefined;
  try {
    const info = await initBackend(job.backend, { quiet: true });
    detail = info.detail;
    threads = info.threads;
  } catch (err) {
    return {
      backend: job.backend,
      available: false,
      reason: err instanceof Error ? err.message : String(err),
      results: [],
      processPeakRssMiB: peakRssMiB(),
    };
  }
  const results: WorkerWorkloadResult[] = [];
  for (const w of job.workloads) {
    if (job.deadline !== null && Date.now() > job.deadline) {
      results.push({
        id: w.id,
        timesMs: [],
        peakRssMiB: null,
        numTensorsLeaked: 0,
        skipped: "--quick time budget spent before this workload",
      });
      continue;
    }
    process.stderr.write(`[bench ${job.backend}] ${w.id} batch ${w.batch} ...\n`);
    const r = await runWorkload(w);
    results.push(r);
    process.stderr.write(
      `[bench ${job.backend}] ${w.id}: ${r.error ? `failed: ${r.error}` : `${r.timesMs.length} steps`}\n`,
    );
  }
  let leakCheck: LeakCheckResult | undefined;
  if (job.leakCheck) {
    const lc = job.leakCheck;
    process.stderr.write(`[bench ${job.backend}] leak check: ${lc.steps} steps of ${lc.model}\n`);
    const model = buildModel(lc.config, { name: lc.model });
    const s = makeSgdStep(model, { batch: lc.batch, lr: lc.lr, momentum: lc.momentum });
    try {
      leakCheck = await runLeakCheck(() => s.step(), lc.steps, {
        model: lc.model,
        batch: lc.batch,
      });
    } finally {
      s.dispose();
      model.dispose();
    }
  }
  return {
    backend: job.backend,
    available: true,
    ...(detail === undefined ? {} : { detail }),
    ...(threads === undefined ? {} : { threads }),
    results,
    ...(leakCheck ? { leakCheck } : {}),
    processPeakRssMiB: peakRssMiB(),
  };
}

// Entry point when started as a child process.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // No top-level await: should anything ever import this module through require() (tslab
  // loads the package that way), top-level await would make it refuse the whole module.
  const job = JSON.parse(process.argv[2] ?? "null") as WorkerJob;
  void runWorkerJob(job).then((out) => {
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(out)}\n`);
  });
}
