/**
 * The model config schema: one valibot object schema per architecture, joined into a union
 * keyed on `arch` (MODEL_CONFIG_SCHEMA). The config types (ModelConfig and one type per arch)
 * and the key lists (MODEL_CONFIG_KEYS, archKeys, ATTENTION_KEY_READERS) are derived from it;
 * nothing else lists the keys. Each schema fills the defaults and words its errors as before
 * (key, the value quoted, what is allowed). Checks that need the network's per-stage plan
 * (SGE groups, input size, bottleneck-only keys) are in config.ts, after this parse.
 *
 * Why valibot rather than zod: it has no dependencies and is tree-shaken to the few validators
 * used (a few kB against zod's ~60 kB core), its `pipe` of small actions (integer, minValue,
 * check) maps one to one onto the checks we had by hand, every schema and action takes a
 * message function (so our quote()-style messages stay verbatim), and `variant` gives the
 * discriminated union on `arch` with typed output (InferOutput).
 */
import * as v from "valibot";
import { quote } from "../errors.js";
import {
  ATTENTION_TYPES,
  type AttentionType,
  EXCITATION_TYPES,
  SQUEEZE_TYPES,
} from "../layers/index.js";

/** Network families; each has one builder (see ARCH_BUILDERS in presets.ts). */
export const ARCHS = [
  "resnet-cifar",
  "preact-resnet-cifar",
  "resnet",
  "resnext",
  "mobilenet-v1",
] as const;
/** A network family. */
export type Arch = (typeof ARCHS)[number];

/** Where the attention sits relative to the residual unit (Table 14, Fig. 5). */
export const INTEGRATIONS = ["standard", "pre", "post", "identity"] as const;
/** Where inside a bottleneck the attention sits (Table 15). */
export const PLACEMENTS = ["end", "after3x3"] as const;
/** Which convolution of a bottleneck carries the stride 2 (Caffe "v1" vs torchvision "v1.5"). */
export const STRIDE_INS = ["1x1", "3x3"] as const;
/** CIFAR shortcut when the shape changes: He et al.'s option A (subsample + zero channels) or a 1×1 conv. */
export const SHORTCUTS = ["pad", "projection"] as const;
/**
 * The ImageNet stem's 3×3/2 max pool: "pad" pads 1 on every side (torchvision, timm; the
 * default), "ceil" pads nothing and keeps the last partial window (PyTorch's ceil_mode=True, the
 * Caffe-converted SENets): the same output size where the stem's output is even (224 → 56), one
 * less where it is odd, and a grid shifted by one pixel, so weights trained with one give
 * different logits with the other.
 */
export const STEM_POOLS = ["pad", "ceil"] as const;
/** Bottleneck depths of ImageNet ResNets (basic blocks for 18 and 34). */
export const RESNET_DEPTHS = [18, 34, 50, 101, 152] as const;
/** Depths of the ResNeXt presets. */
export const RESNEXT_DEPTHS = [50, 101] as const;

/** The message of a value outside a list of choices (as errors.ts oneOf words it). */
function oneOfMessage(what: string, allowed: readonly string[]) {
  return (issue: v.BaseIssue<unknown>) =>
    `${what} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}; got ${quote(issue.input)}`;
}

/** A string out of `allowed`. */
const pick = <const T extends readonly string[]>(what: string, allowed: T) =>
  v.picklist(allowed, oneOfMessage(what, allowed));

/** An integer >= min (NaN and ±Infinity refused). */
const int = (label: string, min = 1) => {
  const m = (issue: v.BaseIssue<unknown>) =>
    `${label} must be an integer >= ${min}; got ${quote(issue.input)}`;
  return v.pipe(v.number(m), v.integer(m), v.minValue(min, m));
};

/** true or false. */
const bool = (label: string) =>
  v.boolean((issue) => `${label} must be true or false; got ${quote(issue.input)}`);

const isInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x);

