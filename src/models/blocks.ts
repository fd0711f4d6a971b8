/**
 * Building blocks shared by the zoo: convolutions with PyTorch's padding, the ONE batch-norm
 * factory, and the residual units with an attention slot.
 *
 * The attention slot follows the SE paper's integration study (Table 14, Fig. 5):
 *   standard  x + A(F(x))          the block after the last BN of the residual branch
 *   pre       x + F(A(x))          the block before the residual unit
 *   post      A(relu(x + F(x)))    the block after the addition
 *   identity  A(x) + F(x)          the block on the identity path, parallel to the unit
 * and, for bottlenecks, `placement: "after3x3"` (Table 15) moves a standard block inside the
 * branch, after the 3×3 conv's BN+ReLU. (For pre-activation units there is no ReLU after the
 * addition.)
 */
import * as tf from "@tensorflow/tfjs";
import { fusedBatchNormalization } from "../layers/fused-batch-normalization.js";
import { GroupedConv2D } from "./grouped-conv.js";
import { convInitializer, initMode } from "./init.js";
import { PadShortcut } from "./pad-shortcut.js";
import type { INTEGRATIONS, ModelConfig, PLACEMENTS, STRIDE_INS } from "./schema.js";

type ST = tf.SymbolicTensor;

/** Makes the attention layer for one block, given its name and the channels it will see; null = no block. */
export type AttentionFactory = (name: string, channels: number) => tf.layers.Layer | null;

/** Where and whether a block carries attention. */
export interface AttentionSlot {
  /** Factory for this block's attention layer; null when the block has none. */
  attend: AttentionFactory | null;
  /** Layer name of the attention block (paper style, e.g. "se_4_6"). */
  name: string;
  /** Integration variant. */
  integration: (typeof INTEGRATIONS)[number];
  /** Bottleneck placement. */
  placement: (typeof PLACEMENTS)[number];
}

/** BN hyper-parameters of the zoo: PyTorch's eps 1e-5 and momentum 0.1 (tfjs momentum 0.9). */
export const BN_EPSILON = 1e-5;
/** Moving-average momentum in tfjs's convention (PyTorch 0.1). */
export const BN_MOMENTUM = 0.9;

/**
 * The one place batch norm layers are created (channels-last). Every network in the zoo calls
 * this, so a fused or native implementation can later be swapped in here alone.
 */
export function batchNorm(name: string): tf.layers.Layer {
  // Same arguments and weights as tf.layers.batchNormalization; its training step is one fused
  // op (native oneDNN forward/backward on the onednn backend, where it is worth 3-4x a step).
  return fusedBatchNormalization({
    axis: -1,
    epsilon: BN_EPSILON,
    momentum: BN_MOMENTUM,
    name,
  });
}

/** Arguments of `conv`. */
export interface ConvArgs {
  /** Output channels. */
  filters: number;
  /** Square kernel size. */
  kernelSize: number;
  /** Stride (default 1). */
  strides?: number;
  /** Groups (default 1; >1 uses GroupedConv2D). */
  groups?: number;
  /** Layer name. */
  name: string;
}

/**
 * A bias-free convolution with PyTorch's symmetric padding k//2: stride 1 uses "same"
 * (symmetric for odd k); a strided conv pads explicitly (ZeroPadding2D) and uses "valid",
 * because tfjs's "same" pads bottom/right only when the stride is 2.
 */
export function conv(x: ST, args: ConvArgs): ST {
  const strides = args.strides ?? 1;
  const groups = args.groups ?? 1;
  const pad = Math.floor(args.kernelSize / 2);
  let input = x;
  let padding: "same" | "valid" = "same";
  if (strides > 1) {
    padding = "valid";
    if (pad > 0) {
      input = tf.layers.zeroPadding2d({ padding: pad, name: `${args.name}_pad` }).apply(x) as ST;
    }
  }
  const layer =
    groups > 1
      ? new GroupedConv2D({
          filters: args.filters,
          kernelSize: args.kernelSize,
          strides,
          groups,
          padding,
          kernelInitializer: initMode() === "zeros" ? "zeros" : "heUniformFanOut",
          name: args.name,
        })
      : tf.layers.conv2d({
          filters: args.filters,
          kernelSize: args.kernelSize,
          strides,
          padding,
          useBias: false,
          kernelInitializer: convInitializer(),
          name: args.name,
        });
  return layer.apply(input) as ST;
}

