/**
 * The attention block chosen by name: one lookup table from "none" | "se" | "sge" to a layer
 * factory, so models and sweeps pick the block with a string. One options object may carry the
 * fields of both blocks (a sweep over types can share it): each block takes its own fields and
 * ignores the other's; keys that belong to neither are a ConfigError.
 */
import type * as tf from "@tensorflow/tfjs";
import { ConfigError, oneOf, quote } from "../errors.js";
import {
  SGE_ARG_KEYS,
  SpatialGroupEnhance,
  type SpatialGroupEnhanceArgs,
} from "./spatial-group-enhance.js";
import { SE_ARG_KEYS, SqueezeExcite, type SqueezeExciteArgs } from "./squeeze-excite.js";

/** Attention block names, in the order sweeps and tables list them. */
export const ATTENTION_TYPES = ["none", "se", "sge"] as const;
/** An attention block name. */
export type AttentionType = (typeof ATTENTION_TYPES)[number];

/** Options of createAttention: the union of the SE and SGE argument fields. */
export interface AttentionOptions {
  /** SE reduction ratio r (default 16); hidden width max(1, floor(C / r)). */
  reduction?: number;
  /** SE hidden width, instead of reduction. */
  hiddenChannels?: number;
  /** SE squeeze operator: "avg" (default), "max", "avgmax". */
  squeeze?: SqueezeExciteArgs["squeeze"];
  /** SE excitation: "sigmoid" (default), "tanh", "relu", "hardSigmoid". */
  excitation?: SqueezeExciteArgs["excitation"];
  /** SE FC biases (default false). */
  useBias?: boolean;
  /** SE NoSqueeze variant (default false). */
  spatial?: boolean;
  /** SGE group count (default 64). */
  groups?: number;
  /** SGE epsilon added to the std (default 1e-5). */
  epsilon?: number;
}

/** Keys createAttention accepts: both blocks' fields plus the layer name. */
const OPTION_KEYS: readonly string[] = [...SE_ARG_KEYS, ...SGE_ARG_KEYS, "name"];

/** Copies the defined fields named in `keys` (and name) from options. */
function pick<T>(options: Record<string, unknown>, keys: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const key of [...keys, "name"]) if (options[key] !== undefined) out[key] = options[key];
  return out as T;
}

/** One factory per attention type: the lookup table. */
const FACTORIES: Record<
  AttentionType,
  (options: Record<string, unknown>) => tf.layers.Layer | null
> = {
  none: () => null,
  se: (o) => new SqueezeExcite(pick<SqueezeExciteArgs>(o, SE_ARG_KEYS)),
  sge: (o) => new SpatialGroupEnhance(pick<SpatialGroupEnhanceArgs>(o, SGE_ARG_KEYS)),
};

/**
 * A new attention layer of the named type (null for "none"). Unknown types and unknown option
 * keys throw ConfigError naming the value and the allowed ones; option values are checked by
 * the layer constructor, shape-dependent ones (channels, groups) when the layer is built.
 */
export function createAttention(
  type: AttentionType,
  options: AttentionOptions & { name?: string } = {},
): tf.layers.Layer | null {
  const kind = oneOf("attention type", type, ATTENTION_TYPES);
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ConfigError(`attention options must be an object; got ${quote(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new ConfigError(
        `unknown attention option ${quote(key)}; allowed: ${OPTION_KEYS.join(", ")}`,
      );
    }
  }
  return FACTORIES[kind](options as Record<string, unknown>);
}