/** [height, width, channels] of positive integers (the minimum size is checked against the plan). */
const inputShape = (dflt: readonly [number, number, number]) => {
  const m = (issue: v.BaseIssue<unknown>) =>
    `inputShape must be [height, width, channels] of positive integers; received: inputShape=${quote(issue.input)}`;
  return v.optional(
    v.pipe(
      v.array(v.unknown(), m),
      v.length(3, m),
      v.everyItem((d) => isInt(d) && d >= 1, m),
      v.transform((a) => [a[0], a[1], a[2]] as [number, number, number]),
    ),
    () => [...dflt],
  );
};

/** Attention stages, paper numbering, within `allowed`, no repeats; sorted. */
const stages = (arch: Arch, allowed: readonly number[]) => {
  const lo = allowed[0]!;
  const hi = allowed[allowed.length - 1]!;
  return v.optional(
    v.pipe(
      v.array(
        v.unknown(),
        (i) =>
          `stages must be a list of integers in ${lo}–${hi} (paper numbering for arch ${quote(arch)}); received: stages=${quote(i.input)}`,
      ),
      v.everyItem(
        isInt,
        (i) =>
          `stages must be a list of integers in ${lo}–${hi} (paper numbering for arch ${quote(arch)}); received: stages=${quote(i.input)}`,
      ),
      v.everyItem(
        (s) => allowed.includes(s as number),
        (i) =>
          `stages for arch ${quote(arch)} must lie in ${lo}–${hi}; received: stages=${quote(i.input)} (out of range: ${quote((i.input as number[]).filter((s) => !allowed.includes(s)))})`,
      ),
      v.check(
        (a) => new Set(a).size === a.length,
        (i) => `stages must not repeat a stage; received: stages=${quote(i.input)}`,
      ),
      v.transform((a) => [...(a as number[])].sort((x, y) => x - y)),
    ),
    () => [...allowed],
  );
};

/** A depth passing `ok`, else "depth for arch ... <rule>; got <value>". */
const depth = (arch: Arch, dflt: number, ok: (d: number) => boolean, rule: string) =>
  v.optional(
    v.pipe(
      int("depth"),
      v.check(ok, (i) => `depth for arch ${quote(arch)} ${rule}; got ${quote(i.input)}`),
    ),
    dflt,
  );

/** A residual family's width: a positive integer. */
const intWidth = (arch: Arch, dflt: number) => v.optional(int(`width (arch ${quote(arch)})`), dflt);

/** The SE keys: read only with attention "se". */
const SE_ENTRIES = {
  reduction: v.optional(int("reduction"), 16),
  squeeze: v.optional(pick("squeeze", SQUEEZE_TYPES), "avg"),
  excitation: v.optional(pick("excitation", EXCITATION_TYPES), "sigmoid"),
  spatial: v.optional(bool("spatial"), false),
};
/** The SGE keys: read only with attention "sge". */
const SGE_ENTRIES = { groups: v.optional(int("groups"), 64) };
/** Bias in the SE FC layers (an SE key too, listed after groups as it always was). */
const SE_BIAS_ENTRIES = { attentionBias: v.optional(bool("attentionBias"), false) };
/** Where the attention goes in a residual network: read by any attention but "none". */
const RESIDUAL_PLACEMENT_ENTRIES = {
  integration: v.optional(pick("integration", INTEGRATIONS), "standard"),
  placement: v.optional(pick("placement", PLACEMENTS)),
};

/** The keys every arch has before its own, in documentation order. */
const attentionEntries = () => ({
  attention: v.optional(pick("attention", ATTENTION_TYPES), "none"),
  ...SE_ENTRIES,
  ...SGE_ENTRIES,
  ...SE_BIAS_ENTRIES,
});

/** Classes and input, with the arch's defaults. */
const headEntries = (numClasses: number, shape: readonly [number, number, number]) => ({
  numClasses: v.optional(int("numClasses"), numClasses),
  inputShape: inputShape(shape),
});

const CIFAR_STAGES = [2, 3, 4] as const;
const IMAGENET_STAGES = [2, 3, 4, 5] as const;
const MOBILENET_STAGES = [1, 2, 3, 4, 5] as const;

