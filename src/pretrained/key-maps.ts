/**
 * The weight layouts we read and write, as ONE lookup table (`LAYOUTS`): for each, which zoo
 * models its files exist for, the config the network must be built with to compute what the
 * layout's code computes (where the stride sits, SE biases), and how each of our layers is named
 * there. `keyMap(model, layout)` turns that into one entry per PyTorch key: which tfjs weight it
 * fills and which conversion (convert.ts) it takes.
 *
 * Our layer names (src/models): stem `conv1`, `conv1_bn`; unit `conv<stage>_<b>_<part>` with
 * parts 1x1_reduce / 3x3 / 1x1_increase / 1x1_proj (bottleneck) or 3x3a / 3x3b / proj (basic),
 * each with a `_bn`; attention `se_<stage>_<b>` / `sge_<stage>_<b>`; head `fc`. PyTorch's:
 * `layer<stage-1>.<b-1>.conv1|bn1|conv2|bn2|conv3|bn3|downsample.0|downsample.1`.
 */
import type * as tf from "@tensorflow/tfjs";
import { ConfigError, InternalError, quote } from "../errors.js";
import type { ModelConfig, RawModelConfig } from "../models/index.js";
import { type Conversion, torchShapeOf } from "./convert.js";

/** Names of the supported layouts. */
export const LAYOUT_NAMES = ["torchvision", "timm", "legacy-senet", "pytorchinsight"] as const;
/** A weight layout: whose PyTorch code (and so whose key names and conventions) a file follows. */
export type LayoutName = (typeof LAYOUT_NAMES)[number];

/** One layout's conventions. */
export interface Layout {
  /** What code writes such files, one line (shown by errors and docs). */
  description: string;
  /** Zoo presets whose networks this layout's files hold. */
  models: readonly string[];
  /** Config keys the network needs to compute what the layout's code computes. */
  config: (preset: ModelConfig) => RawModelConfig;
  /** Module path of the stem conv and its BN. */
  stem: { conv: string; bn: string };
  /** Module path of the classifier. */
  head: string;
  /** Submodule name of the attention block inside a unit, per attention type. */
  attention: { se: string; sge: string };
  /** The SE's two FCs below the SE module, and how they are stored. */
  seFc: { reduce: string; expand: string; kind: Conversion };
  /** True when a file's keys look like this layout's (used to choose between candidates). */
  recognises: (keys: ReadonlySet<string>) => boolean;
  /** The input the layout's checkpoints were trained on: RGB in [0, 1], minus `mean`, over `std`, per channel. */
  normalization: Normalization;
}

/** Per-channel input normalisation: x' = (x − mean) / std on RGB values in [0, 1] (NHWC, channel last). */
export interface Normalization {
  /** Channel means, RGB. */
  mean: readonly [number, number, number];
  /** Channel standard deviations, RGB. */
  std: readonly [number, number, number];
}

/** ImageNet's statistics, which torchvision, timm, the Caffe SENets (as pretrainedmodels serves them) and PytorchInsight all train with. */
export const IMAGENET_NORMALIZATION: Normalization = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

const TORCHVISION_MODELS = [
  "resnet18",
  "resnet34",
  "resnet50",
  "resnet101",
  "resnet152",
  "resnext50_32x4d",
  "resnext101_32x4d",
] as const;

/** The config fields the layouts read, a view valid for every arch's resolved config. */
interface PresetView {
  /** Network family. */
  arch: string;
  /** Attention type. */
  attention: string;
  /** Set exactly when the network has bottlenecks (a resolved config holds it only then). */
  strideIn?: string;
}

function view(preset: ModelConfig): PresetView {
  return preset as unknown as PresetView;
}

/** Stride in the 3×3 of every bottleneck (torchvision v1.5, timm, PytorchInsight, ResNeXt). */
function strideIn3x3(preset: ModelConfig): RawModelConfig {
  return view(preset).strideIn !== undefined ? { strideIn: "3x3" } : {};
}

