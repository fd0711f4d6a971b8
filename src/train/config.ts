/**
 * The experiment config: one flat, JSON-serialisable object holding the model keys (a `model`
 * preset name plus any key of the model config) and the training keys below.
 * `resolveExperimentConfig(raw)` validates it all before anything expensive happens (unknown
 * keys list the valid ones; wrong types and impossible combinations are errors) and returns
 * the config with every default filled; that resolved object is what a run writes to
 * config.json, and resolving it again gives the same object.
 */
import { BACKEND_CHOICES, type BackendChoice } from "../backend/index.js";
import { checkDatasetName } from "../data/dataset.js";
import { DATASETS, type DatasetName } from "../data/registry.js";
import { ConfigError, oneOf, quote } from "../errors.js";
import {
  ATTENTION_KEY_READERS,
  attentionReads,
  MODEL_KEYS,
  type ModelConfig,
  resolveModelFor,
} from "./model-adapter.js";
import { SCHEDULES, type ScheduleName } from "./schedule.js";

/** Every training key, in documentation order. */
export const TRAIN_CONFIG_KEYS = [
  "dataset",
  "dataDir",
  "epochs",
  "batchSize",
  "evalBatchSize",
  "lr",
  "momentum",
  "nesterov",
  "weightDecay",
  "schedule",
  "stepSize",
  "milestones",
  "gamma",
  "minLr",
  "warmupEpochs",
  "labelSmoothing",
  "trainSubset",
  "valFraction",
  "augment",
  "hflip",
  "cropPad",
  "testFlip",
  "seed",
  "backend",
] as const;
/** A training key. */
export type TrainConfigKey = (typeof TRAIN_CONFIG_KEYS)[number];

/** The training half of a resolved config. */
export interface TrainConfig {
  /** Dataset name (default "fashion-mnist"). */
  dataset: DatasetName;
  /** Folder holding the dataset (null: SENET_LAB_DATA_DIR, then system folders). Default null. */
  dataDir: string | null;
  /** Training epochs (>= 1). Default 10. */
  epochs: number;
  /** Images per training step. Default 128. */
  batchSize: number;
  /** Images per evaluation batch (speed only: evaluation uses BN's moving statistics). Default 256. */
  evalBatchSize: number;
  /** Base learning rate. Default 0.1. */
  lr: number;
  /** SGD momentum in [0, 1). Default 0.9. */
  momentum: number;
  /** Nesterov momentum (needs momentum > 0). Default false. */
  nesterov: boolean;
  /** L2 weight decay on conv/dense kernels only (not biases, BN, SGE parameters). Default 1e-4. */
  weightDecay: number;
  /** "constant" | "step" | "multistep" | "cosine" | "linear" (decay to minLr; with warm-up, one-cycle). Default "cosine". */
  schedule: ScheduleName;
  /** "step" only: epochs between decays (default max(1, floor(epochs / 3))); null otherwise. */
  stepSize: number | null;
  /** "multistep" only: epochs at which the rate decays (default [50%, 75%] of epochs, He et al.); null otherwise. */
  milestones: number[] | null;
  /** "step"/"multistep" only: decay factor (default 0.1); null otherwise. */
  gamma: number | null;
  /** "cosine"/"linear" only: final rate (default 0); null otherwise. */
  minLr: number | null;
  /** Epochs of linear warm-up before the schedule (may be fractional). Default 0. */
  warmupEpochs: number;
  /** Label smoothing ε in [0, 1) for the training loss. Default 0. */
  labelSmoothing: number;
  /** Train on only this many images (after the val split); null: all. Default null. */
  trainSubset: number | null;
  /** Fraction of the training set held out for validation, [0, 1). Default 0.1. */
  valFraction: number;
  /** Pad + random crop (+ flip) on training batches. Default true. */
  augment: boolean;
  /** Random horizontal flips (default per dataset: off for digits and synthetic). */
  hflip: boolean;
  /** Zero padding per side before the random crop (default per dataset: 4 CIFAR, 2 for 28×28). */
  cropPad: number;
  /** Also evaluate with flip test-time augmentation (mean logits of image and mirror), reported beside the plain figures (testFlipTop1). Default false. */
  testFlip: boolean;
  /** Seed of weight init, split, data order, augmentation. Default 0. */
  seed: number;
  /** Backend to train on; null: whatever this process selected (SENET_LAB_BACKEND / auto). Default null. */
  backend: BackendChoice | null;
}

