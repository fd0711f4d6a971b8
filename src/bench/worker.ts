/**
 * The benchmark's persistent tfjs process: one per backend, so backends never share a process
 * (tfjs keeps global state, the wasm module and native thread pools stay put once loaded).
 * Started by runBench as `node --import tsx worker.ts --serve <backend>`; reads one ServeCommand
 * per stdin line and answers each with one `RESULT_PREFIX<ServeReply JSON>` line on stdout;
 * progress goes to stderr. The driver times rounds of prepared workloads here, alternating with
 * the other targets' processes. Nothing imports this module but the child itself (the message
 * types live in protocol.ts).
 */
import readline from "node:readline";
import * as tf from "@tensorflow/tfjs";
import { type BackendName, initBackend } from "../backend/index.js";
import { buildModel } from "../models/index.js";
import { runLeakCheck } from "./leak-check.js";
import { peakRssMiB, resetPeakRss, timeCalls } from "./measure.js";
import type { Workload } from "./plan.js";
import { RESULT_PREFIX, type ServeCommand, type ServeReply } from "./protocol.js";
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
    if (w.kind === "train") {
      const s = makeSgdStep(model, { batch: w.batch, lr: w.lr, momentum: w.momentum });
      return {
        workload: w,
        run: () => s.step(),
        dispose: () => {
          s.dispose();
          model.dispose();
        },
      };
    }
    const inf = makeInference(model, w.batch);
    return {
      workload: w,
      run: () => inf.run(),
      dispose: () => {
        inf.dispose();
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
 * Serves commands for `backend` until "exit" or end of input. Exported for the entry point
 * only; answers through `reply` so that a test could drive it without a pipe.
 */
export async function serve(
  backend: BackendName,
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
    const info = await initBackend(backend, { quiet: true });
    loaded = { detail: info.detail, threads: info.threads };
  } catch (err) {
    loadError = message(err);
  }
  const log = (s: string) => process.stderr.write(`[bench ${backend}] ${s}\n`);
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
        reply({ ok: false, error: `${backend} unavailable: ${loadError}` });
      } else if (cmd.cmd === "prepare") {
        resetPeakRss();
        if (prepared.size === 0) tensorsBefore = tf.memory().numTensors;
        const errors: Record<string, string> = {};
        for (const w of cmd.workloads) {
          log(`${w.id} batch ${w.batch}: build and ${w.prepareWarmup} warm-up steps`);
          try {
            const p = build(w);
            prepared.set(w.id, p);
            for (let i = 0; i < w.prepareWarmup; i++) await p.run();
          } catch (err) {
            errors[w.id] = message(err);
            prepared.get(w.id)?.dispose();
            prepared.delete(w.id);
          }
        }
        reply({ ok: true, errors });
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

// Entry point when started as a child process: `worker.ts --serve <backend>`.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // No top-level await: should anything ever import this module through require() (tslab
  // loads the package that way), top-level await would make it refuse the whole module.
  const backend = process.argv[3] as BackendName;
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  void serve(backend, rl, (r) => {
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(r)}\n`);
  }).then(() => {
    rl.close();
    process.exit(0);
  });
}
