/**
 * `runExperiment`: trains one resolved config into a run folder and returns its summary.
 *
 * Files (all atomic): config.json (the resolved config, first), env.json (backend, versions,
 * machine), metrics.jsonl (one record per epoch), checkpoint/epoch-NNNN.ckpt (weights, momentum
 * buffers, epoch, RNG state and the metrics so far), summary.json (last). A folder holding
 * summary.json is done: its summary is returned without training. A folder holding a
 * checkpoint resumes from it and ends with the numbers an uninterrupted run gives, because
 * data order and augmentation are pure functions of (seed, epoch, step) and the checkpoint
 * restores every other piece of state exactly.
 *
 * Preemption: the loop yields to the event loop between steps (every `yieldMs`, default 50 ms),
 * so SIGTERM / SIGINT are handled: the run writes a checkpoint at the current step and throws
 * PreemptedError (callers exit with EXIT_PREEMPTED); a resume continues from that step. With
 * `checkpointMinutes` (or $SENET_LAB_CHECKPOINT_MINUTES) it also checkpoints within long epochs.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { currentBackend, initBackend } from "../backend/index.js";
import { checkDatasetLimits, datasetCounts } from "../data/counts.js";
import { type Dataset, loadDataset } from "../data/dataset.js";
import { mixSeed, Rng } from "../data/rng.js";
import { ConfigError, PreemptedError, quote } from "../errors.js";
import { saveModel } from "../io/file-handler.js";
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import {
  checkpointDir,
  loadLatestCheckpoint,
  type StoredTensor,
  saveCheckpoint,
} from "./checkpoint.js";
import {
  checkKeysApply,
  type ExperimentConfig,
  modelOverridesOf,
  type RawExperimentConfig,
  resolveExperimentConfig,
} from "./config.js";
import { describeEnv } from "./env.js";
import { accumulate, crossEntropy, emptyTotals, finishEval } from "./loss.js";
import { modelFactory } from "./model-adapter.js";
import { createProgress, formatDuration, type ProgressMode } from "./progress.js";
import { learningRate } from "./schedule.js";
import { withSeededRandom } from "./seed.js";
import { Sgd } from "./sgd.js";

/** File names inside a run folder. */
export const RUN_FILES = {
  config: "config.json",
  env: "env.json",
  metrics: "metrics.jsonl",
  summary: "summary.json",
  /** Folder of the final weights (saveModel format), written just before summary.json. */
  model: "model",
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

/** Options of runExperiment. */
export interface RunOptions {
  /** The run folder (created if absent). */
  runDir: string;
  /** Progress display: "auto" (default), "terminal", "notebook", "none"; true/false = auto/none. */
  progress?: ProgressMode | boolean;
  /** Called after each epoch's record and checkpoint are written. */
  onEpoch?: (record: EpochRecord) => void;
  /** Receives one line per epoch and the start/end lines (default: none). */
  log?: (line: string) => void;
  /** Builds the network instead of the zoo's createModel (custom networks; config.json then describes only the training keys faithfully). */
  buildModel?: (config: ExperimentConfig) => tf.LayersModel;
  /**
   * Also checkpoint within an epoch every this many minutes (long epochs lose at most that much
   * to a SIGKILL); default $SENET_LAB_CHECKPOINT_MINUTES, else none (end of epoch and signals
   * only). Not a config key: it changes no number, so it is no part of a run's identity.
   */
  checkpointMinutes?: number | null;
  /**
   * Handle SIGTERM and SIGINT while training (checkpoint at the current step, then throw
   * PreemptedError); default true. A second signal 2 s or more after the first ends the
   * process at once.
   */
  handleSignals?: boolean;
  /** Yield to the event loop when this many ms passed since the last yield (default 50; 0: every step). */
  yieldMs?: number;
}

/** Default time slice between yields to the event loop: cheap (well under 1 %) and prompt. */
export const DEFAULT_YIELD_MS = 50;

/** checkpointMinutes from the option, else $SENET_LAB_CHECKPOINT_MINUTES; a ConfigError names a bad value. */
export function resolveCheckpointMinutes(option: number | null | undefined): number | null {
  const env = process.env.SENET_LAB_CHECKPOINT_MINUTES;
  const raw = option !== undefined ? option : env !== undefined && env !== "" ? Number(env) : null;
  if (raw === null) return null;
  if (typeof raw !== "number" || !Number.isFinite(raw) || raw <= 0) {
    throw new ConfigError(
      `checkpointMinutes${option === undefined ? " ($SENET_LAB_CHECKPOINT_MINUTES)" : ""} must be a number of minutes > 0; got ${quote(option === undefined ? env : option)}`,
    );
  }
  return raw;
}

/** What a mid-epoch checkpoint keeps of the epoch in progress, to continue it exactly. */
interface PartialEpoch {
  /** Steps taken. */
  step: number;
  /** Sum of batch loss × batch size so far. */
  lossSum: number;
  /** Correct training predictions so far. */
  correct: number;
  /** Images seen so far. */
  seen: number;
  /** Seconds in steps so far. */
  stepSeconds: number;
  /** Seconds of the training phase so far. */
  trainSeconds: number;
  /** Learning rate of the epoch's first step. */
  lrFirst: number;
}

/** Loop state stored in each checkpoint. */
interface LoopState {
  history: EpochRecord[];
  rngState: number;
  wallSeconds: number;
  configDigest: string;
  /** The epoch in progress, in a mid-epoch checkpoint (absent at an epoch boundary). */
  partial?: PartialEpoch;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Counts trainable parameters (what the papers count). */
export function countTrainableParams(model: tf.LayersModel): number {
  return sum(model.trainableWeights.map((w) => (w.shape as number[]).reduce((a, b) => a * b, 1)));
}

/** True for weights that get weight decay: conv/dense kernels (names ending in "kernel"). */
export function isDecayed(originalName: string): boolean {
  return /kernel$/.test(originalName);
}

async function storeTensors(list: { name: string; t: tf.Tensor }[]): Promise<StoredTensor[]> {
  const out: StoredTensor[] = [];
  for (const { name, t } of list) {
    out.push({ name, shape: [...t.shape], values: new Float32Array(await t.data()) });
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly (number | null)[]) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Top-1/top-5/loss of `split`. With `flip`, the logits are the mean over each image and its
 * mirror (flip test-time augmentation), which is reported apart from the plain figures.
 */
async function evaluate(
  model: tf.LayersModel,
  ds: Dataset,
  split: "val" | "test",
  batchSize: number,
  flip = false,
) {
  const totals = emptyTotals();
  for (const b of ds.batches(split, batchSize)) {
    try {
      const logits = tf.tidy(() => {
        const plain = model.apply(b.x, { training: false }) as tf.Tensor;
        if (!flip) return plain;
        const mirrored = model.apply(tf.reverse(b.x, 2), { training: false }) as tf.Tensor;
        return tf.mul(tf.add(plain, mirrored), 0.5);
      });
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      accumulate(totals, data, b.labels, ds.numClasses);
    } finally {
      b.x.dispose();
      b.y.dispose();
    }
  }
  return { ...finishEval(totals), nonFinite: totals.nonFinite };
}

/** Removes config keys that describe no experiment (where the data lives, which backend) before comparing. */
function comparable(c: ExperimentConfig): string {
  const { dataDir: _d, backend: _b, ...rest } = c;
  return JSON.stringify(rest);
}

/**
 * Trains `config` (raw or resolved; it is resolved first, so bad input fails before anything
 * is read) into `options.runDir`. Returns the summary; a run that hits NaN/Inf returns status
 * "diverged" and does not throw.
 */
export async function runExperiment(
  rawConfig: ExperimentConfig | RawExperimentConfig,
  options: RunOptions,
): Promise<RunSummary> {
  const config = resolveExperimentConfig(rawConfig as RawExperimentConfig);
  // A key the network never reads (reduction without SE, ...) is refused, not ignored.
  checkKeysApply(rawConfig as RawExperimentConfig, config);
  const runDir = path.resolve(options.runDir);
  const log = options.log ?? (() => {});
  const files = Object.fromEntries(
    Object.entries(RUN_FILES).map(([k, f]) => [k, path.join(runDir, f)]),
  ) as Record<keyof typeof RUN_FILES, string>;

  const stored = readJsonIfExists<ExperimentConfig>(files.config);
  if (
    stored &&
    comparable(resolveExperimentConfig(stored as unknown as RawExperimentConfig)) !==
      comparable(config)
  ) {
    throw new ConfigError(
      `${runDir} holds a run of a different config (its config.json differs); use another runDir or delete it`,
    );
  }
  const done = readJsonIfExists<RunSummary>(files.summary);
  if (done) return done;

  const backend = config.backend
    ? await initBackend(config.backend)
    : (currentBackend() ?? (await initBackend()));
  // Every file check happens here, before a model is built or a file is written; the sizes
  // first (from file headers), so a trainSubset too large is named before the data is parsed.
  checkDatasetLimits(config, datasetCounts(config.dataset, config.dataDir));
  const ds = loadDataset(config.dataset, {
    dataDir: config.dataDir,
    seed: config.seed,
    valFraction: config.valFraction,
    trainSubset: config.trainSubset,
    augment: config.augment,
    hflip: config.hflip,
    cropPad: config.cropPad,
  });
  const createModel = options.buildModel ? undefined : await modelFactory();

  fs.mkdirSync(runDir, { recursive: true });
  removeStaleTempFiles(runDir);
  if (!stored) writeJsonAtomic(files.config, config);

  const rng = new Rng(mixSeed(config.seed, 0x1417));
  const model = withSeededRandom(rng, () =>
    options.buildModel
      ? options.buildModel(config)
      : createModel!(config.model, modelOverridesOf(config)),
  );
  const trainable = model.trainableWeights;
  const vars = trainable.map((w) => w.read() as tf.Variable);
  const sgd = new Sgd(
    vars,
    trainable.map((w) => isDecayed(w.originalName)),
    { momentum: config.momentum, nesterov: config.nesterov, weightDecay: config.weightDecay },
  );
  const params = countTrainableParams(model);

  const checkpointMinutes = resolveCheckpointMinutes(options.checkpointMinutes);
  const yieldMs = options.yieldMs ?? DEFAULT_YIELD_MS;
  let history: EpochRecord[] = [];
  let wallSeconds = 0;
  let partial: PartialEpoch | undefined;
  const digest = comparable(config);
  const ckpt = loadLatestCheckpoint<LoopState>(runDir);
  try {
    if (ckpt) {
      if (ckpt.state.configDigest !== digest) {
        throw new ConfigError(
          `${runDir}: its checkpoint belongs to a different config; delete the folder to start over`,
        );
      }
      const weights = model.weights;
      if (ckpt.weights.length !== weights.length || ckpt.buffers.length !== sgd.buffers.length) {
        throw new ConfigError(
          `${runDir}: checkpoint holds ${ckpt.weights.length} weights, the model has ${weights.length}`,
        );
      }
      weights.forEach((w, i) => {
        const s = ckpt.weights[i]!;
        if (!sameShape(s.shape, w.shape)) {
          throw new ConfigError(
            `${runDir}: checkpoint weight ${s.name} has shape ${quote(s.shape)}, the model's ${w.name} has ${quote(w.shape)}`,
          );
        }
        tf.tidy(() => {
          w.write(tf.tensor(s.values, s.shape, "float32"));
        });
      });
      sgd.buffers.forEach((b, i) => {
        const s = ckpt.buffers[i]!;
        tf.tidy(() => b.assign(tf.tensor(s.values, s.shape, "float32")));
      });
      history = ckpt.state.history;
      rng.state = ckpt.state.rngState;
      wallSeconds = ckpt.state.wallSeconds;
      partial = ckpt.step ? ckpt.state.partial : undefined;
    }
    // metrics.jsonl always mirrors the checkpoint: records of epochs after it are dropped.
    writeFileAtomic(files.metrics, metricsText(history));
    const startEpoch = history.length;
    writeJsonAtomic(files.env, {
      ...describeEnv(backend, startEpoch),
      data: {
        source: ds.source,
        counts: { train: ds.train.count, val: ds.val.count, test: ds.test.count },
        mean: ds.mean,
        std: ds.std,
      },
    });
    // Signals set a flag the loop reads between steps (it yields to the event loop for them).
    // Installed before the start line is logged: whoever reacts to that line (a sweep, a test)
    // may signal at once, and a signal before process.on takes the default action (death).
    let stopSignal: string | undefined;
    let firstSignalAt = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopSignal && performance.now() - firstSignalAt >= 2000) {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
        process.kill(process.pid, sig); // asked twice: the default action, now
        return;
      }
      if (!stopSignal) {
        stopSignal = sig;
        firstSignalAt = performance.now();
        log(`[senet-lab] ${sig}: checkpointing at the next step, then stopping`);
      }
    };
    if (options.handleSignals ?? true) {
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
    }
    log(
      `[senet-lab] ${config.model} on ${config.dataset} (${ds.train.count} train / ${ds.val.count} val / ${ds.test.count} test), ${params} params, ${config.epochs} epochs, backend ${tf.getBackend()}${startEpoch || partial ? `, resuming after epoch ${startEpoch}${partial ? ` and ${partial.step} steps` : ""}` : ""}`,
    );
    /** Writes a checkpoint of the current weights, momentum and loop state. */
    const writeCheckpoint = async (epochsDone: number, part: PartialEpoch | undefined) => {
      const weights = await storeTensors(
        model.weights.map((w) => ({ name: w.originalName, t: w.read() as tf.Tensor })),
      );
      const buffers = await storeTensors(
        sgd.buffers.map((b, i) => ({
          name: `momentum/${trainable[i]!.originalName}`,
          t: b as tf.Tensor,
        })),
      );
      saveCheckpoint<LoopState>(runDir, {
        epoch: epochsDone,
        ...(part ? { step: part.step } : {}),
        state: {
          history,
          rngState: rng.state,
          wallSeconds,
          configDigest: digest,
          ...(part ? { partial: part } : {}),
        },
        weights,
        buffers,
      });
    };

    const progress = createProgress(options.progress ?? "auto");
    const stepsPerEpoch = ds.batchCount("train", config.batchSize);
    let divergedAt: RunSummary["divergedAt"] = null;
    let lastYield = performance.now();
    let lastCheckpoint = performance.now();
    try {
      for (let epoch = startEpoch; epoch < config.epochs && !divergedAt; epoch++) {
        // A signal between epochs (during evaluation): the epoch's checkpoint is the state.
        if (stopSignal) throw new PreemptedError(stopSignal, epoch, 0, runDir);
        const resume = epoch === startEpoch ? partial : undefined;
        const t0 = performance.now() - (resume?.trainSeconds ?? 0) * 1000;
        let stepSeconds = resume?.stepSeconds ?? 0;
        let lossSum = resume?.lossSum ?? 0;
        let correct = resume?.correct ?? 0;
        let seen = resume?.seen ?? 0;
        let step = resume?.step ?? 0;
        let lrFirst = resume?.lrFirst ?? Number.NaN;
        let lr = Number.NaN;
        const pastRate = history.length
          ? sum(history.map((h) => h.imagesPerSec)) / history.length
          : 0;
        for (const b of ds.batches("train", config.batchSize, epoch, step)) {
          lr = learningRate(config, epoch, step, stepsPerEpoch);
          if (step === 0) lrFirst = lr;
          const s0 = performance.now();
          let lossValue: number;
          let batchCorrect: number;
          try {
            let correctT: tf.Tensor | undefined;
            const { value, grads } = withSeededRandom(rng, () =>
              tf.variableGrads(() => {
                const logits = model.apply(b.x, { training: true }) as tf.Tensor;
                correctT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), b.y), "int32")));
                return crossEntropy(logits, b.y, config.labelSmoothing);
              }, vars),
            );
            try {
              lossValue = (await value.data())[0]!;
              batchCorrect = (await correctT!.data())[0]!;
              if (Number.isFinite(lossValue))
                sgd.apply(
                  vars.map((v) => grads[v.name]!),
                  lr,
                );
            } finally {
              value.dispose();
              correctT?.dispose();
              tf.dispose(grads);
            }
          } finally {
            b.x.dispose();
            b.y.dispose();
          }
          stepSeconds += (performance.now() - s0) / 1000;
          if (!Number.isFinite(lossValue)) {
            divergedAt = { epoch: epoch + 1, step };
            break;
          }
          lossSum += lossValue * b.size;
          correct += batchCorrect;
          seen += b.size;
          step++;
          const elapsed = (performance.now() - t0) / 1000;
          const ips = seen / elapsed;
          const rate = ips > 0 ? ips : pastRate;
          progress.update({
            epoch: epoch + 1,
            epochs: config.epochs,
            done: seen,
            total: ds.train.count,
            imagesPerSec: ips,
            etaSeconds:
              rate > 0 ? ((config.epochs - epoch) * ds.train.count - seen) / rate : Number.NaN,
            loss: lossSum / seen,
            phase: "train",
          });
          // Let signals (and timers) in: every yieldMs, one setImmediate (~tens of µs).
          if (performance.now() - lastYield >= yieldMs) {
            await new Promise<void>((r) => setImmediate(r));
            lastYield = performance.now();
          }
          const timed =
            checkpointMinutes !== null &&
            performance.now() - lastCheckpoint >= checkpointMinutes * 60_000;
          if (stopSignal || timed) {
            const part: PartialEpoch = {
              step,
              lossSum,
              correct,
              seen,
              stepSeconds,
              trainSeconds: (performance.now() - t0) / 1000,
              lrFirst,
            };
            await writeCheckpoint(epoch, part);
            lastCheckpoint = performance.now();
            if (stopSignal) {
              progress.close();
              throw new PreemptedError(stopSignal, epoch, step, runDir);
            }
          }
        }
        const trainSeconds = (performance.now() - t0) / 1000;
        const e0 = performance.now();
        const empty = { loss: null, top1: null, top5: null, nonFinite: false };
        const val =
          divergedAt || ds.val.count === 0
            ? empty
            : await evaluate(model, ds, "val", config.evalBatchSize);
        const test = divergedAt ? empty : await evaluate(model, ds, "test", config.evalBatchSize);
        const testFlip =
          divergedAt || !config.testFlip
            ? null
            : await evaluate(model, ds, "test", config.evalBatchSize, true);
        if (!divergedAt && (val.nonFinite || test.nonFinite))
          divergedAt = { epoch: epoch + 1, step: null };
        const evalSeconds = (performance.now() - e0) / 1000;
        const record: EpochRecord = {
          epoch: epoch + 1,
          lr: lrFirst,
          lrEnd: lr,
          trainLoss: divergedAt ? null : lossSum / seen,
          trainTop1: divergedAt ? null : correct / seen,
          valLoss: val.loss,
          valTop1: val.top1,
          valTop5: val.top5,
          testLoss: test.loss,
          testTop1: test.top1,
          testTop5: test.top5,
          ...(config.testFlip ? { testFlipTop1: testFlip?.top1 ?? null } : {}),
          imagesPerSec: seen / trainSeconds,
          seconds: 0,
          trainSeconds,
          stepSeconds,
          evalSeconds,
          checkpointSeconds: 0,
        };
        if (divergedAt) {
          record.diverged = true;
          record.seconds = (performance.now() - t0) / 1000;
          history.push(record);
          writeFileAtomic(files.metrics, metricsText(history));
          log(
            `[senet-lab] epoch ${epoch + 1}/${config.epochs}: diverged (NaN/Inf ${divergedAt.step === null ? "in evaluation" : `at step ${divergedAt.step}`})`,
          );
          progress.epochDone(`epoch ${epoch + 1}/${config.epochs} diverged`);
          options.onEpoch?.(record);
          break;
        }
        const c0 = performance.now();
        record.seconds = (performance.now() - t0) / 1000;
        wallSeconds += record.seconds;
        history.push(record);
        await writeCheckpoint(epoch + 1, undefined);
        lastCheckpoint = performance.now();
        record.checkpointSeconds = (performance.now() - c0) / 1000;
        writeFileAtomic(files.metrics, metricsText(history));
        const line = epochLine(record, config.epochs);
        log(`[senet-lab] ${line}`);
        progress.epochDone(line);
        options.onEpoch?.(record);
      }
    } finally {
      progress.close();
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }

    const completed = history.filter((h) => !h.diverged);
    const last = completed[completed.length - 1];
    const withVal = completed.filter((h) => h.valTop1 !== null);
    const best = withVal.reduce<EpochRecord | undefined>(
      (a, h) => (!a || h.valTop1! > a.valTop1! ? h : a),
      undefined,
    );
    const trainSec = sum(completed.map((h) => h.trainSeconds));
    const stepSec = sum(completed.map((h) => h.stepSeconds));
    const ok = !divergedAt && last;
    const summary: RunSummary = {
      status: divergedAt ? "diverged" : "completed",
      epochs: completed.length,
      epochsPlanned: config.epochs,
      divergedAt,
      testTop1: ok ? last.testTop1 : null,
      testTop5: ok ? last.testTop5 : null,
      testLoss: ok ? last.testLoss : null,
      testFlipTop1: ok ? (last.testFlipTop1 ?? null) : null,
      testError: ok && last.testTop1 !== null ? 100 * (1 - last.testTop1) : null,
      testTop5Error: ok && last.testTop5 !== null ? 100 * (1 - last.testTop5) : null,
      valTop1: ok ? last.valTop1 : null,
      valLoss: ok ? last.valLoss : null,
      bestValTop1: best?.valTop1 ?? null,
      bestValEpoch: best?.epoch ?? null,
      trainLoss: last?.trainLoss ?? null,
      trainTop1: last?.trainTop1 ?? null,
      imagesPerSec: trainSec > 0 ? (ds.train.count * completed.length) / trainSec : 0,
      wallSeconds,
      params,
      loopOverhead: stepSec > 0 ? (trainSec - stepSec) / stepSec : 0,
      resumedFromEpoch: startEpoch,
      // metrics.jsonl was last written from `history` (above); summary.json records what it holds.
      metricsFile: metricsFileCheck(metricsText(history)),
    };
    // The final weights as an ordinary tfjs model folder (model.json + weights.bin, about 4 bytes
    // per parameter): what a notebook that studies a trained network loads, and small enough to
    // commit where one needs it, unlike the checkpoints (weights and momentum of every epoch).
    if (ok) await saveModel(model, path.join(runDir, RUN_FILES.model));
    writeJsonAtomic(files.summary, summary);
    log(
      `[senet-lab] ${summary.status}: ${summary.epochs} epochs, test top-1 ${fmtPct(summary.testTop1)}, top-5 ${fmtPct(summary.testTop5)}, ${summary.imagesPerSec.toFixed(1)} img/s, ${formatDuration(summary.wallSeconds)}`,
    );
    return summary;
  } finally {
    sgd.dispose();
    model.dispose();
  }
}

/** Deletes temp files an atomic write killed mid-way left behind (".<name>.<pid>.<hex>.tmp"). */
function removeStaleTempFiles(runDir: string): void {
  for (const dir of [runDir, checkpointDir(runDir)]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      if (/^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
    }
  }
}

function fmtPct(x: number | null): string {
  return x === null ? "n/a" : `${(100 * x).toFixed(2)}%`;
}

/** One human line per epoch. */
export function epochLine(r: EpochRecord, epochs: number): string {
  return `epoch ${r.epoch}/${epochs} lr ${r.lr.toPrecision(3)} train loss ${r.trainLoss?.toFixed(4)} top-1 ${fmtPct(r.trainTop1)} | val top-1 ${fmtPct(r.valTop1)} | test loss ${r.testLoss?.toFixed(4) ?? "n/a"} top-1 ${fmtPct(r.testTop1)} top-5 ${fmtPct(r.testTop5)} | ${r.imagesPerSec.toFixed(1)} img/s ${formatDuration(r.seconds)}`;
}