/** Every layout, by name: the one lookup table import and export go through. */
export const LAYOUTS: Readonly<Record<LayoutName, Layout>> = {
  torchvision: {
    description:
      "torchvision.models resnet18…152 / resnext50_32x4d (stride in the 3×3; conv1, bn1, layerN.M.*, fc)",
    models: TORCHVISION_MODELS,
    config: strideIn3x3,
    stem: { conv: "conv1", bn: "bn1" },
    head: "fc",
    attention: { se: "se", sge: "sge" },
    seFc: { reduce: "fc1", expand: "fc2", kind: "conv1x1" },
    normalization: IMAGENET_NORMALIZATION,
    recognises: (keys) =>
      keys.has("conv1.weight") && !hasPart(keys, ".se.") && !hasPart(keys, ".sge."),
  },
  timm: {
    description:
      "timm resnet*, seresnet50/152, seresnext50_32x4d (torchvision names; SE as se.fc1/se.fc2 1×1 convs with bias; stride in the 3×3)",
    models: [
      ...TORCHVISION_MODELS,
      "se_resnet50",
      "se_resnet101",
      "se_resnet152",
      "se_resnext50_32x4d",
      "se_resnext101_32x4d",
    ],
    config: (preset) => ({
      ...strideIn3x3(preset),
      ...(view(preset).attention === "se" ? { attentionBias: true } : {}),
    }),
    stem: { conv: "conv1", bn: "bn1" },
    head: "fc",
    attention: { se: "se", sge: "sge" },
    seFc: { reduce: "fc1", expand: "fc2", kind: "conv1x1" },
    normalization: IMAGENET_NORMALIZATION,
    recognises: (keys) => keys.has("conv1.weight"),
  },
  "legacy-senet": {
    description:
      "the Caffe-converted SENets (pretrainedmodels se_resnet50/101/152, se_resnext50_32x4d; timm legacy_*): layer0.conv1, se_module.fc1/fc2 1×1 convs with bias, last_linear; stride in the first 1×1 for SE-ResNet, in the 3×3 for SE-ResNeXt; stem max pool in ceil mode without padding",
    models: [
      "se_resnet50",
      "se_resnet101",
      "se_resnet152",
      "se_resnext50_32x4d",
      "se_resnext101_32x4d",
    ],
    config: (preset) => ({
      strideIn: view(preset).arch === "resnext" ? "3x3" : "1x1",
      attentionBias: true,
      stemPool: "ceil",
    }),
    stem: { conv: "layer0.conv1", bn: "layer0.bn1" },
    head: "last_linear",
    attention: { se: "se_module", sge: "sge" },
    seFc: { reduce: "fc1", expand: "fc2", kind: "conv1x1" },
    normalization: IMAGENET_NORMALIZATION,
    recognises: (keys) => keys.has("layer0.conv1.weight"),
  },
  pytorchinsight: {
    description:
      "implus/PytorchInsight resnet_sge.py sge_resnet50/101 (torchvision names plus layerN.M.sge.weight/bias of shape [1, G, 1, 1]; stride in the 3×3)",
    models: ["sge_resnet50", "sge_resnet101"],
    config: strideIn3x3,
    stem: { conv: "conv1", bn: "bn1" },
    head: "fc",
    attention: { se: "se", sge: "sge" },
    seFc: { reduce: "fc1", expand: "fc2", kind: "conv1x1" },
    normalization: IMAGENET_NORMALIZATION,
    recognises: (keys) => hasPart(keys, ".sge.weight"),
  },
};

function hasPart(keys: ReadonlySet<string>, part: string): boolean {
  for (const k of keys) if (k.includes(part)) return true;
  return false;
}

/** A layout by name (ConfigError quoting the name and listing the layouts otherwise). */
export function layoutOf(name: unknown): Layout {
  if (typeof name === "string" && Object.hasOwn(LAYOUTS, name)) return LAYOUTS[name as LayoutName];
  throw new ConfigError(
    `unknown weight layout ${quote(name)}; layouts: ${LAYOUT_NAMES.join(", ")}`,
  );
}

/** Layouts whose files exist for a zoo preset. */
export function layoutsFor(modelName: string): LayoutName[] {
  return LAYOUT_NAMES.filter((l) => LAYOUTS[l].models.includes(modelName));
}

/**
 * The layout of a file for a preset: the only one listed for it, else the one its keys look like
 * (e.g. se_resnet50: `layer0.conv1.weight` → legacy-senet, `conv1.weight` → timm).
 */
export function chooseLayout(modelName: string, keys: ReadonlySet<string>): LayoutName {
  const candidates = layoutsFor(modelName);
  if (candidates.length === 0) {
    const known = LAYOUT_NAMES.map((l) => `${l}: ${LAYOUTS[l].models.join(", ")}`).join("; ");
    throw new ConfigError(
      `no weight layout is known for model ${quote(modelName)}; give options.layout, or use one of (${known})`,
    );
  }
  if (candidates.length === 1) return candidates[0]!;
  const fits = candidates.filter((l) => LAYOUTS[l].recognises(keys));
  if (fits.length >= 1) return fits[0]!;
  throw new ConfigError(
    `cannot tell the layout of the file for model ${quote(modelName)} from its keys; give options.layout, one of ${candidates.join(", ")}`,
  );
}

/** Parts of a residual unit: our layer suffix → PyTorch submodule. */
const UNIT_PARTS: Readonly<Record<string, string>> = {
  "1x1_reduce": "conv1",
  "1x1_reduce_bn": "bn1",
  "3x3": "conv2",
  "3x3_bn": "bn2",
  "1x1_increase": "conv3",
  "1x1_increase_bn": "bn3",
  "1x1_proj": "downsample.0",
  "1x1_proj_bn": "downsample.1",
  "3x3a": "conv1",
  "3x3a_bn": "bn1",
  "3x3b": "conv2",
  "3x3b_bn": "bn2",
  proj: "downsample.0",
  proj_bn: "downsample.1",
};

