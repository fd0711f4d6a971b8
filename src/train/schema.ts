/**
 * The experiment schema: `{ model, train }`, parsed once. The model half is the model config
 * schema of src/models (a union keyed on `arch`, reached through a preset name plus overrides);
 * the training half is TRAIN_SCHEMA below (valibot, the same library and message style as the
 * model schema: see src/models/schema.ts for why valibot). TRAIN_CONFIG_KEYS and TrainConfig are
 * derived from it. Checks that tie keys together (a schedule's own keys, warm-up against epochs,
 * the dataset's image size and classes against the model) run right after the parse, in
 * parseExperiment, the only function here that validates.
 *
 * At the edges (CLI `--set`, sweep specs, notebook `lab.sweep`, config.json) an experiment is
 * one flat object; parseExperiment splits it by these key lists, and config.ts flattens the
 * result back (the flat form is what config.json holds and what a run's key hashes).
 */
import * as v from "valibot";
import { BACKEND_CHOICES, PRECISIONS } from "../backend/index.js";
import { DATASET_NAMES, DATASETS, type DatasetName } from "../data/registry.js";
import { ConfigError, quote } from "../errors.js";
import { MODEL_KEYS, type ModelConfig, resolveModelFor } from "./model-adapter.js";
import { SCHEDULES, type ScheduleName } from "./schedule.js";

/** A number passing `ok` ("<key> must be <what>; got <value>"). */
const num = (key: string, what: string, ok: (x: number) => boolean) => {
  const m = (i: v.BaseIssue<unknown>) => `${key} must be ${what}; got ${quote(i.input)}`;
  return v.pipe(v.number(m), v.finite(m), v.check(ok, m));
};
/** An integer >= min. */
const int = (key: string, min: number) =>
  num(key, `an integer >= ${min}`, (x) => Number.isInteger(x) && x >= min);
/** true or false. */
const bool = (key: string) =>
  v.boolean((i) => `${key} must be true or false; got ${quote(i.input)}`);
/** A string out of `allowed` (as errors.ts oneOf words it). */
const pick = <const T extends readonly string[]>(key: string, allowed: T) =>
  v.picklist(
    allowed,
    (i) =>
      `${key} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}; got ${quote(i.input)}`,
  );
/**
 * A key only some schedules read: checked by parseExperiment, after the schedule is known, with
 * its own schema (STEP_SIZE, MILESTONES, GAMMA, minLr's), or refused when the schedule does not
 * read it; absent or null elsewhere.
 */
const scheduleKey = () => v.optional(v.unknown());

/** A learning-rate decay factor in (0, 1]. */
const GAMMA = num("gamma", "a number in (0, 1]", (x) => x > 0 && x <= 1);
/** Epochs between "step" decays. */
const STEP_SIZE = int("stepSize", 1);
/** "multistep" decay epochs: integers (their range is checked against epochs). */
const MILESTONES = v.pipe(
  v.array(v.unknown(), (i) => `milestones must be a list of integer epochs; got ${quote(i.input)}`),
  v.everyItem(
    (x) => Number.isInteger(x),
    (i) => `milestones must be a list of integer epochs; got ${quote(i.input)}`,
  ),
  v.transform((a) => a as number[]),
);

