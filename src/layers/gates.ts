/**
 * Gate read-out for visualisation: what each SE / SGE layer multiplies its input by. It builds a
 * side model whose outputs are the attention layers' inputs and calls each layer's computeGate
 * on them, so nothing is added to the model's own forward pass (normal training pays nothing).
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { SpatialGroupEnhance } from "./spatial-group-enhance.js";
import { SqueezeExcite } from "./squeeze-excite.js";

/** One attention layer's gate for a batch. */
export interface GateReadout {
  /** Which block: "se" or "sge". */
  type: "se" | "sge";
  /** SE: [N,1,1,C] channel gates ([N,H,W,C] when spatial); SGE: [N,H,W,G] attention maps. */
  gate: tf.Tensor4D;
}

/** An attention layer found in a model. */
export interface AttentionLayerInfo {
  /** The layer's name in the model. */
  name: string;
  /** Which block: "se" or "sge". */
  type: "se" | "sge";
  /** The layer itself. */
  layer: SqueezeExcite | SpatialGroupEnhance;
}

/** The SE / SGE layers directly in `model`, in model order. */
export function attentionLayers(model: tf.LayersModel): AttentionLayerInfo[] {
  const out: AttentionLayerInfo[] = [];
  for (const layer of model.layers) {
    if (layer instanceof SqueezeExcite) out.push({ name: layer.name, type: "se", layer });
    else if (layer instanceof SpatialGroupEnhance)
      out.push({ name: layer.name, type: "sge", layer });
  }
  return out;
}

/**
 * Gates of every attention layer of `model` for `input`, keyed by layer name ({} when the model
 * has none). The caller owns (and disposes) the returned tensors. `batchSize` bounds the memory
 * of the side model's forward pass.
 */
export function readGates(
  model: tf.LayersModel,
  input: tf.Tensor | tf.Tensor[],
  options: { batchSize?: number } = {},
): Record<string, GateReadout> {
  const found = attentionLayers(model);
  if (found.length === 0) return {};
  const symbolic = found.map(({ name, layer }) => {
    if (layer.inboundNodes.length !== 1) {
      throw new ConfigError(
        `readGates: attention layer ${quote(name)} is used ${layer.inboundNodes.length} times in the model; gates can be read only from layers applied once`,
      );
    }
    return layer.input as tf.SymbolicTensor;
  });
  // Shares the layers (and their weights) with `model`; it must not be disposed.
  const probe = tf.model({ inputs: model.inputs, outputs: symbolic });
  const result: Record<string, GateReadout> = {};
  const predicted = probe.predict(input, { batchSize: options.batchSize ?? 32 });
  const inputs = Array.isArray(predicted) ? predicted : [predicted];
  try {
    found.forEach(({ name, type, layer }, i) => {
      result[name] = { type, gate: layer.computeGate(inputs[i] as tf.Tensor4D) };
    });
  } catch (err) {
    for (const r of Object.values(result)) r.gate.dispose();
    throw err;
  } finally {
    tf.dispose(inputs);
  }
  return result;
}
