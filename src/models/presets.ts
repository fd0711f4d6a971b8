/**
 * Named presets, as configs (not subclasses): `PRESETS[name]` is a raw config that
 * `resolveModelConfig` completes, `createModel(name, overrides)` merges overrides into it and
 * builds the network. Every architecture has one builder in ARCH_BUILDERS.
 *
 * Choices (see the README section of the model zoo):
 * - CIFAR basic ResNets: option A shortcuts (He et al.); SE with r = 8: the CIFAR reference
 *   code (moskomule/senet.pytorch) defaults to 16, but its README reports its ResNet-20 results
 *   with r = 4 or 8, and r = 16 leaves one hidden unit at 16 channels. SGE with G = 64 clamped to
 *   the stage width (16 and 32 groups in stages 2 and 3).
 * - se_resnet164: r = 16 (SE paper default; its widths are 64–256).
 * - ImageNet ResNets: strideIn "1x1" (the Caffe ResNet the SE paper's Table 2 counts);
 *   ResNeXt: strideIn "3x3" (the ResNeXt code and SE-ResNeXt models). SE FCs without bias
 *   (the paper's ablation setting, Eq. 5), r = 16.
 */
import type * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { attentionFactory } from "./attention.js";
import type { AttentionFactory } from "./blocks.js";
import {
  type Arch,
  isResolvedModelConfig,
  type ModelConfig,
  type ModelConfigOf,
  type RawModelConfig,
  resolveModelConfig,
} from "./config.js";
import { type InitMode, withInitMode } from "./init.js";
import { buildMobileNetV1 } from "./mobilenet.js";
import { buildResNet } from "./resnet.js";
import { buildPreactResNetCifar, buildResNetCifar } from "./resnet-cifar.js";
import { buildResNeXt } from "./resnext.js";

/** One builder per architecture: the lookup table `buildModel` dispatches through. */
export const ARCH_BUILDERS: {
  [A in Arch]: (
    config: ModelConfigOf<A>,
    attention: AttentionFactory | null,
    name: string,
  ) => tf.LayersModel;
} = {
  "resnet-cifar": buildResNetCifar,
  "preact-resnet-cifar": buildPreactResNetCifar,
  resnet: buildResNet,
  resnext: buildResNeXt,
  "mobilenet-v1": buildMobileNetV1,
};

/** SE reduction of the basic CIFAR presets (see the module comment). */
export const CIFAR_SE_REDUCTION = 8;

function cifarPresets(): Record<string, RawModelConfig> {
  const out: Record<string, RawModelConfig> = {};
  for (const depth of [20, 32, 44, 56, 110]) {
    out[`resnet${depth}`] = { arch: "resnet-cifar", depth };
    out[`se_resnet${depth}`] = {
      arch: "resnet-cifar",
      depth,
      attention: "se",
      reduction: CIFAR_SE_REDUCTION,
    };
    out[`sge_resnet${depth}`] = { arch: "resnet-cifar", depth, attention: "sge", groups: 64 };
  }
  return out;
}

/** Every named model: a raw config each, completed by resolveModelConfig. */
export const PRESETS: Readonly<Record<string, Readonly<RawModelConfig>>> = {
  ...cifarPresets(),
  resnet164: { arch: "preact-resnet-cifar", depth: 164 },
  se_resnet164: { arch: "preact-resnet-cifar", depth: 164, attention: "se", reduction: 16 },
  resnet18: { arch: "resnet", depth: 18 },
  resnet34: { arch: "resnet", depth: 34 },
  resnet50: { arch: "resnet", depth: 50 },
  se_resnet50: { arch: "resnet", depth: 50, attention: "se", reduction: 16 },
  sge_resnet50: { arch: "resnet", depth: 50, attention: "sge", groups: 64 },
  resnet101: { arch: "resnet", depth: 101 },
  se_resnet101: { arch: "resnet", depth: 101, attention: "se", reduction: 16 },
  sge_resnet101: { arch: "resnet", depth: 101, attention: "sge", groups: 64 },
  resnet152: { arch: "resnet", depth: 152 },
  se_resnet152: { arch: "resnet", depth: 152, attention: "se", reduction: 16 },
  resnext50_32x4d: { arch: "resnext", depth: 50, cardinality: 32, width: 4 },
  se_resnext50_32x4d: {
    arch: "resnext",
    depth: 50,
    cardinality: 32,
    width: 4,
    attention: "se",
    reduction: 16,
  },
  resnext101_32x4d: { arch: "resnext", depth: 101, cardinality: 32, width: 4 },
  se_resnext101_32x4d: {
    arch: "resnext",
    depth: 101,
    cardinality: 32,
    width: 4,
    attention: "se",
    reduction: 16,
  },
  mobilenet_v1: { arch: "mobilenet-v1", width: 1 },
  se_mobilenet_v1: { arch: "mobilenet-v1", width: 1, attention: "se", reduction: 16 },
};

/** Names of all presets, in table order. */
export function listModels(): string[] {
  return Object.keys(PRESETS);
}

/** The resolved config of a preset with overrides merged in (ConfigError on unknown names or bad overrides). */
export function presetConfig(
  name: string,
  overrides: RawModelConfig | Record<string, unknown> = {},
): ModelConfig {
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!preset) {
    throw new ConfigError(`unknown model ${quote(name)}; available: ${listModels().join(", ")}`);
  }
  if (overrides === null || typeof overrides !== "object" || Array.isArray(overrides)) {
    throw new ConfigError(
      `overrides for model ${quote(name)} must be an object; got ${quote(overrides)}`,
    );
  }
  return resolveModelConfig({ ...preset, ...overrides });
}

/** Options of buildModel. */
export interface BuildOptions {
  /** Model name (default: the arch). */
  name?: string;
  /** "random" (default) or "zeros": shape-only build for counting (see init.ts). */
  init?: InitMode;
}

/**
 * Builds the network of a config. A config resolveModelConfig returned is built as it is; any
 * other object (hand-written, or read back from JSON) is parsed first, so it is safe too.
 */
export function buildModel(
  config: ModelConfig | RawModelConfig,
  options: BuildOptions = {},
): tf.LayersModel {
  const resolved = isResolvedModelConfig(config) ? config : resolveModelConfig(config);
  const name = options.name ?? resolved.arch;
  return withInitMode(options.init ?? "random", () =>
    buildArch(resolved, attentionFactory(resolved), name),
  );
}

/** Dispatches to the arch's builder with the config narrowed to that arch. */
function buildArch(
  c: ModelConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  switch (c.arch) {
    case "resnet-cifar":
      return ARCH_BUILDERS[c.arch](c, attention, name);
    case "preact-resnet-cifar":
      return ARCH_BUILDERS[c.arch](c, attention, name);
    case "resnet":
      return ARCH_BUILDERS[c.arch](c, attention, name);
    case "resnext":
      return ARCH_BUILDERS[c.arch](c, attention, name);
    case "mobilenet-v1":
      return ARCH_BUILDERS[c.arch](c, attention, name);
  }
}

/** Builds a named preset, with optional config overrides (e.g. `{ attention: "se", stages: [4] }`). */
export function createModel(
  name: string,
  overrides: RawModelConfig | Record<string, unknown> = {},
): tf.LayersModel {
  return buildModel(presetConfig(name, overrides), { name });
}