/** ReLU as a named layer. */
export function relu(x: ST, name: string): ST {
  return tf.layers.reLU({ name }).apply(x) as ST;
}

/** conv → BN → optional ReLU, names `<name>`, `<name>_bn`, `<name>_relu`. */
export function convBn(x: ST, args: ConvArgs & { activate: boolean }): ST {
  const y = batchNorm(`${args.name}_bn`).apply(conv(x, args)) as ST;
  return args.activate ? relu(y, `${args.name}_relu`) : y;
}

/** Applies the slot's attention block if it has one. */
export function attend(x: ST, slot: AttentionSlot | undefined): ST {
  const layer = slot?.attend?.(slot.name, channels(x)) ?? null;
  return layer ? (layer.apply(x) as ST) : x;
}

function channels(x: ST): number {
  return x.shape[3] as number;
}

/** How a block's shortcut changes shape: a 1×1 projection conv + BN, or option A padding. */
export type ShortcutKind = "projection" | "pad";

/** The identity path: x itself when the shape is unchanged, else projection or padding. */
export function shortcut(
  x: ST,
  filters: number,
  strides: number,
  kind: ShortcutKind,
  name: string,
): ST {
  if (strides === 1 && channels(x) === filters) return x;
  if (kind === "pad") return new PadShortcut({ filters, stride: strides, name }).apply(x) as ST;
  return convBn(x, { filters, kernelSize: 1, strides, name, activate: false });
}

/** Joins branch and identity per the integration variant; `postRelu` false for pre-activation units. */
function join(
  identity: ST,
  branch: ST,
  slot: AttentionSlot | undefined,
  name: string,
  postRelu: boolean,
): ST {
  const integration = slot?.integration ?? "standard";
  const placement = slot?.placement ?? "end";
  const b = integration === "standard" && placement === "end" ? attend(branch, slot) : branch;
  const id = integration === "identity" ? attend(identity, slot) : identity;
  let y = tf.layers.add({ name: `${name}_add` }).apply([id, b]) as ST;
  if (postRelu) y = relu(y, `${name}_relu`);
  return integration === "post" ? attend(y, slot) : y;
}

/** Arguments of the basic (two 3×3 convs) residual unit. */
export interface BasicBlockArgs {
  /** Output channels. */
  filters: number;
  /** Stride of the first 3×3 conv and of the shortcut. */
  strides: number;
  /** Shortcut when the shape changes. */
  shortcut: ShortcutKind;
  /** Name prefix, e.g. "conv3_1". */
  name: string;
  /** Attention slot (undefined: none). */
  slot?: AttentionSlot;
}

/** ResNet basic unit: 3×3 conv-BN-ReLU, 3×3 conv-BN, attention, add, ReLU. */
export function basicBlock(x: ST, args: BasicBlockArgs): ST {
  const pre = args.slot?.integration === "pre" ? attend(x, args.slot) : x;
  let y = convBn(pre, {
    filters: args.filters,
    kernelSize: 3,
    strides: args.strides,
    name: `${args.name}_3x3a`,
    activate: true,
  });
  y = convBn(y, {
    filters: args.filters,
    kernelSize: 3,
    name: `${args.name}_3x3b`,
    activate: false,
  });
  const id = shortcut(x, args.filters, args.strides, args.shortcut, `${args.name}_proj`);
  return join(id, y, args.slot, args.name, true);
}

/** Arguments of the bottleneck unit. */
export interface BottleneckArgs {
  /** Width of the 1×1 reduce and 3×3 convs. */
  inner: number;
  /** Output channels (the 1×1 increase). */
  filters: number;
  /** Stride of the unit. */
  strides: number;
  /** Which conv carries the stride ("1x1": Caffe ResNet; "3x3": torchvision v1.5 / ResNeXt). */
  strideIn: (typeof STRIDE_INS)[number];
  /** Groups of the 3×3 conv (ResNeXt cardinality; 1 for ResNet). */
  groups: number;
  /** Name prefix, e.g. "conv2_1". */
  name: string;
  /** Attention slot (undefined: none). */
  slot?: AttentionSlot;
}

