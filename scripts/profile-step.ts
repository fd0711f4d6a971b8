/**
 * Where a training step's time goes: tf.profile over a few steps of the training loop's own step
 * (src/bench/train-step.ts), per kernel name: calls per step, milliseconds per step and share of
 * the kernels' total; plus the step's wall time and kernel calls per step. Not a benchmark (one
 * process, no peer): it says which kernels a speed-up must address.
 *
 *   npx tsx scripts/profile-step.ts [--model se_resnet20] [--batch 64] [--steps 5]
 *                                   [--precision fp32|bf16] [--backend onednn] [--json FILE]
 *
 * Kernels are counted by profileKernels (src/bench/kernel-profile.ts), as the bench counts them:
 * tfjs's per-kernel wall times, tf.customGrad's "…__op" wrappers left out.
 */
import fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/index.js";
import { type Precision, setPrecision } from "../src/backend/precision.js";
import { profileKernels } from "../src/bench/kernel-profile.js";
import { makeSgdStep } from "../src/bench/train-step.js";
import { ConfigError, quote } from "../src/errors.js";
import { createModel } from "../src/models/index.js";

const argv = process.argv.slice(2);
/** The value of --name, or dflt. */
function flag(name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
}
/** A positive integer flag (ConfigError naming the value otherwise). */
function intFlag(name: string, dflt: number): number {
  const raw = flag(name, String(dflt));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`--${name} must be an integer >= 1; got ${quote(raw)}`);
  }
  return n;
}

const modelName = flag("model", "se_resnet20");
const batch = intFlag("batch", 64);
const steps = intFlag("steps", 5);
const precision = flag("precision", "fp32") as Precision;
const jsonOut = flag("json", "");

await initBackend(flag("backend", "onednn") as "onednn", { quiet: true });
setPrecision(precision);
const model = createModel(modelName);
const step = makeSgdStep(model, { batch, lr: 0.01, momentum: 0.9 });
for (let i = 0; i < 3; i++) await step.step();

const perKernel = new Map<string, { calls: number; ms: number }>();
let kernelCalls = 0;
let wallMs = 0;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  const profile = await profileKernels(() => step.step());
  wallMs += performance.now() - t0;
  for (const [name, k] of profile) {
    kernelCalls += k.calls;
    const e = perKernel.get(name) ?? { calls: 0, ms: 0 };
    e.calls += k.calls;
    e.ms += k.ms;
    perKernel.set(name, e);
  }
}
const rows = [...perKernel]
  .map(([name, e]) => ({ name, callsPerStep: e.calls / steps, msPerStep: e.ms / steps }))
  .sort((a, b) => b.msPerStep - a.msPerStep);
const kernelMs = rows.reduce((s, r) => s + r.msPerStep, 0);
const out = {
  model: modelName,
  batch,
  precision,
  backend: tf.getBackend(),
  steps,
  wallMsPerStep: wallMs / steps,
  kernelMsPerStep: kernelMs,
  kernelCallsPerStep: kernelCalls / steps,
  imagesPerSec: (batch * steps * 1000) / wallMs,
  kernels: rows,
};
console.log(
  `${modelName} batch ${batch} ${precision} on ${out.backend}: ${out.wallMsPerStep.toFixed(1)} ms per step under the profiler (${out.imagesPerSec.toFixed(0)} img/s), kernels ${kernelMs.toFixed(1)} ms in ${out.kernelCallsPerStep.toFixed(0)} calls`,
);
for (const r of rows.slice(0, 25)) {
  console.log(
    `  ${r.name.padEnd(28)} ${r.callsPerStep.toFixed(0).padStart(5)} calls ${r.msPerStep.toFixed(2).padStart(8)} ms ${((100 * r.msPerStep) / kernelMs).toFixed(1).padStart(5)} %`,
  );
}
if (jsonOut) fs.writeFileSync(jsonOut, `${JSON.stringify(out, null, 2)}\n`);
step.dispose();
