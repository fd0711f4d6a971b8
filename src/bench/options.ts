/**
 * Options of `runBench`, as one plain object parsed by a valibot schema (the library of the
 * config schemas, src/models/schema.ts): unknown keys and wrong types are ConfigErrors naming
 * the key, the value and what is allowed; BenchOptions and the key list derive from the schema.
 * Defaults are the issue's benchmark (issue #5, item 5): ResNet-20 / SE-ResNet-20 /
 * SGE-ResNet-20 training at batch 64 on 32×32×3, ResNet-50 / SE-ResNet-50 inference at batch 1
 * on 224×224×3 and ResNet-50 at batch 32 (throughput), every backend and onednn-bf16.
 */
import * as v from "valibot";
import { threadCount } from "../backend/index.js";
import { ConfigError, quote } from "../errors.js";
import { BENCH_BACKENDS, type BenchBackend } from "./targets.js";

/** The message of option `key` not being `what`. */
const must = (key: string, what: string) => (i: v.BaseIssue<unknown>) =>
  `bench option ${key} must be ${what}; got ${quote(i.input)}`;
/** An integer >= min. */
const int = (key: string, min: number) => {
  const m = must(key, `an integer >= ${min}`);
  return v.pipe(v.number(m), v.integer(m), v.minValue(min, m));
};
/** An integer >= min, or null (the mode's default). */
const intOrNull = (key: string, min: number) => {
  const m = must(key, `an integer >= ${min} or null`);
  return v.nullable(v.pipe(v.number(m), v.integer(m), v.minValue(min, m)));
};
/** true or false. */
const bool = (key: string) => v.boolean(must(key, "a boolean"));
/** A list of preset names (non-empty strings). */
const names = (key: string) => {
  const m = must(key, "a list of preset names");
  return v.pipe(
    v.array(v.unknown(), m),
    v.everyItem((s) => typeof s === "string" && s !== "", m),
    v.transform((a) => [...(a as string[])]),
  );
};
/** An object of model config keys (checked when the presets are resolved). */
const overrides = (key: string) =>
  v.pipe(
    v.custom<Record<string, unknown>>(
      (o) => o !== null && typeof o === "object" && !Array.isArray(o),
      must(key, "an object of model config keys"),
    ),
    v.transform((o) => ({ ...o })),
  );

/** A list of batch sizes (integers >= 1), deduplicated and sorted; [] is allowed (no sweep). */
const batches = (key: string) =>
  v.pipe(
    v.array(
      v.unknown(),
      must(key, "a list of batch sizes (integers >= 1, e.g. [32, 64, 128, 256]) or []"),
    ),
    v.everyItem(
      (b) => typeof b === "number" && Number.isInteger(b) && b >= 1,
      (i) =>
        `bench option ${key}: batch size ${quote((i.input as unknown[]).find((b) => !(typeof b === "number" && Number.isInteger(b) && b >= 1)))} is not an integer >= 1; allowed: integers >= 1 (e.g. 32, 64, 128, 256)`,
    ),
    v.transform((a) => [...new Set(a as number[])].sort((x, y) => x - y)),
  );

