/**
 * One validated, JSON-serialisable configuration per model. `resolveModelConfig(raw)` turns a
 * loose object (a preset merged with user overrides, a sweep cell, `--set key=value` pairs) into
 * a complete `ModelConfig`, or throws a ConfigError naming the offending key and value before any
 * layer is built. Keys that do not apply to the chosen `arch` are errors, not silently ignored,
 * and the resolved config holds only the keys that apply, so two runs with the same resolved
 * config build the same network.
 */
import { ConfigError, oneOf, quote } from "../errors.js";
import {
  ATTENTION_TYPES,
  type AttentionType,
  EXCITATION_TYPES,
  type ExcitationType,
  SQUEEZE_TYPES,
  type SqueezeType,
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

/** Every key a model config may have (raw and resolved), in documentation order. */
export const MODEL_CONFIG_KEYS = [
  "arch",
  "attention",
  "reduction",
  "squeeze",
  "excitation",
  "spatial",
  "groups",
  "attentionBias",
  "integration",
  "placement",
  "stages",
  "strideIn",
  "shortcut",
  "depth",
  "width",
  "cardinality",
  "numClasses",
  "inputShape",
] as const;
/** A config key. */
export type ModelConfigKey = (typeof MODEL_CONFIG_KEYS)[number];

/** A complete, validated model configuration (plain JSON). */
export interface ModelConfig {
  /** Network family. */
  arch: Arch;
  /** Attention block placed in the blocks of `stages` ("none": the plain network). */
  attention: AttentionType;
  /** SE reduction ratio r: hidden width = max(1, floor(C / r)). Default 16 (8 for CIFAR presets). */
  reduction: number;
  /** SE squeeze: global average, max, or both (averaged). Default "avg". */
  squeeze: SqueezeType;
  /** SE gate non-linearity. Default "sigmoid". */
  excitation: ExcitationType;
  /** SE without the squeeze (Table 16 "NoSqueeze"): the FCs become 1×1 convs on the full map. Default false. */
  spatial: boolean;
  /** SGE groups G; clamped per block to min(G, C), and that must divide C. Default 64. */
  groups: number;
  /** Bias in the SE FC layers. Default false, as in the SE ablations and Eq. 5. */
  attentionBias: boolean;
  /** standard (on the residual branch before the add), pre, post, identity. Default "standard". Absent for mobilenet-v1. */
  integration?: (typeof INTEGRATIONS)[number];
  /** Bottleneck only: attention after the last BN ("end") or after the 3×3 conv ("after3x3"). */
  placement?: (typeof PLACEMENTS)[number];
  /** Stages that carry attention, paper numbering (ImageNet 2–5 = conv2_x…conv5_x; CIFAR 2–4; MobileNet 1–5 by output stride 2^s). Default: all. */
  stages: number[];
  /** Bottleneck ResNet / ResNeXt only: which conv strides. Default "1x1" for ResNet (Caffe, as the SE paper counts), "3x3" for ResNeXt. */
  strideIn?: (typeof STRIDE_INS)[number];
  /** resnet-cifar only: shortcut when the shape changes. Default "pad" (option A). */
  shortcut?: (typeof SHORTCUTS)[number];
  /** Layer count: 6n+2 (resnet-cifar), 9n+2 (preact-resnet-cifar), 18/34/50/101/152 (resnet), 50/101 (resnext). Absent for mobilenet-v1. */
  depth?: number;
  /** resnet(-cifar): channels of the first stage (16 / 64); resnext: per-group bottleneck width d (4); mobilenet-v1: multiplier α (1). */
  width: number;
  /** resnext only: groups of the 3×3 convolution (32). */
  cardinality?: number;
  /** Classes of the final dense layer (which outputs logits). */
  numClasses: number;
  /** Input [height, width, channels], NHWC without the batch. */
  inputShape: [number, number, number];
}

/**
 * Model keys only some attention types read, and which ones: with any other attention the
 * network is built without them (attentionFactory, blocks.ts), so setting one there changes
 * nothing. Experiment configs and sweeps refuse such a key (see checkKeysApply in src/train).
 */
export const ATTENTION_KEY_READERS: Readonly<Record<string, readonly AttentionType[]>> = {
  reduction: ["se"],
  squeeze: ["se"],
  excitation: ["se"],
  spatial: ["se"],
  attentionBias: ["se"],
  groups: ["sge"],
  stages: ["se", "sge"],
  integration: ["se", "sge"],
  placement: ["se", "sge"],
};

/** Whether a network with `attention` reads model key `key` (keys outside ATTENTION_KEY_READERS always apply). */
export function attentionReads(attention: AttentionType, key: string): boolean {
  const readers = ATTENTION_KEY_READERS[key];
  return readers === undefined || readers.includes(attention);
}

/** A raw (unvalidated) config: any subset of the keys. */
export type RawModelConfig = Partial<Record<ModelConfigKey, unknown>>;

interface ArchRule {
  /** Keys that apply to this arch besides the common ones. */
  extraKeys: readonly ModelConfigKey[];
  /** Allowed attention stages. */
  stages: readonly number[];
  /** Default width. */
  width: number;
  /** Default classes. */
  numClasses: number;
  /** Default input. */
  inputShape: [number, number, number];
  /** Total downsampling: the input must be at least this large. */
  minInput: number;
  /** Validates depth; returns an error fragment or undefined. */
  depth?: { default: number; check: (d: number) => string | undefined };
}

const COMMON_KEYS: readonly ModelConfigKey[] = [
  "arch",
  "attention",
  "reduction",
  "squeeze",
  "excitation",
  "spatial",
  "groups",
  "attentionBias",
  "stages",
  "width",
  "numClasses",
  "inputShape",
];

/** Bottleneck depths of ImageNet ResNets (basic blocks for 18 and 34). */
export const RESNET_DEPTHS = [18, 34, 50, 101, 152] as const;
/** Depths of the ResNeXt presets. */
export const RESNEXT_DEPTHS = [50, 101] as const;

/** Per-arch rules, one lookup table. */
const ARCH_RULES: Record<Arch, ArchRule> = {
  "resnet-cifar": {
    extraKeys: ["integration", "placement", "shortcut", "depth"],
    stages: [2, 3, 4],
    width: 16,
    numClasses: 10,
    inputShape: [32, 32, 3],
    minInput: 4,
    depth: {
      default: 20,
      check: (d) =>
        (d - 2) % 6 === 0 && d >= 8
          ? undefined
          : "must be 6n+2 with n >= 1 (20, 32, 44, 56, 110, ...)",
    },
  },
  "preact-resnet-cifar": {
    extraKeys: ["integration", "placement", "depth"],
    stages: [2, 3, 4],
    width: 16,
    numClasses: 10,
    inputShape: [32, 32, 3],
    minInput: 4,
    depth: {
      default: 164,
      check: (d) =>
        (d - 2) % 9 === 0 && d >= 11 ? undefined : "must be 9n+2 with n >= 1 (164, 1001, ...)",
    },
  },
  resnet: {
    extraKeys: ["integration", "placement", "strideIn", "depth"],
    stages: [2, 3, 4, 5],
    width: 64,
    numClasses: 1000,
    inputShape: [224, 224, 3],
    minInput: 32,
    depth: {
      default: 50,
      check: (d) =>
        (RESNET_DEPTHS as readonly number[]).includes(d)
          ? undefined
          : `must be one of ${RESNET_DEPTHS.join(", ")}`,
    },
  },
  resnext: {
    extraKeys: ["integration", "placement", "strideIn", "depth", "cardinality"],
    stages: [2, 3, 4, 5],
    width: 4,
    numClasses: 1000,
    inputShape: [224, 224, 3],
    minInput: 32,
    depth: {
      default: 50,
      check: (d) =>
        (RESNEXT_DEPTHS as readonly number[]).includes(d)
          ? undefined
          : `must be one of ${RESNEXT_DEPTHS.join(", ")}`,
    },
  },
  "mobilenet-v1": {
    extraKeys: [],
    stages: [1, 2, 3, 4, 5],
    width: 1,
    numClasses: 1000,
    inputShape: [224, 224, 3],
    minInput: 32,
  },
};

/** Attention stages an arch allows (paper numbering). */
export function archStages(arch: Arch): readonly number[] {
  return ARCH_RULES[arch].stages;
}

/** True when the arch at this depth uses bottleneck blocks (where `placement`/`strideIn` mean something). */
export function usesBottleneck(arch: Arch, depth: number | undefined): boolean {
  if (arch === "resnext" || arch === "preact-resnet-cifar") return true;
  if (arch === "resnet") return (depth ?? 50) >= 50;
  return false;
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function posInt(key: string, v: unknown, min = 1): number {
  if (!isInt(v) || v < min)
    throw new ConfigError(`${key} must be an integer >= ${min}; got ${quote(v)}`);
  return v;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v !== "boolean")
    throw new ConfigError(`${key} must be true or false; got ${quote(v)}`);
  return v;
}

/**
 * Validates a raw config and fills defaults. Errors (ConfigError) name the key, the value and
 * what is allowed: unknown keys, wrong types, keys that do not apply to the arch, and impossible
 * combinations (after3x3 in a basic block, a depth that is not 6n+2, SGE groups that do not
 * divide a stage's width, ...).
 */
export function resolveModelConfig(raw: RawModelConfig | Record<string, unknown>): ModelConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`model config must be an object; got ${quote(raw)}`);
  }
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).filter(
    (k) => !(MODEL_CONFIG_KEYS as readonly string[]).includes(k),
  );
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown model config key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => quote(k)).join(", ")}; allowed keys: ${MODEL_CONFIG_KEYS.join(", ")}`,
    );
  }
  const arch = oneOf("arch", r.arch, ARCHS);
  const rule = ARCH_RULES[arch];
  const applicable = new Set<string>([...COMMON_KEYS, ...rule.extraKeys]);
  const foreign = Object.keys(r).filter((k) => r[k] !== undefined && !applicable.has(k));
  if (foreign.length > 0) {
    throw new ConfigError(
      `key${foreign.length > 1 ? "s" : ""} ${foreign.map((k) => `${k}=${quote(r[k])}`).join(", ")} do${foreign.length > 1 ? "" : "es"} not apply to arch ${quote(arch)}; its keys: ${[...applicable].join(", ")}`,
    );
  }
  const get = <T>(key: ModelConfigKey, dflt: T): unknown => (r[key] === undefined ? dflt : r[key]);

  const attention = oneOf("attention", get("attention", "none"), ATTENTION_TYPES);
  const reduction = posInt("reduction", get("reduction", 16));
  const squeeze = oneOf("squeeze", get("squeeze", "avg"), SQUEEZE_TYPES);
  const excitation = oneOf("excitation", get("excitation", "sigmoid"), EXCITATION_TYPES);
  const spatial = bool("spatial", get("spatial", false));
  const groups = posInt("groups", get("groups", 64));
  const attentionBias = bool("attentionBias", get("attentionBias", false));
  if (spatial && squeeze !== "avg") {
    throw new ConfigError(
      `spatial=true (NoSqueeze) has no squeeze, so squeeze must stay "avg"; got squeeze=${quote(squeeze)}`,
    );
  }

  let depth: number | undefined;
  if (rule.depth) {
    depth = posInt("depth", get("depth", rule.depth.default));
    const bad = rule.depth.check(depth);
    if (bad) throw new ConfigError(`depth for arch ${quote(arch)} ${bad}; got ${quote(depth)}`);
  }
  const bottleneck = usesBottleneck(arch, depth);

  const width = get("width", rule.width);
  if (arch === "mobilenet-v1") {
    if (typeof width !== "number" || !Number.isFinite(width) || width <= 0) {
      throw new ConfigError(
        `width (MobileNet multiplier α) must be a positive number; got ${quote(width)}`,
      );
    }
  } else {
    posInt(`width (arch ${quote(arch)})`, width);
  }
  const numClasses = posInt("numClasses", get("numClasses", rule.numClasses));
  const inputShape = resolveInputShape(get("inputShape", rule.inputShape), rule.minInput, arch);
  const stages = resolveStages(get("stages", [...rule.stages]), rule.stages, arch);

  const config: ModelConfig = {
    arch,
    attention,
    reduction,
    squeeze,
    excitation,
    spatial,
    groups,
    attentionBias,
    stages,
    width: width as number,
    numClasses,
    inputShape,
  };
  if (depth !== undefined) config.depth = depth;
  if (rule.extraKeys.includes("integration")) {
    config.integration = oneOf("integration", get("integration", "standard"), INTEGRATIONS);
  }
  if (rule.extraKeys.includes("placement")) {
    const placement = oneOf("placement", get("placement", "end"), PLACEMENTS);
    if (placement === "after3x3" && !bottleneck) {
      throw new ConfigError(
        `placement="after3x3" needs bottleneck blocks; arch ${quote(arch)} with depth=${quote(depth)} uses basic blocks (use placement="end")`,
      );
    }
    if (placement === "after3x3" && config.integration !== "standard") {
      throw new ConfigError(
        `placement="after3x3" puts the block inside the residual branch, which only integration="standard" defines; got integration=${quote(config.integration)}`,
      );
    }
    if (bottleneck || r.placement !== undefined) config.placement = placement;
  }
  if (rule.extraKeys.includes("strideIn")) {
    if (!bottleneck && r.strideIn !== undefined) {
      throw new ConfigError(
        `strideIn=${quote(r.strideIn)} applies to bottleneck blocks only; depth=${quote(depth)} uses basic blocks, whose first 3×3 conv always strides`,
      );
    }
    if (bottleneck) {
      config.strideIn = oneOf(
        "strideIn",
        get("strideIn", arch === "resnext" ? "3x3" : "1x1"),
        STRIDE_INS,
      );
    }
  }
  if (rule.extraKeys.includes("shortcut")) {
    config.shortcut = oneOf("shortcut", get("shortcut", "pad"), SHORTCUTS);
  }
  if (rule.extraKeys.includes("cardinality")) {
    config.cardinality = posInt("cardinality", get("cardinality", 32));
  }
  if (attention === "sge") {
    checkSgeGroups(config);
    checkSgePositions(config);
  }
  return config;
}

function resolveInputShape(v: unknown, minInput: number, arch: Arch): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((d) => isInt(d) && d >= 1)) {
    throw new ConfigError(
      `inputShape must be [height, width, channels] of positive integers; received: inputShape=${quote(v)}`,
    );
  }
  const [h, w, c] = v as number[];
  if (h! < minInput || w! < minInput) {
    throw new ConfigError(
      `inputShape for arch ${quote(arch)} must be at least ${minInput}×${minInput} (its total stride); received: inputShape=${quote(v)}`,
    );
  }
  return [h!, w!, c!];
}

function resolveStages(v: unknown, allowed: readonly number[], arch: Arch): number[] {
  const lo = allowed[0]!;
  const hi = allowed[allowed.length - 1]!;
  if (!Array.isArray(v) || !v.every((s) => isInt(s))) {
    throw new ConfigError(
      `stages must be a list of integers in ${lo}–${hi} (paper numbering for arch ${quote(arch)}); received: stages=${quote(v)}`,
    );
  }
  const bad = v.filter((s) => !allowed.includes(s));
  if (bad.length > 0) {
    throw new ConfigError(
      `stages for arch ${quote(arch)} must lie in ${lo}–${hi}; received: stages=${quote(v)} (out of range: ${quote(bad)})`,
    );
  }
  if (new Set(v).size !== v.length) {
    throw new ConfigError(`stages must not repeat a stage; received: stages=${quote(v)}`);
  }
  return [...(v as number[])].sort((a, b) => a - b);
}

/**
 * Channel counts an attention block can see in each attended stage: the block output, the
 * block input (SE-PRE / the identity path) and, for after3x3, the bottleneck width. Used to
 * validate SGE groups before anything is built.
 */
export function attentionChannels(config: ModelConfig): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const w = config.width;
  const widthsOf = (s: number): { out: number; inner: number; stem: number } => {
    const k = s - 2;
    switch (config.arch) {
      case "resnet-cifar":
        return { out: w * 2 ** k, inner: w * 2 ** k, stem: w };
      case "preact-resnet-cifar":
        return { out: 4 * w * 2 ** k, inner: w * 2 ** k, stem: w };
      case "resnet": {
        const planes = w * 2 ** k;
        return usesBottleneck("resnet", config.depth)
          ? { out: 4 * planes, inner: planes, stem: w }
          : { out: planes, inner: planes, stem: w };
      }
      case "resnext": {
        const planes = 64 * 2 ** k;
        return {
          out: 4 * planes,
          inner: Math.floor((planes * w) / 64) * config.cardinality!,
          stem: 64,
        };
      }
      case "mobilenet-v1": {
        const chans = mobilenetStageChannels(s).map((c) => Math.round(c * w));
        return { out: chans[chans.length - 1]!, inner: chans[0]!, stem: Math.round(32 * w) };
      }
    }
  };
  const lo = archStages(config.arch)[0]!;
  for (const s of config.stages) {
    const cur = widthsOf(s);
    const prevOut = s === lo ? cur.stem : widthsOf(s - 1).out;
    const set = new Set<number>([cur.out, cur.inner]);
    if (config.integration === "pre" || config.integration === "identity") set.add(prevOut);
    if (config.placement === "after3x3") set.add(cur.inner);
    out.set(s, [...set]);
  }
  return out;
}

/** Output channels (α = 1) of the MobileNet-v1 separable blocks in a stage (output stride 2^s). */
export function mobilenetStageChannels(stage: number): number[] {
  return (
    (
      {
        1: [64],
        2: [128, 128],
        3: [256, 256],
        4: [512, 512, 512, 512, 512, 512],
        5: [1024, 1024],
      } as Record<number, number[]>
    )[stage] ?? []
  );
}

/**
 * SGE splits C channels into min(G, C) groups (the clamp lets G = 64 run on CIFAR widths of
 * 16/32); every attended width must then be divisible by its group count. The candidate
 * widths include the block input (SE-PRE) and the previous stage's output, so the check is
 * conservative for integration="pre".
 */
function checkSgeGroups(config: ModelConfig): void {
  for (const [stage, widths] of attentionChannels(config)) {
    for (const c of widths) {
      const g = Math.min(config.groups, c);
      if (c % g !== 0) {
        throw new ConfigError(
          `SGE groups=${config.groups} gives ${g} groups for the ${c} channels of stage ${stage}, which do not divide evenly; pick groups dividing ${c}`,
        );
      }
    }
  }
}

/** Output stride of a stage (paper numbering): 2^s on ImageNet nets, 2^(s−2) on CIFAR nets. */
export function stageStride(arch: Arch, stage: number): number {
  return arch === "resnet-cifar" || arch === "preact-resnet-cifar" ? 2 ** (stage - 2) : 2 ** stage;
}

/**
 * SGE normalises with an unbiased std over the H·W positions, which needs at least two: the
 * deepest attended stage must keep 2 positions at this input size (64×64 for conv5_x).
 */
function checkSgePositions(config: ModelConfig): void {
  const deepest = config.stages[config.stages.length - 1];
  if (deepest === undefined) return;
  const stride = stageStride(config.arch, deepest);
  const [h, w] = config.inputShape;
  const positions = Math.ceil(h / stride) * Math.ceil(w / stride);
  if (positions < 2) {
    throw new ConfigError(
      `SGE needs at least 2 spatial positions in stage ${deepest} (its std is over positions), but inputShape=${quote(config.inputShape)} leaves ${Math.ceil(h / stride)}×${Math.ceil(w / stride)} there; use an input of at least ${2 * stride}×${stride} or drop stage ${deepest} from stages`,
    );
  }
}

/** Effective SGE group count for a block of `channels` channels: min(G, C). */
export function sgeGroupsFor(groups: number, channels: number): number {
  return Math.min(groups, channels);
}
