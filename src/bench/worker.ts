/**
 * The benchmark's persistent tfjs process: one per target, so backends never share a process
 * (tfjs keeps global state, the wasm module and native thread pools stay put once loaded), and
 * onednn-bf16 (onednn with setPrecision("bf16") before anything is built) has its own.
 * Started by runBench as `node --import tsx worker.ts --serve <target>`; reads one ServeCommand
 * per stdin line and answers each with one `RESULT_PREFIX<ServeReply JSON>` line on stdout;
 * progress goes to stderr. The driver times rounds of prepared workloads here, alternating with
 * the other targets' processes. Nothing imports this module but the child itself (the message
 * types live in protocol.ts).
 */
import readline from "node:readline";
import * as tf from "@tensorflow/tfjs";
import { bf16Support, getPrecision, initBackend, setPrecision } from "../backend/index.js";
import { buildModel } from "../models/index.js";
import { profileKernels } from "./kernel-profile.js";
import { runLeakCheck } from "./leak-check.js";
import { peakRssMiB, resetPeakRss, timeCalls } from "./measure.js";
import { type BenchBackend, backendOf, ONEDNN_BF16, type Workload } from "./plan.js";
import {
  type ConvPeakShape,
  convPeakFlop,
  type KernelCalls,
  RESULT_PREFIX,
  type ServeCommand,
  type ServeReply,
} from "./protocol.js";
import { makeInference, makeSgdStep } from "./train-step.js";

