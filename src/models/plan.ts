/**
 * The per-stage plan of a network: for each stage (paper numbering), its units with their
 * channel widths and strides, computed once from a resolved model config. The builders lay out
 * their layers from it, the config schema checks SGE groups and input sizes against it, and the
 * complexity counter reports it, so the channel arithmetic of each family lives here only.
 */
import type {
  MobileNetV1Config,
  ModelConfig,
  PreactResNetCifarConfig,
  ResNetCifarConfig,
  ResNetConfig,
  ResNeXtConfig,
} from "./schema.js";

/** Units per stage (conv2_x…conv5_x) for each ImageNet depth. */
export const RESNET_UNITS: Record<number, [number, number, number, number]> = {
  18: [2, 2, 2, 2],
  34: [3, 4, 6, 3],
  50: [3, 4, 6, 3],
  101: [3, 4, 23, 3],
  152: [3, 8, 36, 3],
};

/** The 13 MobileNet-v1 separable units: [output channels at α = 1, stride, stage]. */
export const MOBILENET_V1_UNITS: readonly (readonly [number, number, number])[] = [
  [64, 1, 1],
  [128, 2, 2],
  [128, 1, 2],
  [256, 2, 3],
  [256, 1, 3],
  [512, 2, 4],
  [512, 1, 4],
  [512, 1, 4],
  [512, 1, 4],
  [512, 1, 4],
  [512, 1, 4],
  [1024, 2, 5],
  [1024, 1, 5],
];

/** One residual or separable unit of a stage. */
export interface UnitPlan {
  /** The unit's layer-name prefix: `conv<stage>_<block>` (residual) or `conv_dw_<index>` (MobileNet). */
  name: string;
  /** Position of the unit in the whole network, from 1. */
  index: number;
  /** Output channels of the unit. */
  filters: number;
  /** Inner (bottleneck / grouped 3×3) width; equals `filters` for basic and separable units. */
  inner: number;
  /** Stride of the unit (2 on a stage's first unit where the resolution halves). */
  strides: number;
}

/** One stage: its units, the channels entering and leaving it, and its output stride. */
export interface StagePlan {
  /** Stage number, paper numbering (CIFAR 2–4, ImageNet 2–5, MobileNet 1–5). */
  stage: number;
  /** The stage's units in order (block b of the stage is `units[b - 1]`). */
  units: UnitPlan[];
  /** Channels entering the stage: the stem's output or the previous stage's. */
  inChannels: number;
  /** Channels leaving the stage (its last unit's filters). */
  out: number;
  /** Inner width of the stage (its first unit's, which attention after the 3×3 sees). */
  inner: number;
  /** Total downsampling at the stage's output (the input side over the map side). */
  outputStride: number;
}

/** The plan of a whole network: stem width and stride, then the stages. */
export interface NetworkPlan {
  /** Channels out of the stem. */
  stem: number;
  /** Downsampling done by the stem. */
  stemStride: number;
  /** Whether the residual units are bottlenecks (where `placement`/`strideIn` mean something). */
  bottleneck: boolean;
  /** The stages, in order. */
  stages: StagePlan[];
}

/** A unit before assemble() names and numbers it. */
type UnitShape = Omit<UnitPlan, "name" | "index">;

/**
 * Builds a plan from per-stage unit lists: names and numbers the units (`residual`: named by
 * stage and block, else by index, as MobileNet's layers are), fills in the channels entering
 * each stage and the output strides.
 */
function assemble(
  stem: number,
  stemStride: number,
  bottleneck: boolean,
  shapes: { stage: number; units: UnitShape[] }[],
  residual = true,
): NetworkPlan {
  let inChannels = stem;
  let stride = stemStride;
  let index = 0;
  const out: StagePlan[] = [];
  for (const { stage, units: unitShapes } of shapes) {
    const units = unitShapes.map((u, b) => {
      index++;
      return { name: residual ? `conv${stage}_${b + 1}` : `conv_dw_${index}`, index, ...u };
    });
    for (const u of units) stride *= u.strides;
    const last = units[units.length - 1]!;
    out.push({
      stage,
      units,
      inChannels,
      out: last.filters,
      inner: units[0]!.inner,
      outputStride: stride,
    });
    inChannels = last.filters;
  }
  return { stem, stemStride, bottleneck, stages: out };
}

/** `n` units of a residual stage whose first unit strides 2 unless it is the first stage. */
function residualUnits(n: number, first: boolean, filters: number, inner: number): UnitShape[] {
  return Array.from({ length: n }, (_, i) => ({
    filters,
    inner,
    strides: i === 0 && !first ? 2 : 1,
  }));
}

/** CIFAR ResNet: stem `width`, stages 2–4 of (depth − 2) / 6 basic units of width·2^k. */
function resnetCifarPlan(c: ResNetCifarConfig): NetworkPlan {
  const n = (c.depth - 2) / 6;
  return assemble(
    c.width,
    1,
    false,
    [2, 3, 4].map((stage, k) => {
      const w = c.width * 2 ** k;
      return { stage, units: residualUnits(n, k === 0, w, w) };
    }),
  );
}

