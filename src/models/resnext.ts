/**
 * ResNeXt (Xie et al. 2017), C×d: bottleneck units whose 3×3 conv has C = `cardinality` groups
 * of d = `width` channels each at stage 2, i.e. inner width floor(64·2^k·d/64)·C (128 for
 * 32×4d), output 256·2^k. Stem and stage layout as ResNet-50/101. The grouped conv is
 * GroupedConv2D (split/concat, exact grouped multiply-adds; see grouped-conv.ts). Default
 * strideIn "3x3", as in the ResNeXt code and the SE authors' SE-ResNeXt models.
 */
import * as tf from "@tensorflow/tfjs";
import { type AttentionFactory, bottleneckBlock, slotFor } from "./blocks.js";
import { classifierHead } from "./head.js";
import { networkPlan } from "./plan.js";
import { imagenetStem } from "./resnet.js";
import type { ResNeXtConfig } from "./schema.js";

/** Builds a ResNeXt from a resolved config, laid out by its plan (plan.ts). */
export function buildResNeXt(
  config: ResNeXtConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const plan = networkPlan(config);
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x = imagenetStem(input, plan.stem, config.stemPool);
  for (const { stage, units } of plan.stages) {
    for (const [i, unit] of units.entries()) {
      x = bottleneckBlock(x, {
        inner: unit.inner,
        filters: unit.filters,
        strides: unit.strides,
        strideIn: config.strideIn ?? "3x3",
        groups: config.cardinality,
        name: unit.name,
        slot: slotFor(config, attention, stage, i + 1),
      });
    }
  }
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}
