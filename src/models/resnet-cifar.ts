/**
 * CIFAR ResNets (He et al. 2016, Sec. 4.2): a 3×3 stem of `width` (16) channels, three stages
 * of n basic units with widths w, 2w, 4w at 32, 16, 8 pixels (depth 6n+2), global average
 * pooling and a dense layer giving logits. Stages are numbered 2–4 like conv2_x…conv4_x.
 * `shortcut` "pad" is option A (parameter-free, as in the paper's CIFAR nets: ResNet-20 has
 * 0.27M parameters); "projection" a 1×1 conv + BN (as in moskomule/senet.pytorch).
 *
 * The pre-activation bottleneck variant (ResNet-164, depth 9n+2, He et al. "Identity
 * Mappings") has stages of n bottlenecks with inner width w·2^k and output 4·w·2^k, and a
 * final BN-ReLU before the pooling.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type AttentionFactory,
  basicBlock,
  batchNorm,
  conv,
  convBn,
  preactBottleneckBlock,
  relu,
  slotFor,
} from "./blocks.js";
import type { ModelConfig } from "./config.js";
import { classifierHead } from "./head.js";

type ST = tf.SymbolicTensor;

/** Builds a CIFAR ResNet (basic units) from a resolved config; `attention` makes each block's layer. */
export function buildResNetCifar(
  config: ModelConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const n = (config.depth! - 2) / 6;
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x: ST = convBn(input, {
    filters: config.width,
    kernelSize: 3,
    name: "conv1",
    activate: true,
  });
  for (const [k, stage] of [2, 3, 4].entries()) {
    const filters = config.width * 2 ** k;
    for (let b = 1; b <= n; b++) {
      x = basicBlock(x, {
        filters,
        strides: b === 1 && stage > 2 ? 2 : 1,
        shortcut: config.shortcut!,
        name: `conv${stage}_${b}`,
        slot: slotFor(config, attention, stage, b),
      });
    }
  }
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}

/** Builds a pre-activation bottleneck CIFAR ResNet (ResNet-164 at depth 164). */
export function buildPreactResNetCifar(
  config: ModelConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const n = (config.depth! - 2) / 9;
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x: ST = conv(input, { filters: config.width, kernelSize: 3, name: "conv1" });
  for (const [k, stage] of [2, 3, 4].entries()) {
    const inner = config.width * 2 ** k;
    for (let b = 1; b <= n; b++) {
      x = preactBottleneckBlock(x, {
        inner,
        filters: 4 * inner,
        strides: b === 1 && stage > 2 ? 2 : 1,
        name: `conv${stage}_${b}`,
        slot: slotFor(config, attention, stage, b),
      });
    }
  }
  x = relu(batchNorm("final_bn").apply(x) as ST, "final_relu");
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}
