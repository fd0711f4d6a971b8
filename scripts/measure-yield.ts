/**
 * Measures what yielding to the event loop between training steps costs (issue 14 item 12):
 * the same tiny run (the worst case: the shortest steps) trained with yieldMs = Infinity (never),
 * the default and 0 (every step), interleaved in one process, reporting the training-phase time
 * of each. Usage: npx tsx scripts/measure-yield.ts [rounds]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { initBackend } from "../src/backend/index.js";
import { DEFAULT_YIELD_MS, runExperiment } from "../src/train/run.js";

const rounds = Number(process.argv[2] ?? 3);
await initBackend("cpu", { quiet: true });
const config = {
  dataset: "synthetic",
  model: "resnet20",
  depth: 8,
  width: 4,
  trainSubset: 512,
  batchSize: 8,
  epochs: 1,
  valFraction: 0,
  seed: 1,
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-yield-"));
const settings = [Number.POSITIVE_INFINITY, DEFAULT_YIELD_MS, 0];
const times = new Map<number, number[]>(settings.map((s) => [s, []]));
let n = 0;
for (let r = 0; r < rounds; r++) {
  for (const yieldMs of settings) {
    const dir = path.join(tmp, String(n++));
    await runExperiment(config, { runDir: dir, progress: "none", yieldMs });
    const m = JSON.parse(fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").split("\n")[0]!);
    times.get(yieldMs)!.push(m.trainSeconds);
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const base = median(times.get(Number.POSITIVE_INFINITY)!);
for (const [yieldMs, xs] of times) {
  const med = median(xs);
  console.log(
    `yieldMs ${String(yieldMs).padEnd(8)} training ${xs.map((x) => x.toFixed(3)).join(" ")} s, median ${med.toFixed(3)} s (${(((med - base) / base) * 100).toFixed(2)} % vs never)`,
  );
}
