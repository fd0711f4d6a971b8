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
import { classifierHead } from "./head.js";
import { networkPlan } from "./plan.js";
import type { PreactResNetCifarConfig, ResNetCifarConfig } from "./schema.js";

type ST = tf.SymbolicTensor;

/** Builds a CIFAR ResNet (basic units) from a resolved config, laid out by its plan; `attention` makes each block's layer. */
export function buildResNetCifar(
  config: ResNetCifarConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const plan = networkPlan(config);
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x: ST = convBn(input, {
    filters: plan.stem,
    kernelSize: 3,
    name: "conv1",
    activate: true,
  });
  for (const { stage, units } of plan.stages) {
    for (const [i, unit] of units.entries()) {
      x = basicBlock(x, {
        filters: unit.filters,
        strides: unit.strides,
        shortcut: config.shortcut,
        name: unit.name,
        slot: slotFor(config, attention, stage, i + 1),
      });
    }
  }
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}

/** Builds a pre-activation bottleneck CIFAR ResNet (ResNet-164 at depth 164), laid out by its plan. */
export function buildPreactResNetCifar(
  config: PreactResNetCifarConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const plan = networkPlan(config);
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x: ST = conv(input, { filters: plan.stem, kernelSize: 3, name: "conv1" });
  for (const { stage, units } of plan.stages) {
    for (const [i, unit] of units.entries()) {
      x = preactBottleneckBlock(x, {
        inner: unit.inner,
        filters: unit.filters,
        strides: unit.strides,
        name: unit.name,
        slot: slotFor(config, attention, stage, i + 1),
      });
    }
  }
  x = relu(batchNorm("final_bn").apply(x) as ST, "final_relu");
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}
