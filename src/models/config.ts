/**
 * The one parse of a model config. `resolveModelConfig(raw)` turns a loose object (a preset
 * merged with user overrides, a sweep cell, `--set key=value` pairs) into a complete
 * `ModelConfig` through the schema (schema.ts), then checks what needs the network's per-stage
 * plan (plan.ts): bottleneck-only keys, SGE groups against every attended width, the input
 * against the total stride. Errors are ConfigErrors naming the key, the value and what is
 * allowed, before any layer is built. Keys that do not apply to the chosen `arch` are errors,
 * and the resolved config holds only the keys that apply, so two runs with the same resolved
 * config build the same network. A resolved config is remembered, so building it later
 * (buildModel) does not parse it again.
 */
import * as v from "valibot";
import { ConfigError, oneOf, quote } from "../errors.js";
import { attentionChannels, type NetworkPlan, networkPlan } from "./plan.js";
import {
  ARCHS,
  archKeys,
  MODEL_CONFIG_KEYS,
  MODEL_CONFIG_SCHEMA,
  type ModelConfig,
  type RawModelConfig,
} from "./schema.js";

export * from "./schema.js";

/** Configs this process resolved (and did not copy): building one needs no second parse. */
const RESOLVED = new WeakSet<object>();

/** Whether `config` is a resolved config as resolveModelConfig returned it. */
export function isResolvedModelConfig(config: unknown): config is ModelConfig {
  return typeof config === "object" && config !== null && RESOLVED.has(config);
}

/**
 * Validates a raw config and fills defaults. Errors (ConfigError) name the key, the value and
 * what is allowed: unknown keys, wrong types, keys that do not apply to the arch, and impossible
 * combinations (after3x3 in a basic block, a depth that is not 6n+2, SGE groups that do not
 * divide a stage's width, ...).
 */
export function resolveModelConfig(raw: RawModelConfig | Record<string, unknown>): ModelConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`model config must be an object; got ${quote(raw)}`);
  }
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).filter(
    (k) => !(MODEL_CONFIG_KEYS as readonly string[]).includes(k),
  );
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown model config key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => quote(k)).join(", ")}; allowed keys: ${MODEL_CONFIG_KEYS.join(", ")}`,
    );
  }
  const arch = oneOf("arch", r.arch, ARCHS);
  const applicable: readonly string[] = archKeys(arch);
  const foreign = Object.keys(r).filter((k) => r[k] !== undefined && !applicable.includes(k));
  if (foreign.length > 0) {
    throw new ConfigError(
      `key${foreign.length > 1 ? "s" : ""} ${foreign.map((k) => `${k}=${quote(r[k])}`).join(", ")} do${foreign.length > 1 ? "" : "es"} not apply to arch ${quote(arch)}; its keys: ${applicable.join(", ")}`,
    );
  }
  const parsed = v.safeParse(MODEL_CONFIG_SCHEMA, r, { abortEarly: true });
  if (!parsed.success) throw new ConfigError(parsed.issues[0].message);
  // Every key of the arch in its schema's order (config.json's order), filled in place below
  // and the unset ones dropped, so the plan computed here is the one the builder reads.
  const out: Record<string, unknown> = {};
  for (const k of applicable) out[k] = (parsed.output as Record<string, unknown>)[k];
  const resolved = out as ModelConfig;
  const plan = networkPlan(resolved);
  checkCombinations(resolved, r, plan);
  for (const k of applicable) if (out[k] === undefined) delete out[k];
  if (resolved.attention === "sge") checkSge(resolved, plan);
  RESOLVED.add(resolved);
  return resolved;
}

/**
 * The checks across keys, reading the plan: NoSqueeze with a squeeze, the bottleneck-only
 * `placement="after3x3"` and `strideIn` (filled in here, only where bottlenecks read them), and
 * the input against the network's total stride. Mutates `c` (the parsed config) to add defaults.
 */
function checkCombinations(c: ModelConfig, r: Record<string, unknown>, plan: NetworkPlan): void {
  const { arch } = c;
  if (c.spatial && c.squeeze !== "avg") {
    throw new ConfigError(
      `spatial=true (NoSqueeze) has no squeeze, so squeeze must stay "avg"; got squeeze=${quote(c.squeeze)}`,
    );
  }
  const minInput = plan.stages[plan.stages.length - 1]!.outputStride;
  const [h, w] = c.inputShape;
  if (h < minInput || w < minInput) {
    throw new ConfigError(
      `inputShape for arch ${quote(arch)} must be at least ${minInput}×${minInput} (its total stride); received: inputShape=${quote(c.inputShape)}`,
    );
  }
  const m = c as Record<string, unknown>;
  if (c.integration !== undefined) {
    const placement = c.placement ?? "end";
    if (placement === "after3x3" && !plan.bottleneck) {
      throw new ConfigError(
        `placement="after3x3" needs bottleneck blocks; arch ${quote(arch)} with depth=${quote(c.depth)} uses basic blocks (use placement="end")`,
      );
    }
    if (placement === "after3x3" && c.integration !== "standard") {
      throw new ConfigError(
        `placement="after3x3" puts the block inside the residual branch, which only integration="standard" defines; got integration=${quote(c.integration)}`,
      );
    }
    m.placement = plan.bottleneck || r.placement !== undefined ? placement : undefined;
  }
  if (arch === "resnet" || arch === "resnext") {
    if (!plan.bottleneck && r.strideIn !== undefined) {
      throw new ConfigError(
        `strideIn=${quote(r.strideIn)} applies to bottleneck blocks only; depth=${quote(c.depth)} uses basic blocks, whose first 3×3 conv always strides`,
      );
    }
    m.strideIn = plan.bottleneck ? (c.strideIn ?? (arch === "resnext" ? "3x3" : "1x1")) : undefined;
  }
}

/**
 * SGE splits C channels into min(G, C) groups (the clamp lets G = 64 run on CIFAR widths of
 * 16/32); every attended width must then be divisible by its group count. The candidate
 * widths include the block input (SE-PRE) and the previous stage's output, so the check is
 * conservative for integration="pre". Its unbiased std over the H·W positions needs at least
 * two positions in the deepest attended stage (64×64 for conv5_x).
 */
function checkSge(config: ModelConfig, plan: NetworkPlan): void {
  for (const [stage, widths] of attentionChannels(config, plan)) {
    for (const c of widths) {
      const g = sgeGroupsFor(config.groups, c);
      if (c % g !== 0) {
        throw new ConfigError(
          `SGE groups=${config.groups} gives ${g} groups for the ${c} channels of stage ${stage}, which do not divide evenly; pick groups dividing ${c}`,
        );
      }
    }
  }
  const deepest = config.stages[config.stages.length - 1];
  if (deepest === undefined) return;
  const stride = plan.stages.find((s) => s.stage === deepest)!.outputStride;
  const [h, w] = config.inputShape;
  const positions = Math.ceil(h / stride) * Math.ceil(w / stride);
  if (positions < 2) {
    throw new ConfigError(
      `SGE needs at least 2 spatial positions in stage ${deepest} (its std is over positions), but inputShape=${quote(config.inputShape)} leaves ${Math.ceil(h / stride)}×${Math.ceil(w / stride)} there; use an input of at least ${2 * stride}×${stride} or drop stage ${deepest} from stages`,
    );
  }
}

/** Effective SGE group count for a block of `channels` channels: min(G, C). */
export function sgeGroupsFor(groups: number, channels: number): number {
  return Math.min(groups, channels);
}