/** CIFAR ResNet with basic units (depth 6n+2). */
const RESNET_CIFAR = v.object({
  arch: v.literal("resnet-cifar"),
  ...attentionEntries(),
  stages: stages("resnet-cifar", CIFAR_STAGES),
  width: intWidth("resnet-cifar", 16),
  ...headEntries(10, [32, 32, 3]),
  depth: depth(
    "resnet-cifar",
    20,
    (d) => (d - 2) % 6 === 0 && d >= 8,
    "must be 6n+2 with n >= 1 (20, 32, 44, 56, 110, ...)",
  ),
  ...RESIDUAL_PLACEMENT_ENTRIES,
  shortcut: v.optional(pick("shortcut", SHORTCUTS), "pad"),
});

/** Pre-activation bottleneck CIFAR ResNet (depth 9n+2). */
const PREACT_RESNET_CIFAR = v.object({
  arch: v.literal("preact-resnet-cifar"),
  ...attentionEntries(),
  stages: stages("preact-resnet-cifar", CIFAR_STAGES),
  width: intWidth("preact-resnet-cifar", 16),
  ...headEntries(10, [32, 32, 3]),
  depth: depth(
    "preact-resnet-cifar",
    164,
    (d) => (d - 2) % 9 === 0 && d >= 11,
    "must be 9n+2 with n >= 1 (164, 1001, ...)",
  ),
  ...RESIDUAL_PLACEMENT_ENTRIES,
});

/** ImageNet ResNet (18/34 basic, 50/101/152 bottleneck). */
const RESNET = v.object({
  arch: v.literal("resnet"),
  ...attentionEntries(),
  stages: stages("resnet", IMAGENET_STAGES),
  width: intWidth("resnet", 64),
  ...headEntries(1000, [224, 224, 3]),
  depth: depth(
    "resnet",
    50,
    (d) => (RESNET_DEPTHS as readonly number[]).includes(d),
    `must be one of ${RESNET_DEPTHS.join(", ")}`,
  ),
  ...RESIDUAL_PLACEMENT_ENTRIES,
  strideIn: v.optional(pick("strideIn", STRIDE_INS)),
  /** The stem's max pool (STEM_POOLS); absent means "pad". */
  stemPool: v.optional(pick("stemPool", STEM_POOLS)),
});

/** ResNeXt C×d (bottlenecks with a grouped 3×3). */
const RESNEXT = v.object({
  arch: v.literal("resnext"),
  ...attentionEntries(),
  stages: stages("resnext", IMAGENET_STAGES),
  width: intWidth("resnext", 4),
  ...headEntries(1000, [224, 224, 3]),
  depth: depth(
    "resnext",
    50,
    (d) => (RESNEXT_DEPTHS as readonly number[]).includes(d),
    `must be one of ${RESNEXT_DEPTHS.join(", ")}`,
  ),
  ...RESIDUAL_PLACEMENT_ENTRIES,
  strideIn: v.optional(pick("strideIn", STRIDE_INS)),
  cardinality: v.optional(int("cardinality"), 32),
  /** The stem's max pool (STEM_POOLS); absent means "pad". */
  stemPool: v.optional(pick("stemPool", STEM_POOLS)),
});

/** MobileNet v1 at width multiplier α. */
const MOBILENET_V1 = (() => {
  const m = (i: v.BaseIssue<unknown>) =>
    `width (MobileNet multiplier α) must be a positive number; got ${quote(i.input)}`;
  return v.object({
    arch: v.literal("mobilenet-v1"),
    ...attentionEntries(),
    stages: stages("mobilenet-v1", MOBILENET_STAGES),
    width: v.optional(v.pipe(v.number(m), v.finite(m), v.gtValue(0, m)), 1),
    ...headEntries(1000, [224, 224, 3]),
  });
})();

/** One object schema per arch: the lookup table of the union. */
export const ARCH_SCHEMAS = {
  "resnet-cifar": RESNET_CIFAR,
  "preact-resnet-cifar": PREACT_RESNET_CIFAR,
  resnet: RESNET,
  resnext: RESNEXT,
  "mobilenet-v1": MOBILENET_V1,
} as const satisfies Record<Arch, v.GenericSchema>;

/** The model config schema: a union keyed on `arch` (parse it through resolveModelConfig). */
export const MODEL_CONFIG_SCHEMA = v.variant("arch", Object.values(ARCH_SCHEMAS));

