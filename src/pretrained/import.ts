/**
 * Pretrained weights into a zoo network, strictly: `loadPretrained(name | model, file, options)`
 * reads a safetensors file (or a PyTorch .pth/.pt through pth.ts), picks the layout (given, or
 * from the model name, or from the file's keys when the name allows several), builds the network
 * with the config that layout needs (e.g. SE biases and the stride in the 3×3 for timm), checks
 * that every key, and nothing else, is there with the right shape (one WeightMismatchError
 * listing all offenders otherwise), converts each tensor (convert.ts) and sets the weights.
 * BatchNorm's num_batches_tracked counters are accepted and ignored; a `module.` prefix on every
 * key (nn.DataParallel checkpoints) is dropped.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import {
  createModel,
  type ModelConfig,
  presetConfig,
  type RawModelConfig,
} from "../models/index.js";
import { fromTorch } from "./convert.js";
import { type ShapeMismatch, WeightMismatchError } from "./errors.js";
import {
  chooseLayout,
  keyMap,
  LAYOUTS,
  type LayoutName,
  layoutOf,
  type Normalization,
} from "./key-maps.js";
import { isPytorchFile, readPytorchStateDict } from "./pth.js";
import { readSafetensors, type StoredTensor } from "./safetensors.js";

/** Options of loadPretrained. */
export interface LoadPretrainedOptions {
  /** Whose key names the file uses; default: from the model name, or from the keys where the name allows several (LAYOUT_NAMES). Required when passing a built model. */
  layout?: LayoutName;
  /** Classes of the classifier; default: read from the file's classifier weight (1000 for ImageNet checkpoints). */
  numClasses?: number;
  /** Input [height, width, channels]; default the zoo's [224, 224, 3]. Weights do not depend on it. */
  inputShape?: [number, number, number];
  /** Further model config keys (e.g. `{ width: 8 }` for a slim test network); keys the layout fixes must agree with it. */
  overrides?: RawModelConfig;
}

/** What loadPretrained returns. */
export interface PretrainedModel {
  /** The network with the file's weights, in inference form (call it with training false). */
  model: tf.LayersModel;
  /** The layout the file was read under. */
  layout: LayoutName;
  /** The resolved config the network was built from (null when a built model was passed). */
  config: ModelConfig | null;
  /** How to normalise inputs for these weights (RGB in [0, 1], NHWC): the layout's. */
  normalization: Normalization;
}

/** A state dict in memory: PyTorch keys to tensors (see safetensors.ts). */
export type StateDict = Map<string, StoredTensor>;

/** Reads a weight file: safetensors, or a PyTorch pickle (.pth/.pt/.pth.tar/.ckpt) converted by /usr/bin/python3 + torch. */
export async function readStateDict(file: string): Promise<StateDict> {
  const dict = isPytorchFile(file)
    ? await readPytorchStateDict(file)
    : (await readSafetensors(file)).tensors;
  return stripDataParallel(dict);
}

/** Drops a `module.` prefix that every key carries (checkpoints saved from nn.DataParallel). */
function stripDataParallel(dict: StateDict): StateDict {
  const keys = [...dict.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith("module."))) return dict;
  return new Map(keys.map((k) => [k.slice("module.".length), dict.get(k)!]));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Sets a built network's weights from a state dict under a layout, strictly: any missing key,
 * unexpected key or wrong shape raises one WeightMismatchError listing them all, and then no
 * weight has been changed. `label` names the source in errors.
 */
