/**
 * Our weights back out as a PyTorch state dict under a layout's key names (torchvision, timm,
 * the Caffe SENet, PytorchInsight), so a network trained here loads into that layout's PyTorch
 * code with `load_state_dict(strict=True)`: the inverse of import.ts through the same key map
 * and conversions. Each BatchNorm also gets its num_batches_tracked counter (I64, 0), which
 * strict PyTorch loading expects.
 */
import type * as tf from "@tensorflow/tfjs";
import { toTorch } from "./convert.js";
import { keyMap, type LayoutName, layoutOf } from "./key-maps.js";
import { type TensorToWrite, writeSafetensors } from "./safetensors.js";

/** The network's weights as a PyTorch state dict under `layout` (keys → tensors in PyTorch shapes). */
export function stateDictOf(model: tf.LayersModel, layout: LayoutName): Map<string, TensorToWrite> {
  layoutOf(layout);
  const map = keyMap(model, layout);
  const out = new Map<string, TensorToWrite>();
  for (const e of map.entries) {
    const values = e.layer.weights[e.index]!.read().dataSync() as Float32Array;
    out.set(e.key, toTorch(e.kind, values, e.shape));
  }
  for (const key of map.ignored) out.set(key, { shape: [], data: new BigInt64Array(1) });
  return out;
}

/** Options of exportPretrained. */
export interface ExportPretrainedOptions {
  /** Whose key names to write. */
  layout: LayoutName;
  /** String metadata stored in the header's `__metadata__` (e.g. the zoo model name). */
  metadata?: Record<string, string>;
}

/** Writes the network's weights as a safetensors file in the layout's key names (F32; atomic). */
export async function exportPretrained(
  model: tf.LayersModel,
  file: string,
  options: ExportPretrainedOptions,
): Promise<void> {
  const metadata = { format: "pt", layout: options.layout, ...(options.metadata ?? {}) };
  await writeSafetensors(file, stateDictOf(model, options.layout), metadata);
}
