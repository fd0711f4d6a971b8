/**
 * The bridge from a model config to the attention layers of src/layers: one factory per model
 * that createAttention()s the configured block for each slot. SGE's group count is clamped to
 * min(groups, C) per block, so the papers' G = 64 runs on CIFAR widths of 16 and 32 (16 and 32
 * groups of one channel each there); resolveModelConfig already checked that it divides C.
 */
import { createAttention } from "../layers/index.js";
import type { AttentionFactory } from "./blocks.js";
import { type ModelConfig, sgeGroupsFor } from "./config.js";

/** The attention factory of a resolved config, or null for attention "none". */
export function attentionFactory(config: ModelConfig): AttentionFactory | null {
  switch (config.attention) {
    case "none":
      return null;
    case "se":
      return (name) =>
        createAttention("se", {
          reduction: config.reduction,
          squeeze: config.squeeze,
          excitation: config.excitation,
          useBias: config.attentionBias,
          spatial: config.spatial,
          name,
        });
    case "sge":
      return (name, channels) =>
        createAttention("sge", { groups: sgeGroupsFor(config.groups, channels), name });
  }
}
