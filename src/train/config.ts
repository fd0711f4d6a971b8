/**
 * The flat experiment config: the form at the edges (what a person writes, a sweep cell,
 * config.json) of the experiment schema in schema.ts. One flat, JSON-serialisable object holds
 * the model keys (a `model` preset name plus any key of the model config) and the training keys.
 * `resolveExperimentConfig(raw)` parses it once (parseExperiment) and flattens the result: the
 * resolved object is what a run writes to config.json and hashes into its key, key for key as
 * it always was, and resolving it again gives the same object. `experimentOf` gives back the
 * nested `{ preset, model, train }` of a resolved config without parsing it again.
 */
import { ConfigError, quote } from "../errors.js";
import {
  ATTENTION_KEY_READERS,
  attentionReads,
  COMMON_MODEL_KEYS,
  MODEL_KEYS,
  type ModelConfig,
} from "./model-adapter.js";
import { type Experiment, parseExperiment, TRAIN_CONFIG_KEYS, type TrainConfig } from "./schema.js";

export {
  DEFAULT_MODEL,
  type Experiment,
  experimentConfigKeys,
  parseExperiment,
  TRAIN_CONFIG_KEYS,
  type TrainConfig,
  type TrainConfigKey,
} from "./schema.js";

/** A resolved experiment config: the model preset name, its resolved model keys, and the training keys. */
export type ExperimentConfig = { model: string } & ModelConfig & TrainConfig;

/** A raw experiment config: any subset of the keys, unvalidated. */
export type RawExperimentConfig = Record<string, unknown>;

/** The parse each flat config came from, so experimentOf need not parse again. */
const PARSED = new WeakMap<object, Experiment>();

/** The flat form of a parsed experiment: `model` (the preset), the model keys, the training keys. */
export function flattenExperiment(e: Experiment): ExperimentConfig {
  const flat = { model: e.preset, ...e.model, ...e.train } as ExperimentConfig;
  PARSED.set(flat, e);
  return flat;
}

/**
 * Validates a raw experiment config and fills every default (parseExperiment), in the flat
 * form. Throws ConfigError before any data is read or model built.
 */
export function resolveExperimentConfig(raw: RawExperimentConfig): ExperimentConfig {
  return flattenExperiment(parseExperiment(raw));
}

/**
 * The resolved form of `config`: itself when this process resolved it (resolveExperimentConfig
 * returned it), else resolveExperimentConfig(config). Lets a resolved config pass through
 * several layers (a sweep run, the training loop) with one parse.
 */
export function ensureResolved(config: ExperimentConfig | RawExperimentConfig): ExperimentConfig {
  return PARSED.has(config) ? (config as ExperimentConfig) : resolveExperimentConfig(config);
}

/** The nested `{ preset, model, train }` of a config: remembered for a resolved one, else parsed. */
export function experimentOf(config: ExperimentConfig | RawExperimentConfig): Experiment {
  return PARSED.get(config) ?? parseExperiment(config as RawExperimentConfig);
}

/** The model keys of a resolved config (what createModel gets as overrides). */
export function modelOverridesOf(config: ExperimentConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const c = config as unknown as Record<string, unknown>;
  for (const k of MODEL_KEYS) if (c[k] !== undefined) out[k] = c[k];
  return out;
}

/**
 * Keys every resolved config holds (config.json); a config holding them all is complete: `model`,
 * the model keys every arch's schema has (each with a default), and every training key.
 */
const ALWAYS_RESOLVED_KEYS = ["model", ...COMMON_MODEL_KEYS, ...TRAIN_CONFIG_KEYS];

/**
 * Whether `raw` is a complete config, as resolveExperimentConfig returns and config.json holds:
 * it lists every attention key by construction (defaults included), so checkKeysApply leaves it
 * alone; it was checked when it was first resolved from what a person wrote.
 */
export function isCompleteConfig(raw: RawExperimentConfig): boolean {
  return ALWAYS_RESOLVED_KEYS.every((k) => raw[k] !== undefined);
}

/** Options of checkKeysApply. */
export interface KeysApplyOptions {
  /** Keys to leave unchecked (a sweep's `base` keys: resolveSweepSpec checks them across runs). */
  exempt?: readonly string[];
  /** How the error names where a key came from (default "the config"). */
  where?: string;
}

/**
 * Why a key set in `raw` changes nothing for the network `resolved` describes, or undefined
 * when every key set applies. Pure; checkKeysApply and resolveSweepSpec word the error.
 */
export function unreadKeys(
  raw: RawExperimentConfig,
  resolved: ExperimentConfig,
  exempt: readonly string[] = [],
): string[] {
  return Object.keys(ATTENTION_KEY_READERS).filter(
    (k) => raw[k] !== undefined && !exempt.includes(k) && !attentionReads(resolved.attention, k),
  );
}

/** The one-line reason a key does not apply, shared by single runs and sweeps. */
export function unreadKeyReason(key: string, value: unknown, resolved: ExperimentConfig): string {
  const readers = ATTENTION_KEY_READERS[key] ?? [];
  return `${key}=${quote(value)} does not apply to model ${quote(resolved.model)} with attention ${quote(resolved.attention)}: only attention ${readers.map((a) => quote(a)).join(" or ")} reads it, so it would change nothing (runs differing only in it train identical networks)`;
}

/**
 * Refuses config keys that do not apply to the network (issue 14 item 11): an SE key
 * (reduction, squeeze, excitation, spatial, attentionBias) unless attention is "se", `groups`
 * unless it is "sge", and stages / integration / placement with attention "none". The rule, for
 * configs a person writes: a key set for a single run must apply to that run. A sweep adds one
 * allowance (resolveSweepSpec): a key in its `base` may serve only some of its runs (e.g. base
 * {reduction: 8} with a grid over attention ∈ {none, se, sge}), as long as at least one run
 * reads it; a key its grid varies must apply to every run. A complete config (isCompleteConfig:
 * config.json, or what resolveExperimentConfig returned) is not checked again.
 */
export function checkKeysApply(
  raw: RawExperimentConfig,
  resolved: ExperimentConfig,
  options: KeysApplyOptions = {},
): void {
  if (isCompleteConfig(raw)) return;
  const bad = unreadKeys(raw, resolved, options.exempt);
  if (bad.length === 0) return;
  const k = bad[0]!;
  const readers = ATTENTION_KEY_READERS[k] ?? [];
  throw new ConfigError(
    `${options.where ?? "the config"}: ${unreadKeyReason(k, raw[k], resolved)}; remove ${k}, or set attention to ${readers.map((a) => quote(a)).join(" or ")}${bad.length > 1 ? ` (${bad.slice(1).join(", ")} likewise)` : ""}`,
  );
}
