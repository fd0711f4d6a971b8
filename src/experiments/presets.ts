/**
 * The notebooks' training presets, in one table: how long and on what every ablation trains.
 * A preset is plain config (training keys merged under each sweep's base) plus the seeds, so a
 * notebook's comparison is always "same recipe, different model keys". The recipes and the
 * measurements behind them are in notebooks/08_training_recipe.ipynb.
 */
import { DATASET_NAMES, locateDataset } from "../data/registry.js";
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
      "the SE paper's CIFAR reference recipe (SGD 0.1, momentum 0.9, wd 1e-4, ×0.1 every 80 epochs, 200 epochs, batch 64), 5 seeds; CIFAR-100 when present, else CIFAR-10, else full Fashion-MNIST",
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
    // CIFAR-100 first: SE's gain there is the largest of the paper's CIFAR results (Table 4:
    // ResNet-110 26.88 → 23.85 % against 6.37 → 5.21 % on CIFAR-10), so the fewest seeds resolve it.
    datasets: ["cifar100", "cifar10", "fashion-mnist"],
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

/** The `dataset` value that means "the preset's own choice" (its first dataset present here). */
export const AUTO_DATASET = "auto";

/**
 * The folder name of a notebook's sweeps for a preset: the preset's name with its own dataset,
 * `<preset>-<dataset>` when a dataset is forced, so runs on another dataset never land in (and
 * are never refused by) the folder of the preset's committed runs.
 */
export function presetFolderName(preset: string, dataset?: string | null): string {
  return dataset === undefined || dataset === null || dataset === AUTO_DATASET
    ? preset
    : `${preset}-${dataset}`;
}

/**
 * Resolves a preset by name: the first of its datasets present here (a missing dataset falls
 * back to the next; none present is an error naming them), `dataset` forcing one instead (a
 * known name that is present here; "auto": the preset's choice).
 */
export function resolvePreset(name: unknown, options: { dataset?: string } = {}): ResolvedPreset {
  if (typeof name !== "string" || !(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(
      `preset must be one of ${PRESET_NAMES.map((p) => quote(p)).join(", ")}; got ${quote(name)}`,
    );
  }
  const spec = TRAINING_PRESETS[name as PresetName];
  let dataset: string | undefined = options.dataset === AUTO_DATASET ? undefined : options.dataset;
  if (dataset !== undefined) {
    if (!(DATASET_NAMES as readonly string[]).includes(dataset)) {
      throw new ConfigError(
        `dataset must be ${quote(AUTO_DATASET)} (the preset's choice) or one of ${DATASET_NAMES.map((d) => quote(d)).join(", ")}; got ${quote(options.dataset)}`,
      );
    }
    if (!present(dataset)) {
      throw new ConfigError(
        `dataset ${quote(dataset)} is not on this machine: run 'senet-lab data get ${dataset}' (or 'senet-lab data list' to see where datasets are looked for)`,
      );
    }
  }
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
