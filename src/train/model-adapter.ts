/**
 * The training loop's one door into the model zoo (src/models): the model keys, resolving a
 * preset plus overrides to a full ModelConfig, and building the network.
 */
import type * as tf from "@tensorflow/tfjs";
import {
  ATTENTION_KEY_READERS,
  attentionReads,
  createModel,
  MODEL_CONFIG_KEYS,
  type ModelConfig,
  presetConfig,
} from "../models/index.js";

export type { ModelConfig };
export { ATTENTION_KEY_READERS, attentionReads };

/** Model config keys an experiment config may set (besides `model`). */
export const MODEL_KEYS: readonly string[] = MODEL_CONFIG_KEYS;

/** Resolves preset `name` with `overrides` to a complete model config (ConfigError on bad input). */
export function resolveModelFor(name: string, overrides: Record<string, unknown>): ModelConfig {
  return presetConfig(name, overrides);
}

/** A function building preset `name` with `overrides` (a network that outputs logits). */
export type ModelFactory = (name: string, overrides: Record<string, unknown>) => tf.LayersModel;

/** The zoo's createModel (async to leave room for a lazily loaded zoo). */
export async function modelFactory(): Promise<ModelFactory> {
  return createModel;
}
