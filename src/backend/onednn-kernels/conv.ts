/** Native Conv2D, FusedConv2D (bias + activation), Conv2DBackpropInput, Conv2DBackpropFilter. */
import * as tf from "@tensorflow/tfjs";
import type { Pad, Rounding } from "../conv-attrs.js";
import {
  activationCode,
  convBackwardData,
  convBackwardFilter,
  convForward,
  convGeometry,
  f32,
  type NativeKernelFunc,
  sizeOf,
} from "./util.js";

function dataFormatOf(
  attrs: Record<string, unknown> | undefined,
): "channelsLast" | "channelsFirst" {
  return tf.backend_util.convertConv2DDataFormat((attrs?.dataFormat as "NHWC" | "NCHW") ?? "NHWC");
}

/** Shared body of Conv2D and FusedConv2D. */
function forward(
  args: Parameters<NativeKernelFunc>[0],
  activation: unknown,
  leakyreluAlpha: unknown,
): tf.TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (!x || !filter || preluActivationWeights) return undefined;
  const act = activationCode(activation);
  if (act === undefined) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs?.strides as [number, number] | number,
    (attrs?.dilations as [number, number] | number) ?? 1,
    attrs?.pad as Pad,
    attrs?.dimRoundingMode as Rounding,
    false,
    dataFormatOf(attrs),
  );
  const shape = convGeometry(info, 1);
  return convForward(backend, info, shape, x, filter, bias, act, leakyreluAlpha);
}

/** Conv2D: y = conv(x, filter). */
export const conv2D: NativeKernelFunc = (args) => forward(args, "linear", 0);

/** FusedConv2D: y = act(conv(x, filter) + bias) for linear/relu/relu6/leakyrelu/elu/sigmoid. */
export const fusedConv2D: NativeKernelFunc = (args) =>
  forward(args, args.attrs?.activation, args.attrs?.leakyreluAlpha);

/** Conv2DBackpropInput: dx from dy and the filter. */
export const conv2DBackpropInput: NativeKernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs;
  if (!dy || !filter) return undefined;
  const inputShape = attrs?.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    attrs?.strides as [number, number] | number,
    1,
    attrs?.pad as Pad,
    attrs?.dimRoundingMode as Rounding,
    false,
    dataFormatOf(attrs),
  );
  const shape = convGeometry(info, 1);
  const dyv = f32(backend, dy);
  const wv = f32(backend, filter);
  if (!shape || !dyv || !wv || sizeOf(dy.shape) !== sizeOf(info.outShape)) return undefined;
  return convBackwardData(backend, dyv, wv, inputShape, shape);
};

/** Conv2DBackpropFilter: dw from x and dy. */
export const conv2DBackpropFilter: NativeKernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  if (!x || !dy) return undefined;
  const filterShape = attrs?.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs?.strides as [number, number] | number,
    1,
    attrs?.pad as Pad,
    attrs?.dimRoundingMode as Rounding,
    false,
    dataFormatOf(attrs),
  );
  const shape = convGeometry(info, 1);
  const xv = f32(backend, x);
  const dyv = f32(backend, dy);
  if (!shape || !xv || !dyv || sizeOf(dy.shape) !== sizeOf(info.outShape)) return undefined;
  return convBackwardFilter(backend, xv, dyv, filterShape, shape);
};