/** The training half of an experiment, in documentation order (each key's default after `optional`). */
export const TRAIN_SCHEMA = v.object({
  /** Dataset name (default "fashion-mnist"). */
  dataset: v.optional(pick("dataset", DATASET_NAMES), "fashion-mnist"),
  /** Folder holding the dataset (null: SENET_LAB_DATA_DIR, then system folders). */
  dataDir: v.optional(
    v.nullable(
      v.pipe(
        v.string((i) => `dataDir must be a folder path or null; got ${quote(i.input)}`),
        v.minLength(1, (i) => `dataDir must be a folder path or null; got ${quote(i.input)}`),
      ),
    ),
    null,
  ),
  /** Training epochs. */
  epochs: v.optional(int("epochs", 1), 10),
  /** Images per training step. */
  batchSize: v.optional(int("batchSize", 1), 128),
  /** Images per evaluation batch (speed only: evaluation uses BN's moving statistics). */
  evalBatchSize: v.optional(int("evalBatchSize", 1), 256),
  /** Base learning rate. */
  lr: v.optional(
    num("lr", "a positive number", (x) => x > 0),
    0.1,
  ),
  /** SGD momentum in [0, 1). */
  momentum: v.optional(
    num("momentum", "a number in [0, 1)", (x) => x >= 0 && x < 1),
    0.9,
  ),
  /** Nesterov momentum (needs momentum > 0). */
  nesterov: v.optional(bool("nesterov"), false),
  /** L2 weight decay on conv/dense kernels only (not biases, BN, SGE parameters). */
  weightDecay: v.optional(
    num("weightDecay", "a number >= 0", (x) => x >= 0),
    1e-4,
  ),
  /** "constant" | "step" | "multistep" | "cosine" | "linear" (decay to minLr; with warm-up, one-cycle). */
  schedule: v.optional(pick("schedule", SCHEDULES), "cosine"),
  /** "step" only: epochs between decays (default max(1, floor(epochs / 3))); null otherwise. */
  stepSize: scheduleKey(),
  /** "multistep" only: epochs at which the rate decays (default [50%, 75%] of epochs); null otherwise. */
  milestones: scheduleKey(),
  /** "step"/"multistep" only: decay factor (default 0.1); null otherwise. */
  gamma: scheduleKey(),
  /** "cosine"/"linear" only: final rate (default 0, below lr); null otherwise. */
  minLr: scheduleKey(),
  /** Epochs of linear warm-up before the schedule (may be fractional). */
  warmupEpochs: v.optional(
    num("warmupEpochs", "a number >= 0", (x) => x >= 0),
    0,
  ),
  /** Label smoothing ε in [0, 1) for the training loss. */
  labelSmoothing: v.optional(
    num("labelSmoothing", "a number in [0, 1)", (x) => x >= 0 && x < 1),
    0,
  ),
  /** Train on only this many images (after the val split); null: all. */
  trainSubset: v.optional(v.nullable(int("trainSubset", 1)), null),
  /** Fraction of the training set held out for validation, [0, 1). */
  valFraction: v.optional(
    num("valFraction", "a number in [0, 1)", (x) => x >= 0 && x < 1),
    0.1,
  ),
  /** Pad + random crop (+ flip) on training batches. */
  augment: v.optional(bool("augment"), true),
  /** Random horizontal flips (default per dataset: off for digits and synthetic). */
  hflip: v.optional(bool("hflip")),
  /** Zero padding per side before the random crop (default per dataset: 4 CIFAR, 2 for 28×28). */
  cropPad: v.optional(int("cropPad", 0)),
  /** Also evaluate with flip test-time augmentation (testFlipTop1, beside the plain figures). */
  testFlip: v.optional(bool("testFlip"), false),
  /** Seed of weight init, split, data order, augmentation. */
  seed: v.optional(
    num("seed", "an integer in [0, 2^32)", (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff),
    0,
  ),
  /** Backend to train on; null: whatever this process selected (SENET_LAB_BACKEND / auto). */
  backend: v.optional(v.nullable(pick("backend", BACKEND_CHOICES)), null),
  /** Convolution arithmetic: "fp32", or "bf16" (bf16 multiplies; outputs, gradients, BN, loss and master weights fp32). bf16 needs the onednn backend on a CPU with AVX512-BF16 or AMX. */
  precision: v.optional(pick("precision", PRECISIONS), "fp32"),
});

/** Every training key, in documentation order (derived from TRAIN_SCHEMA). */
export const TRAIN_CONFIG_KEYS = Object.keys(
  TRAIN_SCHEMA.entries,
) as (keyof typeof TRAIN_SCHEMA.entries)[];
/** A training key. */
export type TrainConfigKey = (typeof TRAIN_CONFIG_KEYS)[number];

type ParsedTrain = v.InferOutput<typeof TRAIN_SCHEMA>;
/** The keys one schedule reads and another does not (typed here, checked in parseExperiment). */
type ScheduleKey = "stepSize" | "milestones" | "gamma" | "minLr";
/** The training half of a resolved experiment: TRAIN_SCHEMA's output with every default filled. */
export type TrainConfig = {
  [K in Exclude<keyof ParsedTrain, ScheduleKey>]-?: Exclude<ParsedTrain[K], undefined>;
} & {
  /** The dataset, narrowed. */
  dataset: DatasetName;
  /** The schedule, narrowed. */
  schedule: ScheduleName;
  /** "step" only: epochs between decays; null otherwise. */
  stepSize: number | null;
  /** "multistep" only: the decay epochs; null otherwise. */
  milestones: number[] | null;
  /** "step"/"multistep" only: the decay factor; null otherwise. */
  gamma: number | null;
  /** "cosine"/"linear" only: the final rate; null otherwise. */
  minLr: number | null;
};

/** A parsed experiment: the preset name, its resolved model config, and the training config. */
export interface Experiment {
  /** Model preset the config starts from (`model` in the flat form). */
  preset: string;
  /** The resolved model config (a variant of the union keyed on `arch`). */
  model: ModelConfig;
  /** The resolved training config. */
  train: TrainConfig;
}

/** The default model preset. */
export const DEFAULT_MODEL = "resnet20";

/** Every key a flat experiment config accepts: `model`, the model keys, the training keys. */
export function experimentConfigKeys(): string[] {
  return ["model", ...MODEL_KEYS, ...TRAIN_CONFIG_KEYS];
}

/** Runs `schema` on one value (a default or a key another key decides), ConfigError on failure. */
function need<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const r = v.safeParse(schema, value, { abortEarly: true });
  if (!r.success) throw new ConfigError(r.issues[0].message);
  return r.output;
}