/** PyTorch module path of one of our layers under a layout, or null when it has none. */
export function modulePath(layout: Layout, layerName: string): string | null {
  if (layerName === "conv1") return layout.stem.conv;
  if (layerName === "conv1_bn") return layout.stem.bn;
  if (layerName === "fc") return layout.head;
  const unit = /^conv(\d+)_(\d+)_(.+)$/.exec(layerName);
  if (unit) {
    const part = UNIT_PARTS[unit[3]!];
    return part ? `layer${Number(unit[1]) - 1}.${Number(unit[2]) - 1}.${part}` : null;
  }
  const att = /^(se|sge)_(\d+)_(\d+)$/.exec(layerName);
  if (att) {
    const sub = layout.attention[att[1] as "se" | "sge"];
    return `layer${Number(att[2]) - 1}.${Number(att[3]) - 1}.${sub}`;
  }
  return null;
}

/** Per layer class: our weight name → PyTorch parameter (below the module) and its conversion. */
function weightRoles(
  layout: Layout,
  className: string,
): Record<string, { param: string; kind: Conversion }> | undefined {
  const { reduce, expand, kind } = layout.seFc;
  const conv = {
    kernel: { param: "weight", kind: "conv" as const },
    bias: { param: "bias", kind: "vector" as const },
  };
  const table: Record<string, Record<string, { param: string; kind: Conversion }>> = {
    Conv2D: conv,
    GroupedConv2D: conv,
    FusedBatchNormalization: {
      gamma: { param: "weight", kind: "vector" },
      beta: { param: "bias", kind: "vector" },
      moving_mean: { param: "running_mean", kind: "vector" },
      moving_variance: { param: "running_var", kind: "vector" },
    },
    Dense: { kernel: { param: "weight", kind: "linear" }, bias: { param: "bias", kind: "vector" } },
    SqueezeExcite: {
      reduce_kernel: { param: `${reduce}.weight`, kind },
      reduce_bias: { param: `${reduce}.bias`, kind: "vector" },
      expand_kernel: { param: `${expand}.weight`, kind },
      expand_bias: { param: `${expand}.bias`, kind: "vector" },
    },
    SpatialGroupEnhance: {
      gamma: { param: "weight", kind: "groupAffine" },
      beta: { param: "bias", kind: "groupAffine" },
    },
  };
  return table[className];
}

/** One PyTorch key and the tfjs weight it corresponds to. */
export interface KeyEntry {
  /** The PyTorch key, e.g. "layer1.0.conv1.weight". */
  key: string;
  /** Our layer holding the weight. */
  layer: tf.layers.Layer;
  /** Index of the weight in `layer.weights` (the order setWeights takes). */
  index: number;
  /** The conversion between the two layouts. */
  kind: Conversion;
  /** Our (tfjs) shape. */
  shape: number[];
  /** PyTorch's shape. */
  torchShape: number[];
}

/** The key map of a built network under a layout: every weight's key, plus keys to ignore. */
export interface KeyMap {
  /** One entry per tfjs weight, in layer order. */
  entries: KeyEntry[];
  /** Keys a file may hold that carry no weight here (BatchNorm's num_batches_tracked). */
  ignored: Set<string>;
}

/** Builds the key map of `model` under `layout` (ConfigError for a layer the layouts do not name, e.g. a CIFAR or MobileNet network). */
export function keyMap(model: tf.LayersModel, layoutName: LayoutName): KeyMap {
  const layout = LAYOUTS[layoutName];
  const entries: KeyEntry[] = [];
  const ignored = new Set<string>();
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const className = layer.getClassName();
    const prefix = modulePath(layout, layer.name);
    const roles = weightRoles(layout, className);
    if (prefix === null || roles === undefined) {
      throw new ConfigError(
        `layer ${quote(layer.name)} (${className}) has weights but no name in layout ${quote(layoutName)}; the layouts cover the ImageNet ResNet/ResNeXt zoo only (${LAYOUT_NAMES.map((l) => LAYOUTS[l].models.join(", ")).join("; ")})`,
      );
    }
    if (className === "FusedBatchNormalization") ignored.add(`${prefix}.num_batches_tracked`);
    layer.weights.forEach((w, index) => {
      const base = w.originalName.slice(w.originalName.lastIndexOf("/") + 1);
      const role = roles[base];
      if (!role) {
        throw new InternalError(
          `weight ${quote(w.originalName)} of layer ${quote(layer.name)} (${className}) has no role in the key maps`,
        );
      }
      const shape = w.shape as number[];
      entries.push({
        key: `${prefix}.${role.param}`,
        layer,
        index,
        kind: role.kind,
        shape,
        torchShape: torchShapeOf(role.kind, shape),
      });
    });
  }
  return { entries, ignored };
}
