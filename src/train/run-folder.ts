/**
 * A run folder, in one place: its file names, their paths, the records they hold (metrics.jsonl
 * lines, summary.json), reading a folder back, and clearing what killed writers left in it.
 * Training (run.ts), sweeps (sweep/layout.ts, run-one.ts, reuse.ts) and reports read these
 * names from here. Checkpoints live in its `checkpoint/` folder (checkpoint.ts).
 *
 *   config.json     the resolved config, written first
 *   env.json        backend, versions, machine, data provenance
 *   metrics.jsonl   one EpochRecord per epoch, rewritten atomically after each
 *   checkpoint/     epoch-NNNN[.step-SSSSSS].ckpt: weights, momentum, loop state
 *   model/          the final weights (saveModel format), just before summary.json
 *   summary.json    the RunSummary, last: a folder holding it is done
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { SenetLabError } from "../errors.js";
import { readJsonIfExists, readJsonl, removeTempFiles } from "../util/fs.js";
import type { ExperimentConfig } from "./config.js";
import type { RunEnv } from "./env.js";

/** File names inside a run folder. */
export const RUN_FILES = {
  config: "config.json",
  env: "env.json",
  metrics: "metrics.jsonl",
  summary: "summary.json",
  /** Folder of the final weights (saveModel format), written just before summary.json. */
  model: "model",
  /** Folder of the checkpoints (checkpoint.ts writes and reads them). */
  checkpoint: "checkpoint",
} as const;

/** One line of metrics.jsonl: everything measured in one epoch. */
export interface EpochRecord {
  /** Epoch number, 1-based. */
  epoch: number;
  /** Learning rate of the epoch's first step. */
  lr: number;
  /** Learning rate of its last step. */
  lrEnd: number;
  /** Mean training loss over the epoch (label-smoothed objective), null if it diverged. */
  trainLoss: number | null;
  /** Training top-1 accuracy (augmented images, training-mode BN). */
  trainTop1: number | null;
  /** Validation cross-entropy (no smoothing); null without a val split. */
  valLoss: number | null;
  /** Validation top-1 accuracy. */
  valTop1: number | null;
  /** Validation top-5 accuracy. */
  valTop5: number | null;
  /** Test cross-entropy (no smoothing). */
  testLoss: number | null;
  /** Test top-1 accuracy. */
  testTop1: number | null;
  /** Test top-5 accuracy. */
  testTop5: number | null;
  /** Test top-1 with flip test-time augmentation (config testFlip); absent otherwise. */
  testFlipTop1?: number | null;
  /** Training throughput of the epoch (images / training-phase seconds). */
  imagesPerSec: number;
  /** Wall seconds of the whole epoch (training, evaluation, checkpoint). */
  seconds: number;
  /** Wall seconds of the training phase (batches built, steps, progress). */
  trainSeconds: number;
  /** Seconds inside the training steps themselves (forward, backward, update, loss read). */
  stepSeconds: number;
  /** Seconds evaluating val and test. */
  evalSeconds: number;
  /** Seconds writing the checkpoint and metrics. */
  checkpointSeconds: number;
  /** Present and true on the epoch in which NaN/Inf appeared. */
  diverged?: boolean;
}

