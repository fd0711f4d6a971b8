/**
 * The one place `senet-lab eval` gets its model from. Today it reads senet-lab's own model folders
 * (model.json + weights.bin, written by saveModel or at the end of a training run, in
 * `<run>/model/`), or builds a randomly initialised zoo model for a smoke check of the pipeline.
 * Other weight files (PyTorch .pth / .pt, .safetensors, Keras .h5) are refused with a clear
 * message: their converter (src/pretrained, `loadPretrained`) plugs in here, as one more branch
 * of loadEvalModel, and nothing else in the eval command changes.
 */
import fs from "node:fs";
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { loadModel, MODEL_JSON } from "../io/index.js";
import { createModel, presetConfig } from "../models/index.js";

/** Options of loadEvalModel. */
export interface LoadEvalModelOptions {
  /** Build `name` with random weights instead of reading `weights` (accuracy is chance: a smoke check only). */
  randomInit?: boolean;
  /** Classes of a random-init model (its outputs). Default: the preset's. */
  numClasses?: number;
  /** Input [H, W, C] of a random-init model. Default: the preset's. */
  inputShape?: [number, number, number];
}

/** A model ready to evaluate, and where its weights came from. */
export interface EvalModel {
  /** The network, weights loaded. */
  model: tf.LayersModel;
  /** What the weights are: "random-init" or the model folder read. */
  source: string;
  /** Remarks for the user (e.g. the saved model's name differs from the one asked for). */
  notes: string[];
}

/** Weight-file suffixes of other frameworks, and what they are, for the refusal message. */
const FOREIGN: Record<string, string> = {
  ".pth": "a PyTorch checkpoint",
  ".pt": "a PyTorch checkpoint",
  ".bin": "a raw weights file (PyTorch or tfjs shard)",
  ".safetensors": "a safetensors file",
  ".h5": "a Keras HDF5 file",
  ".keras": "a Keras archive",
  ".npz": "a NumPy archive",
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
    const overrides: Record<string, unknown> = {};
    if (options.numClasses !== undefined) overrides.numClasses = options.numClasses;
    if (options.inputShape !== undefined) overrides.inputShape = options.inputShape;
    return {
      model: createModel(name, overrides),
      source: "random-init",
      notes: ["random-init: the weights are random, the accuracy is chance (a smoke check only)"],
    };
  }
  if (weights === null) {
    throw new ConfigError(`model ${quote(name)} needs weights (a model folder) or randomInit`);
  }
  const st = fs.statSync(weights, { throwIfNoEntry: false });
  if (!st) throw new ConfigError(`weights ${quote(weights)} do not exist`);
  if (!st.isDirectory()) {
    // Integration point: src/pretrained's loadPretrained(name, weights, { layout, numClasses,
    // inputShape }) becomes a branch here for .pth / .safetensors; the CLI needs no change.
    const kind = FOREIGN[path.extname(weights).toLowerCase()];
    throw new ConfigError(
      `weights ${quote(weights)} is ${kind ?? "a file"}; only senet-lab model folders load today (a folder with ${MODEL_JSON} + weights.bin, written by saveModel or a training run's model/); converting PyTorch / timm checkpoints (.pth, .safetensors) is not here yet`,
    );
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
  return { model, source: dir, notes };
}
