/**
 * Measures what the training loop adds over raw training steps.
 *
 *   npx tsx scripts/bench-train-loop.ts [--model resnet20] [--set depth=8 ...] [--dataset fashion-mnist-mini]
 *        [--batch 32] [--images 512] [--repeats 3] [--backend cpu]
 *
 * "raw": the same network trained with tfjs's own optimizer (tf.train.momentum, minimize) on
 * batch tensors built once before timing: no data pipeline, no metrics, no progress.
 * "loop": runExperiment's training phase (trainSeconds in metrics.jsonl: batch building from
 * uint8, augmentation, our SGD, loss/accuracy reads, progress) for the same images and batch.
 * Evaluation and checkpointing are reported apart (they are extra work, not loop overhead).
 * Raw and loop runs alternate, and the medians are compared, because the machine is shared.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { type BackendChoice, initBackend } from "../src/backend/index.js";
import { loadDataset } from "../src/data/dataset.js";
import { buildModel } from "../src/models/index.js";
import { experimentOf, resolveExperimentConfig } from "../src/train/config.js";
import { crossEntropy } from "../src/train/loss.js";
import { runExperiment } from "../src/train/run.js";
import { readRun } from "../src/train/run-folder.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "resnet20" },
    set: { type: "string", multiple: true, default: ["depth=8", "width=8"] },
    dataset: { type: "string", default: "fashion-mnist-mini" },
    batch: { type: "string", default: "32" },
    images: { type: "string", default: "512" },
    repeats: { type: "string", default: "3" },
    backend: { type: "string", default: "cpu" },
  },
});
const sets = Object.fromEntries(
  (values.set ?? []).map((kv) => {
    const [k, v] = kv.split("=") as [string, string];
    return [k, /^-?[\d.]+(e-?\d+)?$/.test(v) ? Number(v) : v];
  }),
);
const batch = Number(values.batch);
const images = Number(values.images);
await initBackend(values.backend as BackendChoice);
const config = resolveExperimentConfig({
  ...sets,
  model: values.model,
  dataset: values.dataset,
  batchSize: batch,
  trainSubset: images,
  epochs: 1,
  weightDecay: 0,
  schedule: "constant",
  lr: 0.01,
  valFraction: 0.1,
});

async function raw(): Promise<number> {
  const ds = loadDataset(config.dataset, { seed: 0, trainSubset: images, augment: false });
  const batches = [...ds.batches("train", batch, 0)];
  const model = buildModel(experimentOf(config).model, { name: config.model });
  const opt = tf.train.momentum(config.lr, config.momentum);
  // One untimed step, as the loop's first step also pays for kernel set-up.
  const stepOnce = async (b: (typeof batches)[number]) => {
    const loss = opt.minimize(
      () => crossEntropy(model.apply(b.x, { training: true }) as tf.Tensor, b.y, 0),
      true,
    );
    await loss!.data();
    loss!.dispose();
  };
  await stepOnce(batches[0]!);
  const t0 = performance.now();
  for (const b of batches) await stepOnce(b);
  const s = (performance.now() - t0) / 1000;
  for (const b of batches) tf.dispose([b.x, b.y]);
  opt.dispose();
  model.dispose();
  return s;
}

async function loop(i: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-loop-${i}-`));
  try {
    await runExperiment(config, { runDir: dir, progress: "none" });
    const m = readRun(dir).metrics[0]!;
    return m;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const raws: number[] = [];
const loops: number[] = [];
const steps: number[] = [];
const evals: number[] = [];
for (let r = 0; r < Number(values.repeats); r++) {
  raws.push(await raw());
  const m = await loop(r);
  loops.push(m.trainSeconds);
  steps.push(m.stepSeconds);
  evals.push(m.evalSeconds + m.checkpointSeconds);
  console.log(
    `repeat ${r + 1}: raw ${raws.at(-1)!.toFixed(2)} s, loop training phase ${m.trainSeconds.toFixed(2)} s (inside steps ${m.stepSeconds.toFixed(2)} s), eval+checkpoint ${(m.evalSeconds + m.checkpointSeconds).toFixed(2)} s`,
  );
}
const rawM = median(raws);
const loopM = median(loops);
console.log(
  JSON.stringify(
    {
      model: config.model,
      overrides: sets,
      dataset: config.dataset,
      batch,
      images,
      backend: tf.getBackend(),
      rawSeconds: rawM,
      loopSeconds: loopM,
      overheadVsRaw: loopM / rawM - 1,
      overheadInsideLoop: median(loops.map((l, i) => (l - steps[i]!) / steps[i]!)),
      evalAndCheckpointSeconds: median(evals),
    },
    null,
    2,
  ),
);