/** A resolved experiment config: the model preset name, its resolved model keys, and the training keys. */
export type ExperimentConfig = { model: string } & ModelConfig & TrainConfig;

/** A raw experiment config: any subset of the keys, unvalidated. */
export type RawExperimentConfig = Record<string, unknown>;

/** Every key an experiment config accepts. */
export function experimentConfigKeys(): string[] {
  return ["model", ...MODEL_KEYS, ...TRAIN_CONFIG_KEYS];
}

/** The default model preset. */
export const DEFAULT_MODEL = "resnet20";

const num = (key: string, v: unknown, ok: (x: number) => boolean, what: string): number => {
  if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) {
    throw new ConfigError(`${key} must be ${what}; got ${quote(v)}`);
  }
  return v;
};
const int = (key: string, v: unknown, min: number): number =>
  num(key, v, (x) => Number.isInteger(x) && x >= min, `an integer >= ${min}`);
const bool = (key: string, v: unknown): boolean => {
  if (typeof v !== "boolean")
    throw new ConfigError(`${key} must be true or false; got ${quote(v)}`);
  return v;
};

/** Errors when a key that only applies to other schedules is set. */
function onlyFor(r: Record<string, unknown>, key: string, schedules: string[], schedule: string) {
  if (r[key] !== undefined && r[key] !== null && !schedules.includes(schedule)) {
    throw new ConfigError(
      `${key}=${quote(r[key])} applies only to schedule ${schedules.map((s) => quote(s)).join(" or ")}; schedule is ${quote(schedule)}`,
    );
  }
}

/**
 * Validates a raw experiment config and fills every default. Throws ConfigError before any
 * data is read or model built.
 */
