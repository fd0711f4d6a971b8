/**
 * The training loop's one door into the model zoo (src/models): the model keys, resolving a
 * preset plus overrides to a full ModelConfig, and building the network of a resolved one.
 */
import type * as tf from "@tensorflow/tfjs";
import {
  ARCHS,
  ATTENTION_KEY_READERS,
  archKeys,
  attentionReads,
  buildModel,
  MODEL_CONFIG_KEYS,
  type ModelConfig,
  presetConfig,
} from "../models/index.js";

export type { ModelConfig };
export { ATTENTION_KEY_READERS, attentionReads };

/** Model config keys an experiment config may set (besides `model`). */
export const MODEL_KEYS: readonly string[] = MODEL_CONFIG_KEYS;

/** Model keys every arch's schema has, so every resolved config holds them (its defaults fill them). */
export const COMMON_MODEL_KEYS: readonly string[] = MODEL_CONFIG_KEYS.filter((k) =>
  ARCHS.every((a) => archKeys(a).includes(k)),
);

/** Resolves preset `name` with `overrides` to a complete model config (ConfigError on bad input). */
export function resolveModelFor(name: string, overrides: Record<string, unknown>): ModelConfig {
  return presetConfig(name, overrides);
}

/** A function building the network (outputting logits) of a resolved model config, named `name`. */
export type ModelFactory = (config: ModelConfig, name: string) => tf.LayersModel;

/** The zoo's buildModel, which builds a resolved config without parsing it again (async to leave room for a lazily loaded zoo). */
export async function modelFactory(): Promise<ModelFactory> {
  return (config, name) => buildModel(config, { name });
}