/** summary.json: the outcome of a run. */
export interface RunSummary {
  /** "completed", or "diverged" when a loss or logit became NaN/Inf (the run stops there). */
  status: "completed" | "diverged";
  /** Epochs completed (the diverged epoch not counted). */
  epochs: number;
  /** Epochs the config asked for. */
  epochsPlanned: number;
  /** Where NaN/Inf appeared (epoch 1-based, step 0-based; step null when found at evaluation). */
  divergedAt: { epoch: number; step: number | null } | null;
  /** Final test top-1 accuracy (fraction), null if diverged. */
  testTop1: number | null;
  /** Final test top-5 accuracy (fraction). */
  testTop5: number | null;
  /** Final test cross-entropy. */
  testLoss: number | null;
  /** Final test top-1 with flip test-time augmentation (config testFlip), else null. */
  testFlipTop1: number | null;
  /** Final test top-1 error in percent (100·(1 − top-1)), as papers report. */
  testError: number | null;
  /** Final test top-5 error in percent. */
  testTop5Error: number | null;
  /** Final validation top-1 accuracy (null without a val split). */
  valTop1: number | null;
  /** Final validation loss. */
  valLoss: number | null;
  /** Best validation top-1 over the epochs. */
  bestValTop1: number | null;
  /** Epoch (1-based) of the best validation top-1. */
  bestValEpoch: number | null;
  /** Final epoch's mean training loss. */
  trainLoss: number | null;
  /** Final epoch's training top-1. */
  trainTop1: number | null;
  /** Mean training throughput over all epochs (images per training-phase second). */
  imagesPerSec: number;
  /** Wall seconds of all epochs, summed over resumes (excludes setup). */
  wallSeconds: number;
  /** Trainable parameters (BN moving statistics excluded, as papers count). */
  params: number;
  /** Loop overhead: (training-phase time − time in steps) / time in steps, over all epochs. */
  loopOverhead: number;
  /** Epoch the last start resumed from (0: ran from scratch in one go). */
  resumedFromEpoch: number;
  /**
   * What metrics.jsonl held when the run finished (its record count and SHA-256), so a file
   * truncated or altered later is told from a finished run's curve; absent in runs written
   * before this field existed, which are then not checked.
   */
  metricsFile?: MetricsFileCheck;
}

/** The line count and checksum of a finished run's metrics.jsonl, recorded in its summary. */
export interface MetricsFileCheck {
  /** Records (lines) in the file. */
  lines: number;
  /** SHA-256 (hex) of the file's bytes. */
  sha256: string;
}

/** The text of metrics.jsonl for a history: one JSON record per line. */
export function metricsText(history: readonly EpochRecord[]): string {
  return history.map((r) => `${JSON.stringify(r)}\n`).join("");
}

/** The check a summary records for metrics.jsonl holding `text`. */
export function metricsFileCheck(text: string): MetricsFileCheck {
  const lines = text.split("\n").filter((l) => l.trim() !== "").length;
  return { lines, sha256: createHash("sha256").update(text, "utf8").digest("hex") };
}

/** Absolute paths of a run folder's files (RUN_FILES), by key. */
export function runFiles(runDir: string): Record<keyof typeof RUN_FILES, string> {
  return Object.fromEntries(
    Object.entries(RUN_FILES).map(([k, f]) => [k, path.join(runDir, f)]),
  ) as Record<keyof typeof RUN_FILES, string>;
}

/**
 * Deletes the temp files killed writers left anywhere in a run folder (its checkpoint/ and
 * model/ included). Called once per start of a run, by its trainer, which holds the folder.
 */
export function clearRunTempFiles(runDir: string): number {
  return removeTempFiles(runDir, { recursive: true });
}

/** A run folder's content. */
export interface RunRecord {
  /** The folder. */
  runDir: string;
  /** The resolved config it ran. */
  config: ExperimentConfig;
  /** One record per completed (or diverged) epoch. */
  metrics: EpochRecord[];
  /** The summary, once the run has finished (undefined while running or after a kill). */
  summary: RunSummary | undefined;
  /** Where it ran (undefined if the run never got that far). */
  env: RunEnv | undefined;
}

/** Reads a run folder; throws when it holds no config.json (not a run folder). */
export function readRun(runDir: string): RunRecord {
  const config = readJsonIfExists<ExperimentConfig>(runFiles(runDir).config);
  if (!config)
    throw new SenetLabError(`${runDir} is not a run folder: it has no ${RUN_FILES.config}`);
  return {
    runDir,
    config,
    metrics: readJsonl<EpochRecord>(runFiles(runDir).metrics),
    summary: readJsonIfExists<RunSummary>(runFiles(runDir).summary),
    env: readJsonIfExists<RunEnv>(runFiles(runDir).env),
  };
}