export function resolveExperimentConfig(raw: RawExperimentConfig): ExperimentConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`an experiment config must be an object; got ${quote(raw)}`);
  }
  const r = raw as Record<string, unknown>;
  const valid = experimentConfigKeys();
  const unknown = Object.keys(r).filter((k) => !valid.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown experiment config key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => quote(k)).join(", ")}; valid keys: ${valid.join(", ")}`,
    );
  }
  const get = (k: string, d: unknown) => (r[k] === undefined ? d : r[k]);

  const dataset = checkDatasetName(get("dataset", "fashion-mnist"));
  const ds = DATASETS[dataset];
  const dataDir = get("dataDir", null);
  if (dataDir !== null && (typeof dataDir !== "string" || dataDir === "")) {
    throw new ConfigError(`dataDir must be a folder path or null; got ${quote(dataDir)}`);
  }
  if (dataDir !== null && (dataset === "synthetic" || dataset === "fashion-mnist-mini")) {
    throw new ConfigError(
      `dataDir does not apply to dataset ${quote(dataset)}, which needs no files; got ${quote(dataDir)}`,
    );
  }
  const epochs = int("epochs", get("epochs", 10), 1);
  const batchSize = int("batchSize", get("batchSize", 128), 1);
  const evalBatchSize = int("evalBatchSize", get("evalBatchSize", 256), 1);
  const lr = num("lr", get("lr", 0.1), (x) => x > 0, "a positive number");
  const momentum = num(
    "momentum",
    get("momentum", 0.9),
    (x) => x >= 0 && x < 1,
    "a number in [0, 1)",
  );
  const nesterov = bool("nesterov", get("nesterov", false));
  if (nesterov && momentum === 0) {
    throw new ConfigError("nesterov=true needs momentum > 0; got momentum=0");
  }
  const weightDecay = num("weightDecay", get("weightDecay", 1e-4), (x) => x >= 0, "a number >= 0");
  const schedule = oneOf("schedule", get("schedule", "cosine"), SCHEDULES);
  onlyFor(r, "stepSize", ["step"], schedule);
  onlyFor(r, "milestones", ["multistep"], schedule);
  onlyFor(r, "gamma", ["step", "multistep"], schedule);
  onlyFor(r, "minLr", ["cosine", "linear"], schedule);
  const warmupEpochs = num("warmupEpochs", get("warmupEpochs", 0), (x) => x >= 0, "a number >= 0");
  if (warmupEpochs >= epochs) {
    throw new ConfigError(`warmupEpochs (${warmupEpochs}) must be less than epochs (${epochs})`);
  }
  let stepSize: number | null = null;
  let milestones: number[] | null = null;
  let gamma: number | null = null;
  let minLr: number | null = null;
  if (schedule === "step") {
    stepSize = int("stepSize", get("stepSize", Math.max(1, Math.floor(epochs / 3))), 1);
  }
  if (schedule === "multistep") {
    const m = get("milestones", [Math.round(epochs * 0.5), Math.round(epochs * 0.75)]);
    if (!Array.isArray(m) || !m.every((x) => Number.isInteger(x))) {
      throw new ConfigError(`milestones must be a list of integer epochs; got ${quote(m)}`);
    }
    for (let i = 0; i < m.length; i++) {
      if (m[i] < 1 || m[i] >= epochs || (i > 0 && m[i] <= m[i - 1])) {
        throw new ConfigError(
          `milestones must be strictly increasing epochs in [1, ${epochs - 1}] (epochs=${epochs}); got ${quote(m)}`,
        );
      }
    }
    milestones = [...(m as number[])];
  }
  if (schedule === "step" || schedule === "multistep") {
    gamma = num("gamma", get("gamma", 0.1), (x) => x > 0 && x <= 1, "a number in (0, 1]");
  }
  if (schedule === "cosine" || schedule === "linear") {
    minLr = num("minLr", get("minLr", 0), (x) => x >= 0 && x < lr, `a number in [0, lr=${lr})`);
  }
  const labelSmoothing = num(
    "labelSmoothing",
    get("labelSmoothing", 0),
    (x) => x >= 0 && x < 1,
    "a number in [0, 1)",
  );
  const trainSubsetRaw = get("trainSubset", null);
  const trainSubset = trainSubsetRaw === null ? null : int("trainSubset", trainSubsetRaw, 1);
  const valFraction = num(
    "valFraction",
    get("valFraction", 0.1),
    (x) => x >= 0 && x < 1,
    "a number in [0, 1)",
  );
  const augment = bool("augment", get("augment", true));
  const hflip = bool("hflip", get("hflip", ds.hflip));
  const side = Math.min(ds.shape[0], ds.shape[1]);
  const cropPad = int("cropPad", get("cropPad", ds.cropPad), 0);
  if (cropPad >= side) {
    throw new ConfigError(
      `cropPad must be below the ${side}-pixel image side of ${dataset}; got ${cropPad}`,
    );
  }
  const testFlip = bool("testFlip", get("testFlip", false));
  const seed = num(
    "seed",
    get("seed", 0),
    (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff,
    "an integer in [0, 2^32)",
  );
  const backendRaw = get("backend", null);
  const backend = backendRaw === null ? null : oneOf("backend", backendRaw, BACKEND_CHOICES);

  const model = get("model", DEFAULT_MODEL);
  if (typeof model !== "string")
    throw new ConfigError(`model must be a preset name; got ${quote(model)}`);
  const overrides: Record<string, unknown> = {};
  for (const k of MODEL_KEYS) if (r[k] !== undefined) overrides[k] = r[k];
  // The dataset decides the input and the classes unless the config says otherwise.
  overrides.inputShape ??= [...ds.shape];
  overrides.numClasses ??= ds.numClasses;
  const m = resolveModelFor(model, overrides);
  const shapeOk = m.inputShape.every((d, i) => d === ds.shape[i]);
  if (!shapeOk) {
    throw new ConfigError(
      `inputShape ${quote(m.inputShape)} does not match dataset ${quote(dataset)}, whose images are ${quote(ds.shape)}`,
    );
  }
  if (m.numClasses !== ds.numClasses) {
    throw new ConfigError(
      `numClasses=${m.numClasses} does not match dataset ${quote(dataset)}, which has ${ds.numClasses} classes`,
    );
  }
  return {
    model,
    ...m,
    dataset,
    dataDir: dataDir as string | null,
    epochs,
    batchSize,
    evalBatchSize,
    lr,
    momentum,
    nesterov,
    weightDecay,
    schedule,
    stepSize,
    milestones,
    gamma,
    minLr,
    warmupEpochs,
    labelSmoothing,
    trainSubset,
    valFraction,
    augment,
    hflip,
    cropPad,
    testFlip,
    seed,
    backend,
  };
}

/** The model keys of a resolved config (what createModel gets as overrides). */
export function modelOverridesOf(config: ExperimentConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const c = config as unknown as Record<string, unknown>;
  for (const k of MODEL_KEYS) if (c[k] !== undefined) out[k] = c[k];
  return out;
}

/** Keys every resolved config holds (config.json); a config holding them all is complete. */
const ALWAYS_RESOLVED_KEYS = [
  "model",
  "arch",
  "attention",
  "width",
  "numClasses",
  "inputShape",
  ...Object.keys(ATTENTION_KEY_READERS).filter((k) => k !== "integration" && k !== "placement"),
  ...TRAIN_CONFIG_KEYS,
];

/**
 * Whether `raw` is a complete config, as resolveExperimentConfig returns and config.json holds:
 * it lists every attention key by construction (defaults included), so checkKeysApply leaves it
 * alone; it was checked when it was first resolved from what a person wrote.
 */
export function isCompleteConfig(raw: RawExperimentConfig): boolean {
  return ALWAYS_RESOLVED_KEYS.every((k) => raw[k] !== undefined);
}

/** Options of checkKeysApply. */
export interface KeysApplyOptions {
  /** Keys to leave unchecked (a sweep's `base` keys: resolveSweepSpec checks them across runs). */
  exempt?: readonly string[];
  /** How the error names where a key came from (default "the config"). */
  where?: string;
}

/**
 * Why a key set in `raw` changes nothing for the network `resolved` describes, or undefined
 * when every key set applies. Pure; checkKeysApply and resolveSweepSpec word the error.
 */
export function unreadKeys(
  raw: RawExperimentConfig,
  resolved: ExperimentConfig,
  exempt: readonly string[] = [],
): string[] {
  return Object.keys(ATTENTION_KEY_READERS).filter(
    (k) => raw[k] !== undefined && !exempt.includes(k) && !attentionReads(resolved.attention, k),
  );
}

/** The one-line reason a key does not apply, shared by single runs and sweeps. */
export function unreadKeyReason(key: string, value: unknown, resolved: ExperimentConfig): string {
  const readers = ATTENTION_KEY_READERS[key] ?? [];
  return `${key}=${quote(value)} does not apply to model ${quote(resolved.model)} with attention ${quote(resolved.attention)}: only attention ${readers.map((a) => quote(a)).join(" or ")} reads it, so it would change nothing (runs differing only in it train identical networks)`;
}

/**
 * Refuses config keys that do not apply to the network (issue 14 item 11): an SE key
 * (reduction, squeeze, excitation, spatial, attentionBias) unless attention is "se", `groups`
 * unless it is "sge", and stages / integration / placement with attention "none". The rule, for
 * configs a person writes: a key set for a single run must apply to that run. A sweep adds one
 * allowance (resolveSweepSpec): a key in its `base` may serve only some of its runs (e.g. base
 * {reduction: 8} with a grid over attention ∈ {none, se, sge}), as long as at least one run
 * reads it; a key its grid varies must apply to every run. A complete config (isCompleteConfig:
 * config.json, or what resolveExperimentConfig returned) is not checked again.
 */
export function checkKeysApply(
  raw: RawExperimentConfig,
  resolved: ExperimentConfig,
  options: KeysApplyOptions = {},
): void {
  if (isCompleteConfig(raw)) return;
  const bad = unreadKeys(raw, resolved, options.exempt);
  if (bad.length === 0) return;
  const k = bad[0]!;
  const readers = ATTENTION_KEY_READERS[k] ?? [];
  throw new ConfigError(
    `${options.where ?? "the config"}: ${unreadKeyReason(k, raw[k], resolved)}; remove ${k}, or set attention to ${readers.map((a) => quote(a)).join(" or ")}${bad.length > 1 ? ` (${bad.slice(1).join(", ")} likewise)` : ""}`,
  );
}
