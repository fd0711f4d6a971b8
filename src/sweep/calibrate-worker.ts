/**
 * One process of a pool calibration, forked by calibratePool with an IPC channel and the
 * environment of a sweep worker (SENET_LAB_THREADS, SENET_LAB_BACKEND): loads the backend,
 * builds the model, warms up training steps (makeSgdStep: the training loop's step on a fixed
 * random batch), answers `ready`, then on `go` times steps for the given seconds and answers
 * `result`. Every process of a shape gets `go` at once, so their timed windows overlap.
 * Nothing imports this module but the child itself (the message types live in calibrate.ts).
 */
import { initBackend } from "../backend/index.js";
import { timeCalls, timingStats } from "../bench/measure.js";
import { makeSgdStep } from "../bench/train-step.js";
import { SenetLabError } from "../errors.js";
import { buildModel, type ModelConfig } from "../models/index.js";
import type { CalibrateChildMessage, CalibrateGo, CalibrateJob } from "./calibrate.js";

function send(msg: CalibrateChildMessage, then?: () => void): void {
  try {
    process.send!(msg, undefined, undefined, then);
  } catch {
    process.exit(143); // the channel is gone: the calibration died
  }
}

function errorText(err: unknown): string {
  if (err instanceof SenetLabError) return err.message;
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

async function main(job: CalibrateJob & { config: ModelConfig }): Promise<void> {
  const info = await initBackend(undefined, { quiet: true });
  const model = buildModel(job.config, { name: job.model });
  const s = makeSgdStep(model, { batch: job.batch, lr: 0.1, momentum: 0.9 });
  // A training step does not always yield to the event loop: stop as soon as the parent is gone.
  const step = () => {
    if (!process.connected) process.exit(143);
    return s.step();
  };
  await timeCalls(step, { warmup: job.warmupSteps, steps: 0, minSteps: 0, budgetSeconds: null });
  const go = await new Promise<CalibrateGo>((resolve) => {
    process.once("message", (msg: CalibrateGo) => resolve(msg));
    send({
      type: "ready",
      backend: info.name,
      threads: info.threads,
      startupSeconds: process.uptime(),
    });
  });
  const t0 = performance.now();
  const times = await timeCalls(step, {
    warmup: 0,
    steps: Number.POSITIVE_INFINITY,
    minSteps: job.minSteps,
    budgetSeconds: go.seconds,
  });
  const seconds = (performance.now() - t0) / 1000;
  s.dispose();
  model.dispose();
  send(
    {
      type: "result",
      steps: times.length,
      seconds,
      medianStepMs: timingStats(times).medianMs,
    },
    () => process.exit(0),
  );
}

process.on("disconnect", () => process.exit(0));
if (!process.send) {
  process.stderr.write("calibrate-worker.ts is forked by calibratePool (needs an IPC channel)\n");
  process.exit(2);
}
main(JSON.parse(process.argv[2] ?? "null")).catch((err: unknown) => {
  send({ type: "error", error: errorText(err) }, () => process.exit(1));
});
