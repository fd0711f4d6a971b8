/**
 * `runExperiment`: trains one resolved config into a run folder and returns its summary.
 *
 * The folder's files are described in run-folder.ts (all written atomically). A folder holding
 * summary.json is done: its summary is returned without training. A folder holding a
 * checkpoint resumes from it and ends with the numbers an uninterrupted run gives, because
 * data order and augmentation are pure functions of (seed, epoch, step) and the checkpoint
 * restores every other piece of state exactly.
 *
 * Preemption: the loop yields to the event loop between steps (every `yieldMs`, default 50 ms),
 * so SIGTERM / SIGINT are handled: the run writes a checkpoint at the current step and throws
 * PreemptedError (callers exit with EXIT_PREEMPTED); a resume continues from that step. With
 * `checkpointMinutes` (or $SENET_LAB_CHECKPOINT_MINUTES) it also checkpoints within long epochs.
 *
 * The pieces: openRun (config checks, data, model), resumeFrom (a checkpoint's state),
 * trainStep (step.ts, one batch), evaluate (evaluate.ts), summarize (the summary from the
 * epochs' records); runExperiment strings them together with the epoch loop.
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  type BackendInfo,
  checkPrecision,
  currentBackend,
  initBackend,
  setPrecision,
} from "../backend/index.js";
import { checkDatasetLimits, datasetCounts } from "../data/counts.js";
import { type Dataset, loadDataset } from "../data/dataset.js";
import { mixSeed, Rng } from "../data/rng.js";
import { ConfigError, PreemptedError, quote } from "../errors.js";
import { saveModel } from "../io/file-handler.js";
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import {
  type Checkpoint,
  loadLatestCheckpoint,
  type StoredTensor,
  saveCheckpoint,
} from "./checkpoint.js";
import {
  checkKeysApply,
  type ExperimentConfig,
  ensureResolved,
  experimentOf,
  type RawExperimentConfig,
  resolveExperimentConfig,
} from "./config.js";
import { describeEnv } from "./env.js";
import { evaluate } from "./evaluate.js";
import { type ModelFactory, modelFactory } from "./model-adapter.js";
import { createProgress, formatDuration, type ProgressMode } from "./progress.js";
import {
  clearRunTempFiles,
  type EpochRecord,
  metricsFileCheck,
  metricsText,
  RUN_FILES,
  type RunSummary,
  runFiles,
} from "./run-folder.js";
import { learningRate } from "./schedule.js";
import { withSeededRandom } from "./seed.js";
import { type TrainStepState, trainStep, trainStepState } from "./step.js";

export { isDecayed } from "./step.js";

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

/** Removes config keys that describe no experiment (where the data lives, which backend) before comparing. */
function comparable(c: ExperimentConfig): string {
  const { dataDir: _d, backend: _b, ...rest } = c;
  return JSON.stringify(rest);
}

/** What openRun prepared: everything a run needs before its first step. */
interface OpenRun {
  config: ExperimentConfig;
  runDir: string;
  files: ReturnType<typeof runFiles>;
  /** Whether config.json was already there (a resume). */
  stored: boolean;
  backend: BackendInfo;
  ds: Dataset;
  createModel: ModelFactory | undefined;
}

/**
 * Resolves and checks the config, compares it with a folder's config.json, loads the backend
 * and the data: every check that can fail happens here, before a model is built or a file is
 * written. Returns the finished summary instead when the folder is done.
 */
async function openRun(
  rawConfig: ExperimentConfig | RawExperimentConfig,
  options: RunOptions,
): Promise<OpenRun | { done: RunSummary }> {
  const config = ensureResolved(rawConfig);
  // A key the network never reads (reduction without SE, ...) is refused, not ignored.
  checkKeysApply(rawConfig as RawExperimentConfig, config);
  const runDir = path.resolve(options.runDir);
  const files = runFiles(runDir);
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
  if (done) return { done };

  const backend = config.backend
    ? await initBackend(config.backend)
    : (currentBackend() ?? (await initBackend()));
  // bf16 on a backend or CPU without it is refused here, before the data is read.
  checkPrecision(config.precision);
  // The sizes first (from file headers), so a trainSubset too large is named before the data
  // is parsed.
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
  return { config, runDir, files, stored: Boolean(stored), backend, ds, createModel };
}

/** The loop state a run starts from: fresh, or what its latest checkpoint restores. */
interface StartState {
  history: EpochRecord[];
  wallSeconds: number;
  partial: PartialEpoch | undefined;
}

/**
 * Restores weights, momentum buffers and the RNG from checkpoint `ckpt` into the step state,
 * after checking that it belongs to this config and this network.
 */
