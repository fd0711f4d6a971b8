/**
 * Options of `runBench`, as one plain validated object: unknown keys and wrong types are
 * ConfigErrors naming the key, the value and what is allowed. Defaults are the issue's
 * benchmark (issue #5, item 5): ResNet-20 / SE-ResNet-20 / SGE-ResNet-20 training at batch 64
 * on 32×32×3, ResNet-50 / SE-ResNet-50 inference at batch 1 on 224×224×3, every backend.
 */
import { AUTO_ORDER, type BackendName, threadCount } from "../backend/index.js";
import { ConfigError, quote } from "../errors.js";

/** Everything a benchmark run is configured by. */
export interface BenchOptions {
  /** Fewer steps and per-workload time budgets, whole run under ~3 minutes; skips the pure-JS cpu backend. Default false. */
  quick: boolean;
  /** tfjs backends to measure, each in its own child process; unavailable ones are reported with the reason. Default: all of AUTO_ORDER. */
  backends: BackendName[];
  /** Also run the PyTorch reference (scripts/bench/torch_bench.py). Default true. */
  torch: boolean;
  /** Presets timed as training steps. Default resnet20, se_resnet20, sge_resnet20. */
  trainModels: string[];
  /** Presets timed as inference. Default resnet50, se_resnet50. */
  inferModels: string[];
  /** Config overrides applied to every training model (e.g. a tiny depth for tests). Default {}. */
  trainOverrides: Record<string, unknown>;
  /** Config overrides applied to every inference model. Default {}. */
  inferOverrides: Record<string, unknown>;
  /** Training batch size. Default 64. */
  trainBatch: number;
  /** Inference batch size. Default 1. */
  inferBatch: number;
  /** Timed steps per round of a workload; null: the mode's default (train 5, infer 10 full; 3 and 5 quick, time-boxed; cpu 1). */
  steps: number | null;
  /** Untimed warm-up steps at the start of each round; null: the mode's default (1; cpu 0). */
  warmup: number | null;
  /** Training steps of the leak check per backend (0: off; the check is 1000). Default 0. */
  leakCheck: number;
  /** Batch of the leak-check steps (leaks do not depend on it). Default 8. */
  leakCheckBatch: number;
  /** Folder for <YYYY-MM-DD>.json; null: do not write. Default "results/bench" under the project. */
  outDir: string | null;
  /** Threads for PyTorch and the native backends. Default SENET_LAB_THREADS or all cores. */
  threads: number;
  /** Learning rate of the SGD step. Default 0.1. */
  lr: number;
  /** Momentum of the SGD step. Default 0.9. */
  momentum: number;
  /** Rounds per workload group (A B A B … between targets); null: the mode's default (12 full, 8 quick). At least 2, for an interval. */
  rounds: number | null;
  /** Batch sizes of the ResNet-20 training sweep (img/s at each, every side); [] turns it off. Default 32, 64, 128, 256. */
  sweepBatches: number[];
  /** Also run PyTorch under torch.autocast("cpu", dtype=torch.bfloat16) as a second peer. Default true. */
  torchBf16: boolean;
}

/** The defaults, for a given project root. */
export function defaultBenchOptions(): BenchOptions {
  return {
    quick: false,
    backends: [...AUTO_ORDER],
    torch: true,
    trainModels: ["resnet20", "se_resnet20", "sge_resnet20"],
    inferModels: ["resnet50", "se_resnet50"],
    trainOverrides: {},
    inferOverrides: {},
    trainBatch: 64,
    inferBatch: 1,
    steps: null,
    warmup: null,
    leakCheck: 0,
    leakCheckBatch: 8,
    outDir: "results/bench",
    threads: threadCount(),
    lr: 0.1,
    momentum: 0.9,
    rounds: null,
    sweepBatches: [32, 64, 128, 256],
    torchBf16: true,
  };
}

type Check = (key: string, v: unknown) => unknown;

