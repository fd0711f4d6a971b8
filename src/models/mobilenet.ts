/**
 * MobileNet v1 (Howard et al. 2017): 3×3/2 conv of 32α channels, then 13 depthwise-separable
 * units (3×3 depthwise-BN-ReLU, 1×1 pointwise-BN-ReLU), global pooling and a dense layer.
 * α = `width`. SE-MobileNet puts the attention after every separable unit (SE paper Table 3:
 * 4.2M → 4.7M parameters matches exactly that). Stages are numbered by output stride 2^s
 * (1: 112 px … 5: 7 px at 224), so stage s lines up with ResNet's conv{s}_x resolution.
 */
import * as tf from "@tensorflow/tfjs";
import { type AttentionFactory, attend, batchNorm, conv, convBn, relu, slotFor } from "./blocks.js";
import { classifierHead } from "./head.js";
import { convInitializer } from "./init.js";
import { networkPlan } from "./plan.js";
import type { MobileNetV1Config } from "./schema.js";

type ST = tf.SymbolicTensor;

/** Builds MobileNet v1 from a resolved config, laid out by its plan (plan.ts: MOBILENET_V1_UNITS at α). */
export function buildMobileNetV1(
  config: MobileNetV1Config,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const plan = networkPlan(config);
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x: ST = convBn(input, {
    filters: plan.stem,
    kernelSize: 3,
    strides: 2,
    name: "conv1",
    activate: true,
  });
  for (const { stage, units } of plan.stages) {
    for (const [b, { name: unit, index: i, filters, strides }] of units.entries()) {
      let input2 = x;
      if (strides > 1) {
        input2 = tf.layers.zeroPadding2d({ padding: 1, name: `${unit}_pad` }).apply(x) as ST;
      }
      x = tf.layers
        .depthwiseConv2d({
          kernelSize: 3,
          strides,
          padding: strides > 1 ? "valid" : "same",
          useBias: false,
          depthwiseInitializer: convInitializer(),
          name: unit,
        })
        .apply(input2) as ST;
      x = relu(batchNorm(`${unit}_bn`).apply(x) as ST, `${unit}_relu`);
      x = conv(x, { filters, kernelSize: 1, name: `conv_pw_${i}` });
      x = relu(batchNorm(`conv_pw_${i}_bn`).apply(x) as ST, `conv_pw_${i}_relu`);
      x = attend(x, slotFor(config, attention, stage, b + 1));
    }
  }
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}
