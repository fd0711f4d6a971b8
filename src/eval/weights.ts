/**
 * The one place `senet-lab eval` gets its model from: senet-lab's own model folders (model.json +
 * weights.bin, written by saveModel or at the end of a training run, in `<run>/model/`);
 * PyTorch / timm weight files (.safetensors, .pth, .pt, .pth.tar, .ckpt, .bin) through
 * src/pretrained's loadPretrained, which also says how its inputs are normalised; or a randomly
 * initialised zoo model for a smoke check of the pipeline. Anything else is refused, naming it.
 */
import fs from "node:fs";
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { loadModel, MODEL_JSON } from "../io/index.js";
import { createModel, presetConfig } from "../models/index.js";
import type { LayoutName, Normalization } from "../pretrained/index.js";

/** Options of loadEvalModel. */
export interface LoadEvalModelOptions {
  /** Build `name` with random weights instead of reading `weights` (accuracy is chance: a smoke check only). */
  randomInit?: boolean;
  /** Classes of a random-init model (its outputs). Default: the preset's. */
  numClasses?: number;
  /** Input [H, W, C] of a random-init or pretrained-file model. Default: the preset's (224² for pretrained files). */
  inputShape?: [number, number, number];
  /** Key names of a PyTorch / safetensors file (LAYOUT_NAMES); default: from the model name or the file's keys. */
  layout?: LayoutName;
  /** Model config keys for a random-init or pretrained-file model (e.g. `{ width: 8 }`); a saved folder fixes its own. */
  overrides?: Record<string, unknown>;
}

/** A model ready to evaluate, and where its weights came from. */
export interface EvalModel {
  /** The network, weights loaded. */
  model: tf.LayersModel;
  /** What the weights are: "random-init" or the model folder read. */
  source: string;
  /** Remarks for the user (e.g. the saved model's name differs from the one asked for). */
  notes: string[];
  /** The input normalisation the weights were trained with, when the file says (pretrained layouts); null: unknown. */
  normalization: Normalization | null;
  /** The layout a pretrained file was read under; null for folders and random-init. */
  layout: LayoutName | null;
}

/** Weight-file suffixes loadPretrained reads (safetensors directly, the rest through PyTorch). */
const PRETRAINED_SUFFIXES = [".safetensors", ".pth", ".pt", ".pth.tar", ".ckpt", ".bin"] as const;

/** Weight-file suffixes of other frameworks, and what they are, for the refusal message. */
const FOREIGN: Record<string, string> = {
  ".h5": "a Keras HDF5 file",
  ".keras": "a Keras archive",
  ".npz": "a NumPy archive",
  ".onnx": "an ONNX model",
};

/**
 * Loads the model to evaluate: the zoo name `name` (checked against the presets) with the
 * weights at `weights`, a senet-lab model folder or a run folder holding `model/`. Anything else
 * is a ConfigError naming the path and what is accepted.
 */
export async function loadEvalModel(
  name: string,
  weights: string | null,
  options: LoadEvalModelOptions = {},
): Promise<EvalModel> {
  presetConfig(name); // unknown names fail here, listing the zoo
  if (options.randomInit) {
    if (weights !== null) {
      throw new ConfigError(
        `give weights or randomInit, not both (weights ${quote(weights)} with randomInit)`,
      );
    }
    const overrides: Record<string, unknown> = { ...options.overrides };
    if (options.numClasses !== undefined) overrides.numClasses = options.numClasses;
    if (options.inputShape !== undefined) overrides.inputShape = options.inputShape;
    return {
      model: createModel(name, overrides),
      source: "random-init",
      notes: ["random-init: the weights are random, the accuracy is chance (a smoke check only)"],
      normalization: null,
      layout: null,
    };
  }
  if (weights === null) {
    throw new ConfigError(`model ${quote(name)} needs weights (a model folder) or randomInit`);
  }
  const st = fs.statSync(weights, { throwIfNoEntry: false });
  if (!st) throw new ConfigError(`weights ${quote(weights)} do not exist`);
  if (!st.isDirectory()) {
    const lower = weights.toLowerCase();
    if (PRETRAINED_SUFFIXES.some((s) => lower.endsWith(s))) {
      const { loadPretrained } = await import("../pretrained/index.js");
      const r = await loadPretrained(name, weights, {
        ...(options.layout !== undefined ? { layout: options.layout } : {}),
        ...(options.numClasses !== undefined ? { numClasses: options.numClasses } : {}),
        ...(options.inputShape !== undefined ? { inputShape: options.inputShape } : {}),
        ...(options.overrides !== undefined ? { overrides: options.overrides } : {}),
      });
      return {
        model: r.model,
        source: weights,
        notes: [],
        normalization: r.normalization,
        layout: r.layout,
      };
    }
    const kind = FOREIGN[path.extname(weights).toLowerCase()];
    throw new ConfigError(
      `weights ${quote(weights)} is ${kind ?? "a file of unknown kind"}; accepted: a senet-lab model folder (${MODEL_JSON} + weights.bin, from saveModel or a training run's model/) or a PyTorch / timm weight file (${PRETRAINED_SUFFIXES.join(", ")})`,
    );
  }
  for (const [k, v] of [
    ["layout", options.layout],
    ["overrides", options.overrides],
    ["inputShape", options.inputShape],
    ["numClasses", options.numClasses],
  ] as const) {
    if (v !== undefined) {
      throw new ConfigError(
        `${k} applies to random-init or a PyTorch / safetensors file; the model folder ${quote(weights)} fixes its own network`,
      );
    }
  }
  let dir = weights;
  if (!fs.existsSync(path.join(dir, MODEL_JSON))) {
    const nested = path.join(dir, "model");
    if (fs.existsSync(path.join(nested, MODEL_JSON))) dir = nested;
    else {
      throw new ConfigError(
        `weights folder ${quote(weights)} holds no ${MODEL_JSON} (nor model/${MODEL_JSON}, as a training run writes); give a model folder written by saveModel`,
      );
    }
  }
  const model = await loadModel(dir);
  const notes: string[] = [];
  if (model.name !== name) {
    notes.push(
      `the model in ${quote(dir)} was saved as ${quote(model.name)}, not ${quote(name)}; it is evaluated as saved`,
    );
  }
  return { model, source: dir, notes, normalization: null, layout: null };
}
