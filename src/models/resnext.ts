/**
 * ResNeXt (Xie et al. 2017), C×d: bottleneck units whose 3×3 conv has C = `cardinality` groups
 * of d = `width` channels each at stage 2, i.e. inner width floor(64·2^k·d/64)·C (128 for
 * 32×4d), output 256·2^k. Stem and stage layout as ResNet-50/101. The grouped conv is
 * GroupedConv2D (split/concat, exact grouped multiply-adds; see grouped-conv.ts). Default
 * strideIn "3x3", as in the ResNeXt code and the SE authors' SE-ResNeXt models.
 */
import * as tf from "@tensorflow/tfjs";
import { type AttentionFactory, bottleneckBlock, slotFor } from "./blocks.js";
import type { ModelConfig } from "./config.js";
import { classifierHead } from "./head.js";
import { imagenetStem, RESNET_UNITS } from "./resnet.js";

/** Builds a ResNeXt from a resolved config. */
export function buildResNeXt(
  config: ModelConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const units = RESNET_UNITS[config.depth!]!;
  const cardinality = config.cardinality!;
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x = imagenetStem(input, 64);
  for (const [k, n] of units.entries()) {
    const stage = k + 2;
    const planes = 64 * 2 ** k;
    const inner = Math.floor((planes * config.width) / 64) * cardinality;
    for (let b = 1; b <= n; b++) {
      x = bottleneckBlock(x, {
        inner,
        filters: 4 * planes,
        strides: b === 1 && stage > 2 ? 2 : 1,
        strideIn: config.strideIn!,
        groups: cardinality,
        name: `conv${stage}_${b}`,
        slot: slotFor(config, attention, stage, b),
      });
    }
  }
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}
