/**
 * Conv training throughput of the onednn backend against tfjs's wasm and cpu backends and
 * PyTorch, in one run (not a unit test; `senet-lab bench` is the full benchmark).
 *
 *   npx tsx scripts/bench-onednn.ts [--models resnet20,se_resnet20] [--batch 64] [--steps 5]
 *                                   [--variants onednn-fused,onednn,wasm,cpu] [--no-torch]
 *
 * Each variant trains the model zoo's network (SGD, momentum 0.9) on random data after
 * warm-up and reports the median images/s. "onednn-fused" builds the model with
 * FusedBatchNormalization in place of tf.layers.batchNormalization (same weights); "onednn"
 * keeps tfjs's batch norm (moments and its gradient in elementwise kernels). The cpu backend
 * is ~100x slower, so it runs batch 8 and one timed step. PyTorch runs the same networks
 * (scripts/bench/torch_bench.py, channels_last) with the same thread count.
 */
import { spawnSync } from "node:child_process";
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { loadWasm } from "../src/backend/loaders.js";
import { registerOnednnBackend } from "../src/backend/onednn.js";
import { fusedBatchNormalization } from "../src/layers/fused-batch-normalization.js";
import { createModel, presetConfig } from "../src/models/index.js";

const argv = process.argv.slice(2);
function flag(name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
}
const models = flag("models", "resnet20,se_resnet20").split(",");
const batch = Number(flag("batch", "64"));
const steps = Number(flag("steps", "5"));
const variants = flag("variants", "onednn-fused,onednn,wasm,cpu").split(",");
const threads = Number(process.env.SENET_LAB_THREADS ?? os.availableParallelism());
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Row {
  model: string;
  variant: string;
  batch: number;
  steps: number;
  medianMs: number;
  imagesPerSec: number;
  error?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeTraining(
  model: string,
  variant: string,
  b: number,
  nSteps: number,
  warm: number,
): Promise<Row> {
  const backend = variant.startsWith("onednn") ? "onednn" : variant;
  await tf.setBackend(backend);
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  const layers = tf.layers as unknown as { batchNormalization: unknown };
  const original = layers.batchNormalization;
  if (variant === "onednn-fused") layers.batchNormalization = fusedBatchNormalization;
  let net: tf.LayersModel;
  try {
    net = createModel(model);
  } finally {
    layers.batchNormalization = original;
  }
  const [, h, w, c] = net.inputs[0].shape as number[];
  const x = tf.randomNormal([b, h, w, c]);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: b }, (_, i) => i % 10),
      "int32",
    ),
    10,
  );
  const opt = tf.train.momentum(0.1, 0.9);
  const step = () => {
    const loss = opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, net.apply(x, { training: true }) as tf.Tensor),
      true,
    ) as tf.Scalar;
    loss.dataSync();
    loss.dispose();
  };
  try {
    for (let i = 0; i < warm; i++) step();
    const times: number[] = [];
    for (let i = 0; i < nSteps; i++) {
      const t0 = performance.now();
      step();
      times.push(performance.now() - t0);
    }
    const m = median(times);
    return { model, variant, batch: b, steps: nSteps, medianMs: m, imagesPerSec: (b / m) * 1000 };
  } finally {
    tf.dispose([x, y]);
    opt.dispose();
    net.dispose();
  }
}

function torchRows(): Row[] {
  const job = {
    threads,
    deadline: null,
    workloads: models.map((m) => ({
      id: m,
      kind: "train",
      config: presetConfig(m),
      batch,
      warmup: 2,
      steps: Math.max(steps, 10),
      budgetSeconds: 60,
      minSteps: steps,
      lr: 0.1,
      momentum: 0.9,
    })),
  };
  const r = spawnSync("/usr/bin/python3", ["scripts/bench/torch_bench.py", JSON.stringify(job)], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    return models.map((m) => ({
      model: m,
      variant: "pytorch",
      batch,
      steps: 0,
      medianMs: Number.NaN,
      imagesPerSec: Number.NaN,
      error: (r.stderr || r.stdout).slice(-300),
    }));
  }
  const out = JSON.parse(r.stdout) as {
    results: { id: string; timesMs: number[]; error?: string }[];
  };
  return out.results.map((res) => {
    const m = res.timesMs.length ? median(res.timesMs) : Number.NaN;
    return {
      model: res.id,
      variant: "pytorch",
      batch,
      steps: res.timesMs.length,
      medianMs: m,
      imagesPerSec: (batch / m) * 1000,
      error: res.error,
    };
  });
}

const info: Record<string, string> = {};
const rows: Row[] = [];
try {
  info.onednn = (await registerOnednnBackend(threads)).detail;
} catch (err) {
  info.onednn = `unavailable: ${(err as Error).message}`;
}
if (variants.includes("wasm")) {
  try {
    info.wasm = (await loadWasm()).detail;
  } catch (err) {
    info.wasm = `unavailable: ${(err as Error).message}`;
  }
}
log(
  `[bench-onednn] threads ${threads}; load average ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(" ")} on ${os.availableParallelism()} cores`,
);
for (const model of models) {
  for (const variant of variants) {
    const isCpu = variant === "cpu";
    try {
      const row = await timeTraining(
        model,
        variant,
        isCpu ? 8 : batch,
        isCpu ? 1 : steps,
        isCpu ? 1 : 2,
      );
      rows.push(row);
      log(
        `${model.padEnd(14)} ${variant.padEnd(13)} batch ${String(row.batch).padStart(3)}  ${row.medianMs.toFixed(0).padStart(7)} ms/step  ${row.imagesPerSec.toFixed(1).padStart(7)} img/s`,
      );
    } catch (err) {
      rows.push({
        model,
        variant,
        batch,
        steps: 0,
        medianMs: Number.NaN,
        imagesPerSec: Number.NaN,
        error: (err as Error).message.slice(0, 300),
      });
      log(
        `${model.padEnd(14)} ${variant.padEnd(13)} failed: ${(err as Error).message.slice(0, 200)}`,
      );
    }
  }
}
if (!argv.includes("--no-torch")) {
  for (const row of torchRows()) {
    rows.push(row);
    log(
      `${row.model.padEnd(14)} pytorch       batch ${String(row.batch).padStart(3)}  ${row.medianMs.toFixed(0).padStart(7)} ms/step  ${row.imagesPerSec.toFixed(1).padStart(7)} img/s${row.error ? ` (${row.error})` : ""}`,
    );
  }
}
log(
  `[bench-onednn] load average after: ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(" ")}`,
);
process.stdout.write(
  `${JSON.stringify({ date: new Date().toISOString(), threads, info, rows }, null, 2)}\n`,
);
