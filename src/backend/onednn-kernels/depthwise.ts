/**
 * Native depthwise convolution (tfjs filters [KH, KW, C, multiplier], run as a oneDNN grouped
 * convolution with C groups) and its gradients, plus FusedDepthwiseConv2D.
 */
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

type Shape4 = [number, number, number, number];

function depthwiseInfo(
  xShape: Shape4,
  filterShape: Shape4,
  attrs: Record<string, unknown> | undefined,
) {
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs?.strides as [number, number] | number,
    (attrs?.dilations as [number, number] | number) ?? 1,
    attrs?.pad as Pad,
    attrs?.dimRoundingMode as Rounding,
    true,
  );
}

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
  const info = depthwiseInfo(x.shape as Shape4, filter.shape as Shape4, attrs);
  const shape = convGeometry(info, info.inChannels);
  return convForward(backend, info, shape, x, filter, bias, act, leakyreluAlpha);
}

/** DepthwiseConv2dNative. */
export const depthwiseConv2dNative: NativeKernelFunc = (args) => forward(args, "linear", 0);

/** FusedDepthwiseConv2D: act(depthwise(x) + bias). */
export const fusedDepthwiseConv2D: NativeKernelFunc = (args) =>
  forward(args, args.attrs?.activation, args.attrs?.leakyreluAlpha);

/** DepthwiseConv2dNativeBackpropInput: dx from dy and the filter. */
export const depthwiseConv2dNativeBackpropInput: NativeKernelFunc = ({
  inputs,
  backend,
  attrs,
}) => {
  const { dy, filter } = inputs;
  if (!dy || !filter) return undefined;
  const inputShape = attrs?.inputShape as Shape4;
  const info = depthwiseInfo(inputShape, filter.shape as Shape4, attrs);
  const shape = convGeometry(info, info.inChannels);
  const dyv = f32(backend, dy);
  const wv = f32(backend, filter);
  if (!shape || !dyv || !wv || sizeOf(dy.shape) !== sizeOf(info.outShape)) return undefined;
  return convBackwardData(backend, dyv, wv, inputShape, shape);
};

/** DepthwiseConv2dNativeBackpropFilter: dw from x and dy. */
export const depthwiseConv2dNativeBackpropFilter: NativeKernelFunc = ({
  inputs,
  backend,
  attrs,
}) => {
  const { x, dy } = inputs;
  if (!x || !dy) return undefined;
  const filterShape = attrs?.filterShape as Shape4;
  const info = depthwiseInfo(x.shape as Shape4, filterShape, attrs);
  const shape = convGeometry(info, info.inChannels);
  const xv = f32(backend, x);
  const dyv = f32(backend, dy);
  if (!shape || !xv || !dyv || sizeOf(dy.shape) !== sizeOf(info.outShape)) return undefined;
  return convBackwardFilter(backend, xv, dyv, filterShape, shape);
};