/** A parsed ResNet-CIFAR config. */
export type ResNetCifarConfig = v.InferOutput<typeof RESNET_CIFAR>;
/** A parsed pre-activation ResNet-CIFAR config. */
export type PreactResNetCifarConfig = v.InferOutput<typeof PREACT_RESNET_CIFAR>;
/** A parsed ImageNet ResNet config (`strideIn`/`placement` only where bottlenecks read them). */
export type ResNetConfig = v.InferOutput<typeof RESNET>;
/** A parsed ResNeXt config. */
export type ResNeXtConfig = v.InferOutput<typeof RESNEXT>;
/** A parsed MobileNet-v1 config. */
export type MobileNetV1Config = v.InferOutput<typeof MOBILENET_V1>;

type AnyKey<T> = T extends unknown ? keyof T : never;
type Variants =
  | ResNetCifarConfig
  | PreactResNetCifarConfig
  | ResNetConfig
  | ResNeXtConfig
  | MobileNetV1Config;
/** A model config key (of any arch). */
export type ModelConfigKey = AnyKey<Variants>;
/** A variant with the other archs' keys typed absent, so `config.depth` reads as `number | undefined`. */
type Closed<T> = T & { [K in Exclude<ModelConfigKey, keyof T>]?: undefined };

/** A complete, validated model configuration (plain JSON): one variant per arch. */
export type ModelConfig =
  | Closed<ResNetCifarConfig>
  | Closed<PreactResNetCifarConfig>
  | Closed<ResNetConfig>
  | Closed<ResNeXtConfig>
  | Closed<MobileNetV1Config>;

/** The model config of one arch. */
export type ModelConfigOf<A extends Arch> = Extract<ModelConfig, { arch: A }>;

/** A raw (unvalidated) config: any subset of the keys. */
export type RawModelConfig = Partial<Record<ModelConfigKey, unknown>>;

/**
 * The keys of one arch's config, in its schema's order, which is also the order of a resolved
 * config's keys (config.json has always listed them so).
 */
export function archKeys(arch: Arch): readonly ModelConfigKey[] {
  return Object.keys(ARCH_SCHEMAS[arch].entries) as ModelConfigKey[];
}

/** Every key a model config may have (raw and resolved), in documentation order: the union of the archs' keys. */
export const MODEL_CONFIG_KEYS: readonly ModelConfigKey[] = (() => {
  const out: ModelConfigKey[] = [];
  for (const arch of ARCHS) {
    let after = -1;
    for (const k of archKeys(arch)) {
      const at = out.indexOf(k);
      if (at < 0) out.splice(++after, 0, k);
      else after = at;
    }
  }
  return out;
})();

/**
 * Model keys only some attention types read, and which ones: with any other attention the
 * network is built without them (attentionFactory, blocks.ts), so setting one there changes
 * nothing. Derived from the entry groups above. Experiment configs and sweeps refuse such a
 * key (see checkKeysApply in src/train); a run's content key leaves it out (util/code-hash.ts).
 */
export const ATTENTION_KEY_READERS: Readonly<Record<string, readonly AttentionType[]>> = {
  ...Object.fromEntries(
    Object.keys({ ...SE_ENTRIES, ...SE_BIAS_ENTRIES }).map((k) => [k, ["se"] as const]),
  ),
  ...Object.fromEntries(Object.keys(SGE_ENTRIES).map((k) => [k, ["sge"] as const])),
  stages: ["se", "sge"],
  ...Object.fromEntries(
    Object.keys(RESIDUAL_PLACEMENT_ENTRIES).map((k) => [k, ["se", "sge"] as const]),
  ),
};

/** Whether a network with `attention` reads model key `key` (keys outside ATTENTION_KEY_READERS always apply). */
export function attentionReads(attention: AttentionType, key: string): boolean {
  const readers = ATTENTION_KEY_READERS[key];
  return readers === undefined || readers.includes(attention);
}

/** Attention stages an arch allows (paper numbering), read from its schema's default. */
export function archStages(arch: Arch): readonly number[] {
  return v.getDefault(ARCH_SCHEMAS[arch].entries.stages) as number[];
}
