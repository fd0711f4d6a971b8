/**
 * The notebooks' training presets, in one table: how long and on what every ablation trains.
 * A preset is plain config (training keys merged under each sweep's base) plus the seeds, so a
 * notebook's comparison is always "same recipe, different model keys". The recipes and the
 * measurements behind them are in notebooks/08_training_recipe.ipynb.
 */
import { locateDataset } from "../data/registry.js";
import { ConfigError, quote } from "../errors.js";

/** Preset names, cheapest first. */
export const PRESET_NAMES = ["smoke", "quick", "standard", "paper"] as const;
/** A preset name. */
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * The fast recipe shared by quick and standard (08_training_recipe measures each choice):
 * Nesterov SGD, a one-cycle schedule (linear warm-up, then linear decay to 0), label smoothing,
 * batch 64 (the fastest per image on 2 cores: 28×28 activations of a batch stay in cache).
 */
export const FAST_RECIPE = {
  batchSize: 64,
  lr: 0.2,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  schedule: "linear",
  labelSmoothing: 0.1,
  valFraction: 0,
} as const;

/** One preset: training keys, seeds, and what it is for. */
export interface PresetSpec {
  /** One line shown by every notebook that uses it. */
  description: string;
  /** Training keys merged under every sweep's base config (the dataset is chosen separately). */
  train: Record<string, unknown>;
  /** Seeds of every arm. */
  seeds: number[];
  /** Datasets tried in order; the first present is used (fashion-mnist ships with setup). */
  datasets: string[];
}

/** The lookup table. */
export const TRAINING_PRESETS: Record<PresetName, PresetSpec> = {
  smoke: {
    description:
      "seconds: synthetic 12×12 data, 1 epoch on 64 images, 1 seed (checks the pipeline; the numbers mean nothing)",
    train: { epochs: 1, trainSubset: 64, batchSize: 32, valFraction: 0, lr: 0.05 },
    seeds: [0],
    datasets: ["synthetic"],
  },
  quick: {
    description:
      "the default: full Fashion-MNIST (60k train, 10k test), one epoch of the fast recipe (one-cycle, Nesterov, label smoothing, batch 64), no augmentation, 3 seeds",
    train: { ...FAST_RECIPE, epochs: 1, warmupEpochs: 0.2, augment: false },
    seeds: [0, 1, 2],
    datasets: ["fashion-mnist"],
  },
  standard: {
    description:
      "full Fashion-MNIST, 15 epochs of the fast recipe with crop + flip augmentation, 2 seeds",
    train: { ...FAST_RECIPE, epochs: 15, warmupEpochs: 1, augment: true },
    seeds: [0, 1],
    datasets: ["fashion-mnist"],
  },
  paper: {
    description:
      "the SE paper's CIFAR reference recipe (SGD 0.1, momentum 0.9, wd 1e-4, ×0.1 every 80 epochs, 200 epochs, batch 64), 5 seeds; CIFAR-10 when present, else full Fashion-MNIST",
    // SE CIFAR reference code (moskomule/senet.pytorch), unchanged.
    train: {
      epochs: 200,
      batchSize: 64,
      lr: 0.1,
      momentum: 0.9,
      weightDecay: 1e-4,
      schedule: "step",
      stepSize: 80,
      gamma: 0.1,
      valFraction: 0.1,
    },
    seeds: [0, 1, 2, 3, 4],
    datasets: ["cifar10", "fashion-mnist"],
  },
};

/** A preset resolved on this machine: its dataset chosen, keys ready to merge. */
export interface ResolvedPreset {
  /** The preset's name. */
  name: PresetName;
  /** Its one-line description. */
  description: string;
  /** The dataset every run of this preset uses here. */
  dataset: string;
  /** Training keys including `dataset`. */
  train: Record<string, unknown>;
  /** Seeds of every arm. */
  seeds: number[];
}

function present(name: string): boolean {
  if (name === "synthetic" || name === "fashion-mnist-mini") return true;
  try {
    return locateDataset(name as Parameters<typeof locateDataset>[0]) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Resolves a preset by name: the first of its datasets present here (a missing dataset falls
 * back to the next; none present is an error naming them), `dataset` forcing one instead.
 */
export function resolvePreset(name: unknown, options: { dataset?: string } = {}): ResolvedPreset {
  if (typeof name !== "string" || !(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(
      `preset must be one of ${PRESET_NAMES.map((p) => quote(p)).join(", ")}; got ${quote(name)}`,
    );
  }
  const spec = TRAINING_PRESETS[name as PresetName];
  let dataset: string | undefined = options.dataset;
  if (dataset === undefined) dataset = spec.datasets.find(present);
  if (dataset === undefined) {
    throw new ConfigError(
      `preset ${quote(name)} needs one of the datasets ${spec.datasets.map((d) => quote(d)).join(", ")}, and none is present (run 'senet-lab setup', which installs Fashion-MNIST)`,
    );
  }
  return {
    name: name as PresetName,
    description: spec.description,
    dataset,
    train: { dataset, ...spec.train },
    seeds: [...spec.seeds],
  };
}
