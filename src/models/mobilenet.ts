/**
 * MobileNet v1 (Howard et al. 2017): 3×3/2 conv of 32α channels, then 13 depthwise-separable
 * units (3×3 depthwise-BN-ReLU, 1×1 pointwise-BN-ReLU), global pooling and a dense layer.
 * α = `width`. SE-MobileNet puts the attention after every separable unit (SE paper Table 3:
 * 4.2M → 4.7M parameters matches exactly that). Stages are numbered by output stride 2^s
 * (1: 112 px … 5: 7 px at 224), so stage s lines up with ResNet's conv{s}_x resolution.
 */
import * as tf from "@tensorflow/tfjs";
import { type AttentionFactory, attend, batchNorm, conv, convBn, relu, slotFor } from "./blocks.js";
import type { ModelConfig } from "./config.js";
import { classifierHead } from "./head.js";
import { convInitializer } from "./init.js";

type ST = tf.SymbolicTensor;

/** The 13 separable units: [output channels at α = 1, stride, stage]. */
export const MOBILENET_V1_UNITS: readonly (readonly [number, number, number])[] = [
  [64, 1, 1],
  [128, 2, 2],
  [128, 1, 2],
  [256, 2, 3],
  [256, 1, 3],
  [512, 2, 4],
  [512, 1, 4],
  [512, 1, 4],
  [512, 1, 4],
  [512, 1, 4],
  [512, 1, 4],
  [1024, 2, 5],
  [1024, 1, 5],
];

/** Builds MobileNet v1 from a resolved config. */
export function buildMobileNetV1(
  config: ModelConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const alpha = config.width;
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x: ST = convBn(input, {
    filters: Math.round(32 * alpha),
    kernelSize: 3,
    strides: 2,
    name: "conv1",
    activate: true,
  });
  const perStage = new Map<number, number>();
  for (const [i, [filters, strides, stage]] of MOBILENET_V1_UNITS.entries()) {
    const unit = `conv_dw_${i + 1}`;
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
    x = conv(x, { filters: Math.round(filters * alpha), kernelSize: 1, name: `conv_pw_${i + 1}` });
    x = relu(batchNorm(`conv_pw_${i + 1}_bn`).apply(x) as ST, `conv_pw_${i + 1}_relu`);
    const b = (perStage.get(stage) ?? 0) + 1;
    perStage.set(stage, b);
    x = attend(x, slotFor(config, attention, stage, b));
  }
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}