/** The schema of the bench options, each key with its default, in documentation order. */
const BENCH_OPTIONS_SCHEMA = v.object({
  /** Fewer steps and per-workload time budgets, whole run under ~3 minutes; skips the pure-JS cpu backend. Default false. */
  quick: v.optional(bool("quick"), false),
  /** tfjs targets to measure, each in its own child process: backends, and onednn-bf16 (onednn at bf16 mixed precision); unavailable ones are reported with the reason. Default: BENCH_BACKENDS but the pure-JS cpu backend, whose training steps take minutes (name it to include it). */
  backends: v.optional(
    v.pipe(
      v.array(v.unknown(), must("backends", `a non-empty list of ${BENCH_BACKENDS.join(", ")}`)),
      v.minLength(1, must("backends", `a non-empty list of ${BENCH_BACKENDS.join(", ")}`)),
      v.everyItem(
        (b) => (BENCH_BACKENDS as readonly unknown[]).includes(b),
        (i) =>
          `bench option backends: unknown backend ${quote((i.input as unknown[]).find((b) => !(BENCH_BACKENDS as readonly unknown[]).includes(b)))}; allowed: ${BENCH_BACKENDS.join(", ")}`,
      ),
      v.transform((a) => [...new Set(a as BenchBackend[])]),
    ),
    () => BENCH_BACKENDS.filter((b) => b !== "cpu"),
  ),
  /** Also run the PyTorch reference (scripts/bench/torch_bench.py). Default true. */
  torch: v.optional(bool("torch"), true),
  /** Presets timed as training steps. Default resnet20, se_resnet20, sge_resnet20. */
  trainModels: v.optional(names("trainModels"), () => ["resnet20", "se_resnet20", "sge_resnet20"]),
  /** Presets timed as inference. Default resnet50, se_resnet50. */
  inferModels: v.optional(names("inferModels"), () => ["resnet50", "se_resnet50"]),
  /** Config overrides applied to every training model (e.g. a tiny depth for tests). Default {}. */
  trainOverrides: v.optional(overrides("trainOverrides"), () => ({})),
  /** Config overrides applied to every inference model. Default {}. */
  inferOverrides: v.optional(overrides("inferOverrides"), () => ({})),
  /** Training batch size. Default 64. */
  trainBatch: v.optional(int("trainBatch", 1), 64),
  /** Inference batch size (the latency workloads). Default 1. */
  inferBatch: v.optional(int("inferBatch", 1), 1),
  /** Batch of the inference throughput workload (the first inferModel, images/s; issue: ResNet-50 at 32); null: off. Default 32. */
  inferThroughputBatch: v.optional(intOrNull("inferThroughputBatch", 1), 32),
  /** Timed steps per round of a workload; null: the mode's default (train 5, infer 10 full; 3 and 5 quick, time-boxed; cpu 1). */
  steps: v.optional(intOrNull("steps", 1), null),
  /** Untimed warm-up steps at the start of each round; null: the mode's default (1; cpu 0). */
  warmup: v.optional(intOrNull("warmup", 0), null),
  /** Training steps of the leak check per backend (0: off; the issue's check is 1000). Default 0. */
  leakCheck: v.optional(int("leakCheck", 0), 0),
  /** Batch of the leak-check steps (leaks do not depend on it). Default 8. */
  leakCheckBatch: v.optional(int("leakCheckBatch", 1), 8),
  /** Folder for <YYYY-MM-DD>.json; null: do not write. Default "results/bench" under the project. */
  outDir: v.optional(
    v.nullable(
      v.pipe(
        v.string(must("outDir", "a folder path or null")),
        v.minLength(1, must("outDir", "a folder path or null")),
      ),
    ),
    "results/bench",
  ),
  /** Threads for PyTorch and the native backends. Default SENET_LAB_THREADS or all cores. */
  threads: v.optional(int("threads", 1), () => threadCount()),
  /** Learning rate of the SGD step. Default 0.1. */
  lr: v.optional(
    v.pipe(
      v.number(must("lr", "a positive number")),
      v.finite(must("lr", "a positive number")),
      v.gtValue(0, must("lr", "a positive number")),
    ),
    0.1,
  ),
  /** Momentum of the SGD step. Default 0.9. */
  momentum: v.optional(
    v.pipe(
      v.number(must("momentum", "a number in [0, 1)")),
      v.check((x) => x >= 0 && x < 1, must("momentum", "a number in [0, 1)")),
    ),
    0.9,
  ),
  /** Rounds per workload group (A B A B … between targets); null: the mode's default (12 full, 8 quick). At least 2, for an interval. */
  rounds: v.optional(intOrNull("rounds", 2), null),
  /** Batch sizes of the ResNet-20 training sweep (img/s at each, every side); [] turns it off. Default 32, 64, 128, 256. */
  sweepBatches: v.optional(batches("sweepBatches"), () => [32, 64, 128, 256]),
  /** Also run PyTorch under torch.autocast("cpu", dtype=torch.bfloat16) as a second peer. Default true. */
  torchBf16: v.optional(bool("torchBf16"), true),
});

/** Everything a benchmark run is configured by (the schema's output: every default filled). */
export type BenchOptions = v.InferOutput<typeof BENCH_OPTIONS_SCHEMA>;

/** The defaults, for a given project root. */
export function defaultBenchOptions(): BenchOptions {
  return v.parse(BENCH_OPTIONS_SCHEMA, {});
}

/** Validates a partial options object and fills in the defaults. */
export function resolveBenchOptions(
  raw: Partial<BenchOptions> | Record<string, unknown> = {},
): BenchOptions {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`bench options must be an object; got ${quote(raw)}`);
  }
  const allowed = Object.keys(BENCH_OPTIONS_SCHEMA.entries);
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`unknown bench option ${quote(key)}; allowed: ${allowed.join(", ")}`);
    }
  }
  const given = Object.fromEntries(Object.entries(raw).filter(([, x]) => x !== undefined));
  const r = v.safeParse(BENCH_OPTIONS_SCHEMA, given, { abortEarly: true });
  if (!r.success) throw new ConfigError(r.issues[0].message);
  const opts = r.output;
  if (opts.trainModels.length === 0 && opts.inferModels.length === 0) {
    throw new ConfigError(
      "bench options trainModels and inferModels are both empty: nothing to measure",
    );
  }
  return opts;
}
