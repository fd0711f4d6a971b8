/**
 * `countComplexity`: trainable parameters and multiply-adds of a model, counted the way the
 * papers count them (see rules.ts), with a per-layer breakdown. Given a preset name the network
 * is built (weights allocated, no forward pass) and disposed after counting.
 */
import type * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import {
  buildModel,
  type ModelConfig,
  type NetworkPlan,
  networkPlan,
  presetConfig,
  type RawModelConfig,
  stageOfLayer,
} from "../models/index.js";
import { ATTENTION_CLASSES, LAYER_RULES } from "./rules.js";

/** Cost of one layer. */
export interface LayerComplexity {
  /** Layer name (e.g. "conv4_6_3x3", "se_4_6"). */
  name: string;
  /** tfjs class name. */
  className: string;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  /** Trainable parameters. */
  params: number;
  /** Multiply-adds (convolutions, dense layers) for one image. */
  macs: number;
  /** Elementwise work of an attention block for one image (0 elsewhere). */
  attentionOps: number;
}

/** The cost of one stage (its units and their attention blocks), read through the network's plan. */
export interface StageComplexity {
  /** Stage number, paper numbering. */
  stage: number;
  /** Units in the stage. */
  units: number;
  /** Channels leaving the stage. */
  outChannels: number;
  /** Total downsampling at the stage's output. */
  outputStride: number;
  /** Trainable parameters of the stage's layers. */
  params: number;
  /** Multiply-adds of the stage's layers. */
  macs: number;
  /** Parameters of the stage's attention blocks (included in `params`). */
  attentionParams: number;
}

/** The complexity of one network for one image. */
export interface ComplexityReport {
  /** Model (preset) name. */
  model: string;
  /** Resolved config, when counted from a preset name. */
  config?: ModelConfig;
  /** Per-stage totals from the config's plan (stem and head excluded), when counted from a preset name. */
  stages?: StageComplexity[];
  /** Input shape [H, W, C]. */
  inputShape: number[];
  /** Trainable parameters (BN moving statistics excluded, as the papers count). */
  params: number;
  /** Multiply-adds of convolutions and dense layers (the papers' "FLOPs"), attention FCs included. */
  macs: number;
  /** Elementwise work of the attention blocks, not included in `macs`. */
  attentionOps: number;
  /** Parameters inside attention blocks (included in `params`). */
  attentionParams: number;
  /** Multiply-adds inside attention blocks (included in `macs`). */
  attentionMacs: number;
  /** Per-layer breakdown in model order (layers with no parameters and no cost are kept too). */
  layers: LayerComplexity[];
}

function known(shape: readonly (number | null)[], what: string): number[] {
  const dims = shape.slice(1);
  if (dims.some((d) => d == null)) {
    throw new ConfigError(
      `${what} has an unknown dimension (shape ${quote(shape)}); build the model with a fixed inputShape`,
    );
  }
  return dims as number[];
}

/** Counts a built model. */
function countModel(model: tf.LayersModel, name: string): ComplexityReport {
  const layers: LayerComplexity[] = [];
  let params = 0;
  let macs = 0;
  let attentionOps = 0;
  let attentionParams = 0;
  let attentionMacs = 0;
  for (const layer of model.layers) {
    const className = layer.getClassName();
    const rule = LAYER_RULES[className];
    const p = layer.trainableWeights.reduce(
      (a, w) => a + w.shape.reduce<number>((x, y) => x * (y as number), 1),
      0,
    );
    if (!rule) {
      if (layer.weights.length > 0) {
        throw new ConfigError(
          `no complexity rule for layer class ${quote(className)} (layer ${quote(layer.name)}); known: ${Object.keys(LAYER_RULES).join(", ")}`,
        );
      }
    }
    const output = known(layer.outputShape as tf.Shape, `output of layer ${quote(layer.name)}`);
    const inbound = layer.input;
    const inputs = (Array.isArray(inbound) ? inbound : [inbound]).map((t) =>
      known(t.shape, `input of layer ${quote(layer.name)}`),
    );
    const cost = rule ? rule({ layer, inputs, output }) : { macs: 0, attentionOps: 0 };
    layers.push({
      name: layer.name,
      className,
      outputShape: output,
      params: p,
      macs: cost.macs,
      attentionOps: cost.attentionOps,
    });
    params += p;
    macs += cost.macs;
    attentionOps += cost.attentionOps;
    if (ATTENTION_CLASSES.includes(className)) {
      attentionParams += p;
      attentionMacs += cost.macs;
    }
  }
  const inputShape = known(model.inputs[0]!.shape, "model input");
  return {
    model: name,
    inputShape,
    params,
    macs,
    attentionOps,
    attentionParams,
    attentionMacs,
    layers,
  };
}

/**
 * Complexity of a model: a built tf.LayersModel, or a preset name with optional config
 * overrides (validated before anything is built; the temporary model is disposed).
 */
export function countComplexity(
  modelOrName: tf.LayersModel | string,
  overrides?: RawModelConfig | Record<string, unknown>,
): ComplexityReport {
  if (typeof modelOrName !== "string") {
    if (overrides !== undefined && Object.keys(overrides).length > 0) {
      throw new ConfigError(
        `overrides apply to preset names only; got a built model with overrides ${quote(overrides)}`,
      );
    }
    return countModel(modelOrName, modelOrName.name);
  }
  const config = presetConfig(modelOrName, overrides ?? {});
  const model = buildModel(config, { name: modelOrName, init: "zeros" });
  try {
    const report = countModel(model, modelOrName);
    return { ...report, config, stages: perStage(report.layers, networkPlan(config)) };
  } finally {
    model.dispose();
  }
}

/** Sums the layers of each stage of `plan` (layers outside every stage, stem and head, are left out). */
function perStage(layers: readonly LayerComplexity[], plan: NetworkPlan): StageComplexity[] {
  const stageOf = stageOfLayer(plan);
  const out = plan.stages.map((s) => ({
    stage: s.stage,
    units: s.units.length,
    outChannels: s.out,
    outputStride: s.outputStride,
    params: 0,
    macs: 0,
    attentionParams: 0,
  }));
  for (const l of layers) {
    const row = out.find((r) => r.stage === stageOf(l.name));
    if (!row) continue;
    row.params += l.params;
    row.macs += l.macs;
    if (ATTENTION_CLASSES.includes(l.className)) row.attentionParams += l.params;
  }
  return out;
}