/** Errors when a key that only applies to other schedules is set. */
function onlyFor(r: Record<string, unknown>, key: string, schedules: string[], schedule: string) {
  if (r[key] !== undefined && r[key] !== null && !schedules.includes(schedule)) {
    throw new ConfigError(
      `${key}=${quote(r[key])} applies only to schedule ${schedules.map((s) => quote(s)).join(" or ")}; schedule is ${quote(schedule)}`,
    );
  }
}

/**
 * Parses a flat experiment config into `{ preset, model, train }`, every default filled.
 * Throws ConfigError (naming the key, quoting the value, listing what is allowed) before any
 * data is read or model built. The one place an experiment config is validated.
 */
export function parseExperiment(raw: Record<string, unknown>): Experiment {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`an experiment config must be an object; got ${quote(raw)}`);
  }
  const r = raw;
  const valid = experimentConfigKeys();
  const unknown = Object.keys(r).filter((k) => !valid.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown experiment config key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => quote(k)).join(", ")}; valid keys: ${valid.join(", ")}`,
    );
  }
  const trainRaw: Record<string, unknown> = {};
  for (const k of TRAIN_CONFIG_KEYS) if (k in r) trainRaw[k] = r[k];
  const t = need(TRAIN_SCHEMA, trainRaw);
  const ds = DATASETS[t.dataset];
  if (t.dataDir !== null && (t.dataset === "synthetic" || t.dataset === "fashion-mnist-mini")) {
    throw new ConfigError(
      `dataDir does not apply to dataset ${quote(t.dataset)}, which needs no files; got ${quote(t.dataDir)}`,
    );
  }
  if (t.nesterov && t.momentum === 0) {
    throw new ConfigError("nesterov=true needs momentum > 0; got momentum=0");
  }
  const { schedule, epochs, lr } = t;
  onlyFor(r, "stepSize", ["step"], schedule);
  onlyFor(r, "milestones", ["multistep"], schedule);
  onlyFor(r, "gamma", ["step", "multistep"], schedule);
  onlyFor(r, "minLr", ["cosine", "linear"], schedule);
  if (t.warmupEpochs >= epochs) {
    throw new ConfigError(`warmupEpochs (${t.warmupEpochs}) must be less than epochs (${epochs})`);
  }
  const given = (k: string, dflt: unknown) => (r[k] === undefined ? dflt : r[k]);
  const stepSize =
    schedule === "step"
      ? need(STEP_SIZE, given("stepSize", Math.max(1, Math.floor(epochs / 3))))
      : null;
  let milestones: number[] | null = null;
  if (schedule === "multistep") {
    const m = need(
      MILESTONES,
      given("milestones", [Math.round(epochs * 0.5), Math.round(epochs * 0.75)]),
    );
    if (m.some((x, i) => x < 1 || x >= epochs || (i > 0 && x <= m[i - 1]!))) {
      throw new ConfigError(
        `milestones must be strictly increasing epochs in [1, ${epochs - 1}] (epochs=${epochs}); got ${quote(m)}`,
      );
    }
    milestones = [...m];
  }
  const gamma =
    schedule === "step" || schedule === "multistep" ? need(GAMMA, given("gamma", 0.1)) : null;
  const minLr =
    schedule === "cosine" || schedule === "linear"
      ? need(
          num("minLr", `a number in [0, lr=${lr})`, (x) => x >= 0 && x < lr),
          given("minLr", 0),
        )
      : null;
  const hflip = t.hflip ?? ds.hflip;
  const side = Math.min(ds.shape[0], ds.shape[1]);
  const cropPad = t.cropPad ?? ds.cropPad;
  if (cropPad >= side) {
    throw new ConfigError(
      `cropPad must be below the ${side}-pixel image side of ${t.dataset}; got ${cropPad}`,
    );
  }
  const filled: Record<string, unknown> = {
    ...t,
    stepSize,
    milestones,
    gamma,
    minLr,
    hflip,
    cropPad,
  };
  // In TRAIN_CONFIG_KEYS order, as config.json has always listed them.
  const train = Object.fromEntries(TRAIN_CONFIG_KEYS.map((k) => [k, filled[k]])) as TrainConfig;

  const preset = given("model", DEFAULT_MODEL);
  if (typeof preset !== "string")
    throw new ConfigError(`model must be a preset name; got ${quote(preset)}`);
  const overrides: Record<string, unknown> = {};
  for (const k of MODEL_KEYS) if (r[k] !== undefined) overrides[k] = r[k];
  // The dataset decides the input and the classes unless the config says otherwise.
  overrides.inputShape ??= [...ds.shape];
  overrides.numClasses ??= ds.numClasses;
  const model = resolveModelFor(preset, overrides);
  if (!model.inputShape.every((d, i) => d === ds.shape[i])) {
    throw new ConfigError(
      `inputShape ${quote(model.inputShape)} does not match dataset ${quote(t.dataset)}, whose images are ${quote(ds.shape)}`,
    );
  }
  if (model.numClasses !== ds.numClasses) {
    throw new ConfigError(
      `numClasses=${model.numClasses} does not match dataset ${quote(t.dataset)}, which has ${ds.numClasses} classes`,
    );
  }
  return { preset, model, train };
}