function resumeFrom(
  ckpt: Checkpoint<LoopState>,
  st: TrainStepState,
  rng: Rng,
  digest: string,
  runDir: string,
): StartState {
  if (ckpt.state.configDigest !== digest) {
    throw new ConfigError(
      `${runDir}: its checkpoint belongs to a different config; delete the folder to start over`,
    );
  }
  const weights = st.model.weights;
  if (ckpt.weights.length !== weights.length || ckpt.buffers.length !== st.sgd.buffers.length) {
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
  st.sgd.buffers.forEach((b, i) => {
    const s = ckpt.buffers[i]!;
    tf.tidy(() => b.assign(tf.tensor(s.values, s.shape, "float32")));
  });
  rng.state = ckpt.state.rngState;
  return {
    history: ckpt.state.history,
    wallSeconds: ckpt.state.wallSeconds,
    partial: ckpt.step ? ckpt.state.partial : undefined,
  };
}

/** The run's summary from its epochs' records (`history`) and how it ended. */
function summarize(
  history: EpochRecord[],
  o: {
    config: ExperimentConfig;
    divergedAt: RunSummary["divergedAt"];
    trainCount: number;
    wallSeconds: number;
    params: number;
    startEpoch: number;
  },
): RunSummary {
  const completed = history.filter((h) => !h.diverged);
  const last = completed[completed.length - 1];
  const withVal = completed.filter((h) => h.valTop1 !== null);
  const best = withVal.reduce<EpochRecord | undefined>(
    (a, h) => (!a || h.valTop1! > a.valTop1! ? h : a),
    undefined,
  );
  const trainSec = sum(completed.map((h) => h.trainSeconds));
  const stepSec = sum(completed.map((h) => h.stepSeconds));
  const ok = !o.divergedAt && last;
  return {
    status: o.divergedAt ? "diverged" : "completed",
    epochs: completed.length,
    epochsPlanned: o.config.epochs,
    divergedAt: o.divergedAt,
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
    imagesPerSec: trainSec > 0 ? (o.trainCount * completed.length) / trainSec : 0,
    wallSeconds: o.wallSeconds,
    params: o.params,
    loopOverhead: stepSec > 0 ? (trainSec - stepSec) / stepSec : 0,
    resumedFromEpoch: o.startEpoch,
    // metrics.jsonl was last written from `history`; summary.json records what it holds.
    metricsFile: metricsFileCheck(metricsText(history)),
  };
}

/**
 * SIGTERM / SIGINT while training: the first sets the flag the loop reads between steps; a
 * second one 2 s or more later takes the default action at once. `uninstall` removes them.
 */
function signalFlag(
  log: (line: string) => void,
  install: boolean,
): { readonly signal: string | undefined; uninstall(): void } {
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
  if (install) {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  return {
    get signal() {
      return stopSignal;
    },
    uninstall() {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
}

/** What the epoch functions share within one run: its parts and the loop's clocks. */
interface EpochLoop {
  config: ExperimentConfig;
  ds: Dataset;
  st: TrainStepState;
  runDir: string;
  /** Records of the finished epochs (read for the ETA's past rate). */
  history: EpochRecord[];
  progress: ReturnType<typeof createProgress>;
  signals: { readonly signal: string | undefined };
  /** Writes a checkpoint after `epochsDone` epochs and, mid-epoch, the epoch's part. */
  writeCheckpoint: (epochsDone: number, part: PartialEpoch | undefined) => Promise<void>;
  stepsPerEpoch: number;
  checkpointMinutes: number | null;
  yieldMs: number;
  lastYield: number;
  lastCheckpoint: number;
}

/** The training phase of one epoch, as the evaluation and the record need it. */
interface TrainPhase extends PartialEpoch {
  /** performance.now() at the epoch's start (moved back by a resumed part's seconds). */
  t0: number;
  /** Learning rate of the last step. */
  lr: number;
  /** Where a non-finite loss stopped it, else null. */
  divergedAt: RunSummary["divergedAt"];
}

/**
 * Epoch `epoch`'s training phase (from `resume`'s step when continuing a mid-epoch
 * checkpoint): every batch through trainStep, progress, yields to the event loop, timed
 * checkpoints, and a checkpoint then PreemptedError when a signal came.
 */
async function trainEpoch(
  loop: EpochLoop,
  epoch: number,
  resume: PartialEpoch | undefined,
): Promise<TrainPhase> {
  const { config, ds, progress } = loop;
  const t0 = performance.now() - (resume?.trainSeconds ?? 0) * 1000;
  let stepSeconds = resume?.stepSeconds ?? 0;
  let lossSum = resume?.lossSum ?? 0;
  let correct = resume?.correct ?? 0;
  let seen = resume?.seen ?? 0;
  let step = resume?.step ?? 0;
  let lrFirst = resume?.lrFirst ?? Number.NaN;
  let lr = Number.NaN;
  let divergedAt: RunSummary["divergedAt"] = null;
  const pastRate = loop.history.length
    ? sum(loop.history.map((h) => h.imagesPerSec)) / loop.history.length
    : 0;
  for (const b of ds.batches("train", config.batchSize, epoch, step)) {
    lr = learningRate(config, epoch, step, loop.stepsPerEpoch);
    if (step === 0) lrFirst = lr;
    const s0 = performance.now();
    let r: Awaited<ReturnType<typeof trainStep>>;
    try {
      r = await trainStep(loop.st, b.x, b.y, lr);
    } finally {
      b.x.dispose();
      b.y.dispose();
    }
    stepSeconds += (performance.now() - s0) / 1000;
    if (!Number.isFinite(r.loss)) {
      divergedAt = { epoch: epoch + 1, step };
      break;
    }
    lossSum += r.loss * b.size;
    correct += r.correct;
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
      etaSeconds: rate > 0 ? ((config.epochs - epoch) * ds.train.count - seen) / rate : Number.NaN,
      loss: lossSum / seen,
      phase: "train",
    });
    // Let signals (and timers) in: every yieldMs, one setImmediate (~tens of µs).
    if (performance.now() - loop.lastYield >= loop.yieldMs) {
      await new Promise<void>((r) => setImmediate(r));
      loop.lastYield = performance.now();
    }
    const timed =
      loop.checkpointMinutes !== null &&
      performance.now() - loop.lastCheckpoint >= loop.checkpointMinutes * 60_000;
    const signal = loop.signals.signal;
    if (signal || timed) {
      const part: PartialEpoch = {
        step,
        lossSum,
        correct,
        seen,
        stepSeconds,
        trainSeconds: (performance.now() - t0) / 1000,
        lrFirst,
      };
      await loop.writeCheckpoint(epoch, part);
      loop.lastCheckpoint = performance.now();
      if (signal) {
        progress.close();
        throw new PreemptedError(signal, epoch, step, loop.runDir);
      }
    }
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  return { step, lossSum, correct, seen, stepSeconds, trainSeconds, lrFirst, t0, lr, divergedAt };
}

/**
 * Evaluates after epoch `epoch`'s training phase (val, test, flip TTA when configured) and
 * returns its record; `diverged` is set when training or evaluation met NaN/Inf.
 */
async function evaluateEpoch(loop: EpochLoop, epoch: number, p: TrainPhase): Promise<EpochRecord> {
  const { config, ds } = loop;
  const model = loop.st.model;
  const e0 = performance.now();
  const empty = { loss: null, top1: null, top5: null, nonFinite: false };
  const val =
    p.divergedAt || ds.val.count === 0
      ? empty
      : await evaluate(model, ds, "val", config.evalBatchSize);
  const test = p.divergedAt ? empty : await evaluate(model, ds, "test", config.evalBatchSize);
  const testFlip =
    p.divergedAt || !config.testFlip
      ? null
      : await evaluate(model, ds, "test", config.evalBatchSize, true);
  const diverged = Boolean(p.divergedAt) || val.nonFinite || test.nonFinite;
  const evalSeconds = (performance.now() - e0) / 1000;
  const record: EpochRecord = {
    epoch: epoch + 1,
    lr: p.lrFirst,
    lrEnd: p.lr,
    trainLoss: diverged ? null : p.lossSum / p.seen,
    trainTop1: diverged ? null : p.correct / p.seen,
    valLoss: val.loss,
    valTop1: val.top1,
    valTop5: val.top5,
    testLoss: test.loss,
    testTop1: test.top1,
    testTop5: test.top5,
    ...(config.testFlip ? { testFlipTop1: testFlip?.top1 ?? null } : {}),
    imagesPerSec: p.seen / p.trainSeconds,
    seconds: 0,
    trainSeconds: p.trainSeconds,
    stepSeconds: p.stepSeconds,
    evalSeconds,
    checkpointSeconds: 0,
  };
  if (diverged) record.diverged = true;
  return record;
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
  const opened = await openRun(rawConfig, options);
  if ("done" in opened) return opened.done;
  const { config, runDir, files, backend, ds, createModel } = opened;
  const log = options.log ?? (() => {});

  fs.mkdirSync(runDir, { recursive: true });
  clearRunTempFiles(runDir);
  if (!opened.stored) writeJsonAtomic(files.config, config);

  const rng = new Rng(mixSeed(config.seed, 0x1417));
  const model = withSeededRandom(rng, () =>
    options.buildModel
      ? options.buildModel(config)
      : createModel!(experimentOf(config).model, config.model),
  );
  const st = trainStepState(model, config, rng);
  const { sgd } = st;
  const trainable = model.trainableWeights;
  const params = countTrainableParams(model);

  const checkpointMinutes = resolveCheckpointMinutes(options.checkpointMinutes);
  const yieldMs = options.yieldMs ?? DEFAULT_YIELD_MS;
  const digest = comparable(config);
  const ckpt = loadLatestCheckpoint<LoopState>(runDir);
  // The run's arithmetic, for its training and evaluation; the caller's is restored after.
  const callerPrecision = setPrecision(config.precision);
  try {
    const start: StartState = ckpt
      ? resumeFrom(ckpt, st, rng, digest, runDir)
      : { history: [], wallSeconds: 0, partial: undefined };
    const { history, partial } = start;
    let { wallSeconds } = start;
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
    // Installed before the start line is logged: whoever reacts to that line (a sweep, a test)
    // may signal at once, and a signal before process.on takes the default action (death).
    const signals = signalFlag(log, options.handleSignals ?? true);
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
    const loop: EpochLoop = {
      config,
      ds,
      st,
      runDir,
      history,
      progress,
      signals,
      writeCheckpoint,
      stepsPerEpoch: ds.batchCount("train", config.batchSize),
      checkpointMinutes,
      yieldMs,
      lastYield: performance.now(),
      lastCheckpoint: performance.now(),
    };
    let divergedAt: RunSummary["divergedAt"] = null;
    try {
      for (let epoch = startEpoch; epoch < config.epochs && !divergedAt; epoch++) {
        // A signal between epochs (during evaluation): the epoch's checkpoint is the state.
        if (signals.signal) throw new PreemptedError(signals.signal, epoch, 0, runDir);
        const phase = await trainEpoch(loop, epoch, epoch === startEpoch ? partial : undefined);
        divergedAt = phase.divergedAt;
        const record = await evaluateEpoch(loop, epoch, phase);
        if (record.diverged) {
          divergedAt ??= { epoch: epoch + 1, step: null };
          record.seconds = (performance.now() - phase.t0) / 1000;
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
        record.seconds = (performance.now() - phase.t0) / 1000;
        wallSeconds += record.seconds;
        history.push(record);
        await writeCheckpoint(epoch + 1, undefined);
        loop.lastCheckpoint = performance.now();
        record.checkpointSeconds = (performance.now() - c0) / 1000;
        writeFileAtomic(files.metrics, metricsText(history));
        const line = epochLine(record, config.epochs);
        log(`[senet-lab] ${line}`);
        progress.epochDone(line);
        options.onEpoch?.(record);
      }
    } finally {
      progress.close();
      signals.uninstall();
    }

    const summary = summarize(history, {
      config,
      divergedAt,
      trainCount: ds.train.count,
      wallSeconds,
      params,
      startEpoch,
    });
    // The final weights as an ordinary tfjs model folder (model.json + weights.bin, about 4 bytes
    // per parameter): what a notebook that studies a trained network loads, and small enough to
    // commit where one needs it, unlike the checkpoints (weights and momentum of every epoch).
    if (summary.status === "completed" && summary.epochs > 0) {
      await saveModel(model, path.join(runDir, RUN_FILES.model));
    }
    writeJsonAtomic(files.summary, summary);
    log(
      `[senet-lab] ${summary.status}: ${summary.epochs} epochs, test top-1 ${fmtPct(summary.testTop1)}, top-5 ${fmtPct(summary.testTop5)}, ${summary.imagesPerSec.toFixed(1)} img/s, ${formatDuration(summary.wallSeconds)}`,
    );
    return summary;
  } finally {
    setPrecision(callerPrecision);
    sgd.dispose();
    model.dispose();
  }
}

function fmtPct(x: number | null): string {
  return x === null ? "n/a" : `${(100 * x).toFixed(2)}%`;
}

/** One human line per epoch. */
export function epochLine(r: EpochRecord, epochs: number): string {
  return `epoch ${r.epoch}/${epochs} lr ${r.lr.toPrecision(3)} train loss ${r.trainLoss?.toFixed(4)} top-1 ${fmtPct(r.trainTop1)} | val top-1 ${fmtPct(r.valTop1)} | test loss ${r.testLoss?.toFixed(4) ?? "n/a"} top-1 ${fmtPct(r.testTop1)} top-5 ${fmtPct(r.testTop5)} | ${r.imagesPerSec.toFixed(1)} img/s ${formatDuration(r.seconds)}`;
}
