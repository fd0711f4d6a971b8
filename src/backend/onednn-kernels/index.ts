/** The native kernels of the onednn backend, by tfjs kernel name (one lookup table). */
import { fusedBatchNorm } from "./batchnorm.js";
import { conv2D, conv2DBackpropFilter, conv2DBackpropInput, fusedConv2D } from "./conv.js";
import {
  depthwiseConv2dNative,
  depthwiseConv2dNativeBackpropFilter,
  depthwiseConv2dNativeBackpropInput,
  fusedDepthwiseConv2D,
} from "./depthwise.js";
import {
  add,
  exp,
  max,
  maximum,
  mean,
  min,
  minimum,
  multiply,
  padV2,
  realDiv,
  relu,
  sigmoid,
  slice,
  square,
  step,
  stridedSlice,
  sub,
  sum,
  tanh,
} from "./elementwise.js";
import { batchMatMul, fusedMatMul } from "./matmul.js";
import { avgPool, avgPoolGrad, maxPool, maxPoolGrad } from "./pool.js";
import type { NativeKernelFunc } from "./util.js";

export type { NativeBackend, NativeKernelFunc } from "./util.js";

/** tfjs kernel name -> native implementation; the rest reuse the cpu backend's kernels. */
export const NATIVE_KERNELS: Readonly<Record<string, NativeKernelFunc>> = {
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNative: depthwiseConv2dNative,
  FusedDepthwiseConv2D: fusedDepthwiseConv2D,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilter,
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  MaxPool: maxPool,
  AvgPool: avgPool,
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  Add: add,
  Sub: sub,
  Multiply: multiply,
  RealDiv: realDiv,
  Maximum: maximum,
  Minimum: minimum,
  Relu: relu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Exp: exp,
  Square: square,
  Step: step,
  Sum: sum,
  Mean: mean,
  Max: max,
  Min: min,
  Slice: slice,
  PadV2: padV2,
  StridedSlice: stridedSlice,
  FusedBatchNorm: fusedBatchNorm,
};
