/**
 * Per-layer cost rules, one lookup table keyed by tfjs class name. Costs are analytic, from each
 * layer's weights and its input/output shapes (batch 1), never from running the layer:
 *
 * - `macs`: multiply-adds of convolutions (kernel elements × output positions, so grouped and
 *   depthwise convs count what they really do) and dense layers (in × out per position). Bias
 *   additions, BN, activations, pooling and residual additions are not counted, as the papers'
 *   "FLOPs" (multiply-adds) do not count them. The FC layers inside SE count here, as they are
 *   dense layers (the SE paper's 3.87 vs 3.86 GFLOPs).
 * - `attentionOps`: the elementwise work inside attention blocks, reported separately: every
 *   add, multiply, compare or non-linearity on one element counts 1 (a multiply-add counts 1).
 *   SE: squeeze H·W·C per pooled descriptor, bias/ReLU/gate on the hidden and gate vectors,
 *   rescale H·W·C. SGE: group mean H·W·C, dot products H·W·C, normalisation, affine and sigmoid
 *   7·H·W·G, rescale H·W·C.
 *
 * A layer class with weights and no rule is an error, so a new layer cannot be counted as free.
 */
import type * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import type { SqueezeExcite } from "../layers/index.js";

/** What a rule returns for one layer. */
export interface LayerCost {
  /** Multiply-adds of convolutions and dense layers. */
  macs: number;
  /** Elementwise work of attention blocks. */
  attentionOps: number;
}

/** A shape without its batch dimension, all known. */
type Dims = number[];

/** Inputs to a rule: the layer, its input shapes and output shape, batch removed. */
export interface RuleInput {
  /** The layer. */
  layer: tf.layers.Layer;
  /** Input shapes without batch (one per inbound tensor). */
  inputs: Dims[];
  /** Output shape without batch. */
  output: Dims;
}

function prod(a: readonly number[]): number {
  return a.reduce((x, y) => x * y, 1);
}

/** The first weight of `layer` whose name ends with one of `suffixes`. */
function weightShape(layer: tf.layers.Layer, suffixes: readonly string[]): number[] {
  const w = layer.weights.find((v) => suffixes.some((s) => v.originalName.endsWith(s)));
  if (!w)
    throw new ConfigError(
      `layer ${quote(layer.name)} has no weight named ${suffixes.join(" or ")}`,
    );
  return w.shape as number[];
}

/** Convolutions: kernel elements (k·k·C_in/G·C_out, or k·k·C·mult for depthwise) per output position. */
function convCost({ layer, output }: RuleInput): LayerCost {
  const kernel = weightShape(layer, ["depthwise_kernel", "kernel"]);
  return { macs: prod(kernel) * output[0]! * output[1]!, attentionOps: 0 };
}

/** Dense: in·out per position (positions = output elements / units). */
function denseCost({ layer, output }: RuleInput): LayerCost {
  const kernel = weightShape(layer, ["kernel"]);
  const positions = prod(output.slice(0, -1));
  return { macs: prod(kernel) * positions, attentionOps: 0 };
}

/** Layers that do no multiply-adds (elementwise, pooling, reshaping, BN which folds into convs). */
function free(): LayerCost {
  return { macs: 0, attentionOps: 0 };
}

/** SE: two FCs (counted as MACs), squeeze, activations and rescale (attentionOps). */
function seCost({ layer, inputs }: RuleInput): LayerCost {
  const se = layer as SqueezeExcite;
  const [h, w, c] = inputs[0]! as [number, number, number];
  const hidden = se.hiddenFor(c);
  const hw = h * w;
  const paths = se.squeeze === "avgmax" ? 2 : 1;
  const positions = se.spatial ? hw : paths;
  const macs = 2 * c * hidden * positions;
  const squeeze = se.spatial
    ? 0
    : paths * hw * c + (se.squeeze === "max" ? 0 : c) + (paths - 1) * c;
  const biases = se.useBias ? (hidden + c) * positions : 0;
  const nonlinear = hidden * positions + c * (se.spatial ? hw : 1);
  const rescale = hw * c;
  return { macs, attentionOps: squeeze + biases + nonlinear + rescale };
}

/** SGE: group means and dot products (2·H·W·C), normalise/affine/sigmoid (7·H·W·G), rescale (H·W·C). */
function sgeCost({ layer, inputs }: RuleInput): LayerCost {
  const g = (layer as unknown as { groups: number }).groups;
  const [h, w, c] = inputs[0]! as [number, number, number];
  const hw = h * w;
  return { macs: 0, attentionOps: 3 * hw * c + 7 * hw * g };
}

/** The rule for each layer class. */
export const LAYER_RULES: Record<string, (input: RuleInput) => LayerCost> = {
  Conv2D: convCost,
  GroupedConv2D: convCost,
  DepthwiseConv2D: convCost,
  Dense: denseCost,
  SqueezeExcite: seCost,
  SpatialGroupEnhance: sgeCost,
  InputLayer: free,
  BatchNormalization: free,
  FusedBatchNormalization: free,
  ReLU: free,
  Activation: free,
  Add: free,
  Multiply: free,
  Concatenate: free,
  ZeroPadding2D: free,
  MaxPooling2D: free,
  AveragePooling2D: free,
  GlobalAveragePooling2D: free,
  GlobalMaxPooling2D: free,
  Flatten: free,
  Reshape: free,
  Dropout: free,
  PadShortcut: free,
};

/** Attention layer classes (their params/MACs are also reported as attention cost). */
export const ATTENTION_CLASSES: readonly string[] = ["SqueezeExcite", "SpatialGroupEnhance"];
