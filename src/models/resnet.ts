/**
 * ImageNet ResNets (He et al. 2016): 7×7/2 stem of `width` (64) channels, 3×3/2 max pool, four
 * stages conv2_x…conv5_x at strides 4–32, basic units for depth 18/34, bottlenecks (output
 * 4× the inner width) for 50/101/152. `strideIn` "1x1" puts a stage's stride in the first
 * 1×1 conv (the original Caffe ResNet, which the SE paper's Table 2 counts: 3.86 GFLOPs for
 * ResNet-50); "3x3" puts it in the 3×3 (torchvision "v1.5", ~4.09 GFLOPs). Parameters do not
 * depend on strideIn.
 */
import * as tf from "@tensorflow/tfjs";
import { type AttentionFactory, basicBlock, bottleneckBlock, convBn, slotFor } from "./blocks.js";
import { classifierHead } from "./head.js";
import { networkPlan } from "./plan.js";
import type { ResNetConfig, STEM_POOLS } from "./schema.js";

/** How the stem's max pool pads (STEM_POOLS). */
type StemPool = (typeof STEM_POOLS)[number];

type ST = tf.SymbolicTensor;

/**
 * The ImageNet stem shared with ResNeXt: conv1 7×7/2, BN, ReLU, 3×3/2 max pool, padded 1 on every
 * side ("pad") or, for "ceil" (PyTorch's ceil_mode=True without padding), by one row and column
 * at the bottom and right only, which keeps ceil mode's last partial window.
 */
export function imagenetStem(input: ST, filters: number, pool: StemPool = "pad"): ST {
  const x = convBn(input, { filters, kernelSize: 7, strides: 2, name: "conv1", activate: true });
  // Zero padding before the max pool equals PyTorch's -inf padding here: inputs are post-ReLU (>= 0).
  const padding: [[number, number], [number, number]] =
    pool === "ceil"
      ? [
          [0, 1],
          [0, 1],
        ]
      : [
          [1, 1],
          [1, 1],
        ];
  const padded = tf.layers.zeroPadding2d({ padding, name: "pool1_pad" }).apply(x) as ST;
  return tf.layers
    .maxPooling2d({ poolSize: 3, strides: 2, padding: "valid", name: "pool1" })
    .apply(padded) as ST;
}

/** Builds an ImageNet ResNet from a resolved config, laid out by its plan (plan.ts). */
export function buildResNet(
  config: ResNetConfig,
  attention: AttentionFactory | null,
  name: string,
): tf.LayersModel {
  const plan = networkPlan(config);
  const input = tf.input({ shape: config.inputShape, name: "input" });
  let x = imagenetStem(input, plan.stem, config.stemPool);
  for (const { stage, units } of plan.stages) {
    for (const [i, unit] of units.entries()) {
      const slot = slotFor(config, attention, stage, i + 1);
      const blockName = unit.name;
      x = plan.bottleneck
        ? bottleneckBlock(x, {
            inner: unit.inner,
            filters: unit.filters,
            strides: unit.strides,
            strideIn: config.strideIn ?? "1x1",
            groups: 1,
            name: blockName,
            slot,
          })
        : basicBlock(x, {
            filters: unit.filters,
            strides: unit.strides,
            shortcut: "projection",
            name: blockName,
            slot,
          });
    }
  }
  return tf.model({ inputs: input, outputs: classifierHead(x, config.numClasses), name });
}