/** Bottleneck unit: 1×1 reduce, 3×3 (grouped for ResNeXt), 1×1 increase, each with BN. */
export function bottleneckBlock(x: ST, args: BottleneckArgs): ST {
  const s1 = args.strideIn === "1x1" ? args.strides : 1;
  const s3 = args.strideIn === "3x3" ? args.strides : 1;
  const pre = args.slot?.integration === "pre" ? attend(x, args.slot) : x;
  let y = convBn(pre, {
    filters: args.inner,
    kernelSize: 1,
    strides: s1,
    name: `${args.name}_1x1_reduce`,
    activate: true,
  });
  y = convBn(y, {
    filters: args.inner,
    kernelSize: 3,
    strides: s3,
    groups: args.groups,
    name: `${args.name}_3x3`,
    activate: true,
  });
  if (args.slot?.placement === "after3x3") y = attend(y, args.slot);
  y = convBn(y, {
    filters: args.filters,
    kernelSize: 1,
    name: `${args.name}_1x1_increase`,
    activate: false,
  });
  const id = shortcut(x, args.filters, args.strides, "projection", `${args.name}_1x1_proj`);
  return join(id, y, args.slot, args.name, true);
}

/**
 * Pre-activation bottleneck (He et al. 2016, ResNet-164): BN-ReLU-1×1, BN-ReLU-3×3 (strided),
 * BN-ReLU-1×1, no BN after the last conv, no ReLU after the addition. When the shape changes
 * the projection shortcut takes the pre-activated input, as in the authors' code.
 * integration "pre" attends the pre-activated input of the first conv (not the shortcut).
 */
export function preactBottleneckBlock(
  x: ST,
  args: Omit<BottleneckArgs, "strideIn" | "groups">,
): ST {
  const a = relu(batchNorm(`${args.name}_preact_bn`).apply(x) as ST, `${args.name}_preact_relu`);
  // SE-PRE attends the pre-activated input of the convolutions; the identity/projection path
  // stays unattended, as in the post-activation units.
  const branchIn = args.slot?.integration === "pre" ? attend(a, args.slot) : a;
  let y = conv(branchIn, {
    filters: args.inner,
    kernelSize: 1,
    name: `${args.name}_1x1_reduce`,
  });
  y = relu(batchNorm(`${args.name}_1x1_reduce_bn`).apply(y) as ST, `${args.name}_1x1_reduce_relu`);
  y = conv(y, {
    filters: args.inner,
    kernelSize: 3,
    strides: args.strides,
    name: `${args.name}_3x3`,
  });
  y = relu(batchNorm(`${args.name}_3x3_bn`).apply(y) as ST, `${args.name}_3x3_relu`);
  if (args.slot?.placement === "after3x3") y = attend(y, args.slot);
  y = conv(y, { filters: args.filters, kernelSize: 1, name: `${args.name}_1x1_increase` });
  const changes = args.strides !== 1 || channels(x) !== args.filters;
  const id = changes
    ? conv(a, {
        filters: args.filters,
        kernelSize: 1,
        strides: args.strides,
        name: `${args.name}_1x1_proj`,
      })
    : x;
  return join(id, y, args.slot, args.name, false);
}

/**
 * The attention slot of unit `block` of `stage`, or undefined when the config puts no attention
 * there. Attention layers are named `<type>_<stage>_<block>` (the paper's SE_4_6 style).
 */
export function slotFor(
  config: ModelConfig,
  attention: AttentionFactory | null,
  stage: number,
  block: number,
): AttentionSlot | undefined {
  if (!attention || config.attention === "none" || !config.stages.includes(stage)) return undefined;
  return {
    attend: attention,
    name: `${config.attention}_${stage}_${block}`,
    integration: config.integration ?? "standard",
    placement: config.placement ?? "end",
  };
}