interface Prepared {
  workload: Workload;
  run: () => Promise<unknown>;
  dispose: () => void;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Builds a workload's model and step (not yet warmed). */
function build(w: Workload): Prepared {
  const model = buildModel(w.config, { name: w.model });
  try {
    let job: { run: () => Promise<unknown>; dispose: () => void };
    if (w.kind === "train") {
      const s = makeSgdStep(model, { batch: w.batch, lr: w.lr, momentum: w.momentum });
      job = { run: () => s.step(), dispose: () => s.dispose() };
    } else {
      job = makeInference(model, w.batch);
    }
    return {
      workload: w,
      run: job.run,
      dispose: () => {
        job.dispose();
        model.dispose();
      },
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Best FLOP/s of repeated n×n×n float32 matMul on this backend within `seconds`. */
async function matmulPeak(size: number, seconds: number): Promise<number> {
  const a = tf.randomNormal([size, size], 0, 1, "float32", 1);
  const b = tf.randomNormal([size, size], 0, 1, "float32", 2);
  try {
    let best = 0;
    const until = performance.now() + seconds * 1000;
    let calls = 0;
    while (calls < 2 || performance.now() < until) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
      const s = (performance.now() - t0) / 1000;
      if (calls > 0) best = Math.max(best, (2 * size ** 3) / s); // the first call warms up
      calls++;
    }
    return best;
  } finally {
    tf.dispose([a, b]);
  }
}

/**
 * Best FLOP/s of repeated NHWC convolution forwards of `shape` ("same" padding, stride 1) on this
 * backend within `seconds`, at the process's precision (bf16 convolutions on onednn-bf16).
 */
async function convPeak(shape: ConvPeakShape, seconds: number): Promise<number> {
  const { batch, size, inChannels, outChannels, kernel } = shape;
  const x = tf.randomNormal([batch, size, size, inChannels], 0, 1, "float32", 1) as tf.Tensor4D;
  const w = tf.randomNormal([kernel, kernel, inChannels, outChannels], 0, 0.1, "float32", 2);
  const flop = convPeakFlop(shape);
  try {
    let best = 0;
    const until = performance.now() + seconds * 1000;
    let calls = 0;
    while (calls < 2 || performance.now() < until) {
      const t0 = performance.now();
      const y = tf.conv2d(x, w as tf.Tensor4D, 1, "same");
      await y.data();
      y.dispose();
      const s = (performance.now() - t0) / 1000;
      if (calls > 0) best = Math.max(best, flop / s); // the first call warms up (filter reorder)
      calls++;
    }
    return best;
  } finally {
    tf.dispose([x, w]);
  }
}

/** Counts the kernels one call of `run` invokes (profileKernels), most frequent names first. */
async function countKernels(run: () => Promise<unknown>): Promise<KernelCalls> {
  const counts = [...(await profileKernels(run))].map(([name, e]) => [name, e.calls] as const);
  return {
    total: counts.reduce((sum, [, n]) => sum + n, 0),
    byName: Object.fromEntries(counts.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
  };
}

/**
 * Serves commands for `target` until "exit" or end of input. Exported for the entry point
 * only; answers through `reply` so that a test could drive it without a pipe.
 */
export async function serve(
  target: BenchBackend,
  lines: AsyncIterable<string>,
  reply: (r: ServeReply) => void,
): Promise<void> {
  // Take the iterator before the first await: readline drops lines that arrive before its
  // async iterator exists, and the driver may send "info" while the backend still loads.
  const input = lines[Symbol.asyncIterator]();
  const prepared = new Map<string, Prepared>();
  let tensorsBefore = 0;
  let loaded: { detail?: string; threads?: number } | null = null;
  let loadError: string | null = null;
  try {
    const info = await initBackend(backendOf(target), { quiet: true });
    loaded = { detail: info.detail, threads: info.threads };
    if (target === ONEDNN_BF16) {
      // Before any workload is built: the whole process computes at bf16 mixed precision.
      const bf16 = bf16Support();
      if (bf16.supported) {
        setPrecision("bf16");
        loaded.detail = `${info.detail}, bf16 mixed precision (convolutions: ${bf16.impl})`;
      } else {
        loaded = null;
        loadError = bf16.reason;
      }
    }
  } catch (err) {
    loadError = message(err);
  }
  const log = (s: string) => process.stderr.write(`[bench ${target}] ${s}\n`);
  for (let next = await input.next(); !next.done; next = await input.next()) {
    const line = next.value;
    if (line.trim() === "") continue;
    const cmd = JSON.parse(line) as ServeCommand;
    try {
      if (cmd.cmd === "info") {
        reply(
          loaded
            ? { ok: true, available: true, ...loaded }
            : { ok: true, available: false, reason: loadError ?? "not loaded" },
        );
      } else if (cmd.cmd === "exit") {
        reply({ ok: true, peakRssMiB: peakRssMiB() });
        return;
      } else if (loaded === null) {
        reply({ ok: false, error: `${target} unavailable: ${loadError}` });
      } else if (cmd.cmd === "prepare") {
        resetPeakRss();
        if (prepared.size === 0) tensorsBefore = tf.memory().numTensors;
        const errors: Record<string, string> = {};
        const kernelCalls: Record<string, KernelCalls> = {};
        for (const w of cmd.workloads) {
          log(`${w.id} batch ${w.batch}: build and ${w.prepareWarmup} warm-up steps`);
          try {
            const p = build(w);
            prepared.set(w.id, p);
            for (let i = 0; i < w.prepareWarmup; i++) await p.run();
            // One more untimed step, profiled: the kernel count of a training step.
            if (w.kind === "train") kernelCalls[w.id] = await countKernels(p.run);
          } catch (err) {
            errors[w.id] = message(err);
            prepared.get(w.id)?.dispose();
            prepared.delete(w.id);
          }
        }
        reply({ ok: true, errors, kernelCalls });
      } else if (cmd.cmd === "round") {
        const p = prepared.get(cmd.id);
        if (!p) reply({ ok: false, error: `workload ${cmd.id} is not prepared` });
        else reply({ ok: true, timesMs: await timeCalls(p.run, p.workload.plan) });
      } else if (cmd.cmd === "release") {
        for (const id of cmd.ids) {
          prepared.get(id)?.dispose();
          prepared.delete(id);
        }
        reply({
          ok: true,
          peakRssMiB: peakRssMiB(),
          ...(prepared.size === 0
            ? { numTensorsLeaked: tf.memory().numTensors - tensorsBefore }
            : {}),
        });
      } else if (cmd.cmd === "peak") {
        if (cmd.dtype !== "fp32") {
          reply({ ok: true, flopPerSecond: null, reason: "tfjs computes in float32 only" });
        } else {
          reply({ ok: true, flopPerSecond: await matmulPeak(cmd.size, cmd.seconds) });
        }
      } else if (cmd.cmd === "convPeak") {
        if (cmd.dtype !== getPrecision()) {
          reply({
            ok: true,
            flopPerSecond: null,
            reason: `${target} convolutions run at ${getPrecision()}, not ${cmd.dtype}`,
          });
        } else {
          reply({ ok: true, flopPerSecond: await convPeak(cmd.shape, cmd.seconds) });
        }
      } else if (cmd.cmd === "leakCheck") {
        const lc = cmd.check;
        log(`leak check: ${lc.steps} steps of ${lc.model}`);
        const model = buildModel(lc.config, { name: lc.model });
        const s = makeSgdStep(model, { batch: lc.batch, lr: lc.lr, momentum: lc.momentum });
        try {
          const leakCheck = await runLeakCheck(() => s.step(), lc.steps, {
            model: lc.model,
            batch: lc.batch,
          });
          reply({ ok: true, leakCheck });
        } finally {
          s.dispose();
          model.dispose();
        }
      } else {
        reply({ ok: false, error: `unknown command ${JSON.stringify(cmd)}` });
      }
    } catch (err) {
      reply({ ok: false, error: message(err) });
    }
  }
}

// Entry point when started as a child process: `worker.ts --serve <target>`.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // No top-level await: should anything ever import this module through require() (tslab
  // loads the package that way), top-level await would make it refuse the whole module.
  const target = process.argv[3] as BenchBackend;
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  void serve(target, rl, (r) => {
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(r)}\n`);
  }).then(() => {
    rl.close();
    process.exit(0);
  });
}