const int =
  (min: number, nullable = false): Check =>
  (key, v) => {
    if (nullable && v === null) return null;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      throw new ConfigError(
        `bench option ${key} must be an integer >= ${min}${nullable ? " or null" : ""}; got ${quote(v)}`,
      );
    }
    return v;
  };
const bool: Check = (key, v) => {
  if (typeof v !== "boolean")
    throw new ConfigError(`bench option ${key} must be a boolean; got ${quote(v)}`);
  return v;
};
const positive: Check = (key, v) => {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new ConfigError(`bench option ${key} must be a positive number; got ${quote(v)}`);
  }
  return v;
};
const names: Check = (key, v) => {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string" && s !== "")) {
    throw new ConfigError(`bench option ${key} must be a list of preset names; got ${quote(v)}`);
  }
  return [...v];
};
const record: Check = (key, v) => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new ConfigError(
      `bench option ${key} must be an object of model config keys; got ${quote(v)}`,
    );
  }
  return { ...(v as Record<string, unknown>) };
};
const backends: Check = (key, v) => {
  if (!Array.isArray(v) || v.length === 0) {
    throw new ConfigError(
      `bench option ${key} must be a non-empty list of ${AUTO_ORDER.join(", ")}; got ${quote(v)}`,
    );
  }
  for (const b of v) {
    if (!(AUTO_ORDER as readonly unknown[]).includes(b)) {
      throw new ConfigError(
        `bench option ${key}: unknown backend ${quote(b)}; allowed: ${AUTO_ORDER.join(", ")}`,
      );
    }
  }
  return [...new Set(v as BackendName[])];
};
const outDir: Check = (key, v) => {
  if (v !== null && (typeof v !== "string" || v === "")) {
    throw new ConfigError(`bench option ${key} must be a folder path or null; got ${quote(v)}`);
  }
  return v;
};

const batches: Check = (key, v) => {
  if (!Array.isArray(v)) {
    throw new ConfigError(
      `bench option ${key} must be a list of batch sizes (integers >= 1, e.g. [32, 64, 128, 256]) or []; got ${quote(v)}`,
    );
  }
  for (const b of v) {
    if (typeof b !== "number" || !Number.isInteger(b) || b < 1) {
      throw new ConfigError(
        `bench option ${key}: batch size ${quote(b)} is not an integer >= 1; allowed: integers >= 1 (e.g. 32, 64, 128, 256)`,
      );
    }
  }
  return [...new Set(v as number[])].sort((a, b) => a - b);
};

const CHECKS: Record<keyof BenchOptions, Check> = {
  quick: bool,
  backends,
  torch: bool,
  trainModels: names,
  inferModels: names,
  trainOverrides: record,
  inferOverrides: record,
  trainBatch: int(1),
  inferBatch: int(1),
  steps: int(1, true),
  warmup: int(0, true),
  leakCheck: int(0),
  leakCheckBatch: int(1),
  outDir,
  threads: int(1),
  lr: positive,
  momentum: (key, v) => {
    if (typeof v !== "number" || !(v >= 0 && v < 1)) {
      throw new ConfigError(`bench option ${key} must be a number in [0, 1); got ${quote(v)}`);
    }
    return v;
  },
  rounds: int(2, true),
  sweepBatches: batches,
  torchBf16: bool,
};

/** Validates a partial options object and fills in the defaults. */
export function resolveBenchOptions(
  raw: Partial<BenchOptions> | Record<string, unknown> = {},
): BenchOptions {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`bench options must be an object; got ${quote(raw)}`);
  }
  const out = defaultBenchOptions() as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    const check = (CHECKS as Record<string, Check>)[key];
    if (!check) {
      throw new ConfigError(
        `unknown bench option ${quote(key)}; allowed: ${Object.keys(CHECKS).join(", ")}`,
      );
    }
    if (value !== undefined) out[key] = check(key, value);
  }
  const opts = out as unknown as BenchOptions;
  if (opts.trainModels.length === 0 && opts.inferModels.length === 0) {
    throw new ConfigError(
      "bench options trainModels and inferModels are both empty: nothing to measure",
    );
  }
  return opts;
}