/** Pre-activation CIFAR ResNet: (depth − 2) / 9 bottlenecks per stage, inner width·2^k, output 4×. */
function preactPlan(c: PreactResNetCifarConfig): NetworkPlan {
  const n = (c.depth - 2) / 9;
  return assemble(
    c.width,
    1,
    true,
    [2, 3, 4].map((stage, k) => {
      const inner = c.width * 2 ** k;
      return { stage, units: residualUnits(n, k === 0, 4 * inner, inner) };
    }),
  );
}

/** ImageNet ResNet: stem `width` at stride 4, RESNET_UNITS per stage, bottlenecks from depth 50. */
function resnetPlan(c: ResNetConfig): NetworkPlan {
  const bottleneck = c.depth >= 50;
  const units = RESNET_UNITS[c.depth]!;
  return assemble(
    c.width,
    4,
    bottleneck,
    units.map((n, k) => {
      const planes = c.width * 2 ** k;
      return {
        stage: k + 2,
        units: residualUnits(n, k === 0, bottleneck ? 4 * planes : planes, planes),
      };
    }),
  );
}

/** ResNeXt C×d: stem 64, inner floor(64·2^k·d / 64)·C, output 256·2^k. */
function resnextPlan(c: ResNeXtConfig): NetworkPlan {
  const units = RESNET_UNITS[c.depth]!;
  return assemble(
    64,
    4,
    true,
    units.map((n, k) => {
      const planes = 64 * 2 ** k;
      const inner = Math.floor((planes * c.width) / 64) * c.cardinality;
      return { stage: k + 2, units: residualUnits(n, k === 0, 4 * planes, inner) };
    }),
  );
}

/** MobileNet v1 at multiplier α: stem round(32α) at stride 2, MOBILENET_V1_UNITS scaled by α. */
function mobilenetPlan(c: MobileNetV1Config): NetworkPlan {
  const stages: { stage: number; units: UnitShape[] }[] = [];
  for (const [filters, strides, stage] of MOBILENET_V1_UNITS) {
    const scaled = Math.round(filters * c.width);
    let s = stages[stages.length - 1];
    if (s?.stage !== stage) {
      s = { stage, units: [] };
      stages.push(s);
    }
    s.units.push({ filters: scaled, inner: scaled, strides });
  }
  return assemble(Math.round(32 * c.width), 2, false, stages, false);
}

/** Plans already computed, by config object: the validator's plan is the one the builder and the counter read. */
const PLANS = new WeakMap<object, NetworkPlan>();

/**
 * The plan of a resolved model config (pure: no layer is built), computed once per config
 * object (resolved configs are not changed after resolveModelConfig returns them).
 */
export function networkPlan(config: ModelConfig): NetworkPlan {
  let plan = PLANS.get(config);
  if (!plan) {
    plan = planFor(config);
    PLANS.set(config, plan);
  }
  return plan;
}

/** Dispatches to the arch's planner. */
function planFor(config: ModelConfig): NetworkPlan {
  switch (config.arch) {
    case "resnet-cifar":
      return resnetCifarPlan(config);
    case "preact-resnet-cifar":
      return preactPlan(config);
    case "resnet":
      return resnetPlan(config);
    case "resnext":
      return resnextPlan(config);
    case "mobilenet-v1":
      return mobilenetPlan(config);
  }
}

/**
 * Channel counts an attention block can see in each attended stage: the block output, the
 * inner width, and, for integration "pre"/"identity" (the block input / identity path), the
 * channels entering the stage. SGE groups are checked against these before anything is built.
 */
export function attentionChannels(
  config: ModelConfig,
  plan = networkPlan(config),
): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const s of plan.stages) {
    if (!config.stages.includes(s.stage)) continue;
    const set = new Set<number>([s.out, s.inner]);
    if (config.integration === "pre" || config.integration === "identity") set.add(s.inChannels);
    out.set(s.stage, [...set]);
  }
  return out;
}

/**
 * The stage a layer belongs to, by its name: a unit's layers start with the unit's name (and,
 * in MobileNet, `conv_pw_<index>`), its attention block is `<type>_<stage>_<block>`. Undefined
 * for the stem and the head. The complexity counter sums the layers of each stage with it.
 */
export function stageOfLayer(plan: NetworkPlan): (layerName: string) => number | undefined {
  const prefixes = new Map<string, number>();
  for (const { stage, units } of plan.stages) {
    for (const [b, u] of units.entries()) {
      for (const p of [
        u.name,
        `conv_pw_${u.index}`,
        `se_${stage}_${b + 1}`,
        `sge_${stage}_${b + 1}`,
      ])
        prefixes.set(p, stage);
    }
  }
  return (layerName) => {
    for (let end = layerName.length; end > 0; end = layerName.lastIndexOf("_", end - 1)) {
      const stage = prefixes.get(layerName.slice(0, end));
      if (stage !== undefined) return stage;
    }
    return undefined;
  };
}
