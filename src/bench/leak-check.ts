/**
 * The leak check: many training steps must leave tf.memory().numTensors and the
 * process RSS flat. Samples both along the run; numTensors must not change at all after the
 * first step, RSS may wobble (allocator, JIT) but not grow with the step count.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { rssMiB } from "./measure.js";

/** What a leak check measured. */
export interface LeakCheckResult {
  /** Preset trained. */
  model: string;
  /** Images per step. */
  batch: number;
  /** Steps run. */
  steps: number;
  /** tf.memory().numTensors after selected steps. */
  numTensors: { step: number; count: number }[];
  /** Resident memory after selected steps. */
  rssMiB: { step: number; mib: number }[];
  /** numTensors after the last step equals its value after the first. */
  numTensorsFlat: boolean;
  /** RSS after the last step minus RSS after 10% of the steps (the first ones warm up allocators). */
  rssGrowthMiB: number;
  /** rssGrowthMiB within max(32 MiB, 5% of the reference RSS). */
  rssFlat: boolean;
  /** Wall-clock seconds of the check. */
  seconds: number;
}

/** Runs `step` `steps` times and samples tensor count and RSS about 20 times along the way. */
export async function runLeakCheck(
  step: () => Promise<unknown>,
  steps: number,
  meta: { model: string; batch: number },
): Promise<LeakCheckResult> {
  if (!Number.isInteger(steps) || steps < 2)
    throw new ConfigError(`leak check needs an integer >= 2 steps; got ${quote(steps)}`);
  const t0 = performance.now();
  const every = Math.max(1, Math.floor(steps / 20));
  const refStep = Math.max(1, Math.floor(steps / 10));
  const numTensors: LeakCheckResult["numTensors"] = [];
  const rss: LeakCheckResult["rssMiB"] = [];
  let refRss = 0;
  for (let i = 1; i <= steps; i++) {
    await step();
    if (i === 1 || i === refStep || i % every === 0 || i === steps) {
      numTensors.push({ step: i, count: tf.memory().numTensors });
      const mib = rssMiB();
      rss.push({ step: i, mib });
      if (i === refStep) refRss = mib;
    }
  }
  const growth = rss[rss.length - 1]!.mib - refRss;
  return {
    model: meta.model,
    batch: meta.batch,
    steps,
    numTensors,
    rssMiB: rss,
    numTensorsFlat: numTensors[numTensors.length - 1]!.count === numTensors[0]!.count,
    rssGrowthMiB: growth,
    rssFlat: growth <= Math.max(32, 0.05 * refRss),
    seconds: (performance.now() - t0) / 1000,
  };
}
