/**
 * Prints every number a short training run computes, with the timings left out, so two
 * checkouts can be compared bit for bit after a change meant to keep the numbers (a refactor of
 * src/train, src/ops, src/backend, ...):
 *
 *   (cd old-checkout && SENET_LAB_THREADS=1 npx tsx scripts/same-numbers.mts) > old.txt
 *   (cd new-checkout && SENET_LAB_THREADS=1 npx tsx scripts/same-numbers.mts) > new.txt
 *   diff old.txt new.txt && echo identical
 *
 * It trains SE-ResNet-20 (r = 8) and SGE-ResNet-20 (G = 4) for 20 steps of batch 64 on
 * Fashion-MNIST (1,280 images; the full test set is evaluated), seed 3, on the backend named by
 * SENET_LAB_BACKEND (default onednn), in the checkout it is run from. One thread keeps oneDNN's
 * reductions in one order. A run's training-code hash differs after any such change; this is
 * how to show that its numbers do not.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = process.cwd();
const { runExperiment } = await import(path.join(root, "src/train/run.ts"));
const TIMING = /seconds|imagesPerSec|wallSeconds|loopOverhead/i;
const strip = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([k]) => !TIMING.test(k) && k !== "metricsFile"));
for (const attention of ["se", "sge"]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `senet-same-${attention}-`));
  const config: Record<string, unknown> = {
    model: "resnet20",
    attention,
    ...(attention === "se" ? { reduction: 8 } : { groups: 4 }),
    dataset: "fashion-mnist",
    epochs: 1,
    batchSize: 64,
    lr: 0.2,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 0.0005,
    schedule: "linear",
    warmupEpochs: 0.2,
    labelSmoothing: 0.1,
    trainSubset: 1280,
    hflip: true,
    cropPad: 2,
    seed: 3,
    backend: process.env.SENET_LAB_BACKEND || "onednn",
  };
  try {
    const summary = await runExperiment(config, { runDir: dir });
    const lines = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
    for (const l of lines)
      console.log(`${attention} epoch ${JSON.stringify(strip(JSON.parse(l)))}`);
    console.log(`${attention} summary ${JSON.stringify(strip(summary))}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