export function applyStateDict(
  model: tf.LayersModel,
  dict: StateDict,
  layout: LayoutName,
  label = "<state dict>",
): void {
  const map = keyMap(model, layout);
  const wanted = new Set(map.entries.map((e) => e.key));
  const missing = map.entries
    .filter((e) => !dict.has(e.key))
    .map((e) => e.key)
    .sort();
  const unexpected = [...dict.keys()].filter((k) => !wanted.has(k) && !map.ignored.has(k)).sort();
  const shapes: ShapeMismatch[] = [];
  for (const e of map.entries) {
    const t = dict.get(e.key);
    if (t && !sameShape(t.shape, e.torchShape)) {
      shapes.push({ key: e.key, found: t.shape, expected: e.torchShape });
    }
  }
  for (const e of map.entries) {
    const t = dict.get(e.key);
    if (t && !(t.data instanceof Float32Array)) {
      shapes.push({
        key: `${e.key} (dtype ${t.dtype}, needs a float dtype)`,
        found: t.shape,
        expected: e.torchShape,
      });
    }
  }
  if (missing.length + unexpected.length + shapes.length > 0) {
    const others = (Object.keys(LAYOUTS) as LayoutName[]).filter(
      (l) => l !== layout && LAYOUTS[l].recognises(new Set(dict.keys())),
    );
    const hint =
      others.length > 0
        ? `Its keys look like layout ${others.map((l) => quote(l)).join(" or ")}`
        : "";
    throw new WeightMismatchError(label, layout, { missing, unexpected, shapes }, hint);
  }
  const byLayer = new Map<tf.layers.Layer, tf.Tensor[]>();
  for (const e of map.entries) {
    const values = fromTorch(e.kind, dict.get(e.key)!.data as Float32Array, e.shape);
    const list = byLayer.get(e.layer) ?? [];
    list[e.index] = tf.tensor(values, e.shape, "float32");
    byLayer.set(e.layer, list);
  }
  for (const [layer, tensors] of byLayer) {
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
}

/** The classifier's output count stored in a file, if its head weight is there. */
function classesInFile(dict: StateDict, layout: LayoutName): number | undefined {
  const head = dict.get(`${LAYOUTS[layout].head}.weight`);
  return head && head.shape.length === 2 ? head.shape[0] : undefined;
}

/** The config a layout needs merged over the user's overrides (a conflicting override is a ConfigError). */
function layoutConfig(
  modelName: string,
  layout: LayoutName,
  overrides: RawModelConfig,
): RawModelConfig {
  const needed = LAYOUTS[layout].config(presetConfig(modelName, overrides));
  for (const [key, value] of Object.entries(needed)) {
    const given = (overrides as Record<string, unknown>)[key];
    if (given !== undefined && given !== value) {
      throw new ConfigError(
        `layout ${quote(layout)} needs ${key}=${quote(value)} (${LAYOUTS[layout].description}); got override ${key}=${quote(given)}`,
      );
    }
  }
  return { ...overrides, ...needed };
}

/**
 * Builds zoo model `model` (or takes a built one) and loads `file` into it (see the module
 * comment). E.g. `await loadPretrained("resnet50", "resnet50.safetensors")` for a torchvision
 * checkpoint, `loadPretrained("se_resnet50", "se_resnet50-ce0d4300.pth")` for the Caffe SENet
 * (layout found from the keys), `{ numClasses: 10, inputShape: [64, 64, 3] }` for a fine-tuned one.
 */
export async function loadPretrained(
  model: string | tf.LayersModel,
  file: string,
  options: LoadPretrainedOptions = {},
): Promise<PretrainedModel> {
  if (options.layout !== undefined) layoutOf(options.layout);
  const dict = await readStateDict(file);
  const label = file;
  if (typeof model !== "string") {
    if (options.layout === undefined) {
      throw new ConfigError(
        `loadPretrained with a built model needs options.layout, one of ${Object.keys(LAYOUTS).join(", ")}`,
      );
    }
    applyStateDict(model, dict, options.layout, label);
    return {
      model,
      layout: options.layout,
      config: null,
      normalization: LAYOUTS[options.layout].normalization,
    };
  }
  const layout = options.layout ?? chooseLayout(model, new Set(dict.keys()));
  const overrides: RawModelConfig = { ...(options.overrides ?? {}) };
  const numClasses = options.numClasses ?? classesInFile(dict, layout);
  if (numClasses !== undefined) overrides.numClasses = numClasses;
  if (options.inputShape !== undefined) overrides.inputShape = options.inputShape;
  const merged = layoutConfig(model, layout, overrides);
  const config = presetConfig(model, merged);
  const built = createModel(model, merged);
  try {
    applyStateDict(built, dict, layout, label);
  } catch (e) {
    built.dispose();
    throw e;
  }
  return { model: built, layout, config, normalization: LAYOUTS[layout].normalization };
}
