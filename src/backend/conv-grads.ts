/**
 * Convolution gradients built from fast forward ops (issue #5, item 4).
 *
 * The wasm backend has fast Conv2D, DepthwiseConv2dNative and BatchMatMul kernels (XNNPACK and a
 * blocked GEMM) but no Conv2DBackpropFilter or depthwise gradients, and the cpu backend's
 * Conv2DBackpropFilter is a cache-hostile loop nest. Here each gradient is rewritten in terms of
 * the forward kernels of whatever backend is active:
 *
 * - dW of a conv: a forward convolution whose batch is the input channels, whose channels are the
 *   batch, and whose filter is dy (dilated by the stride). Measured on ResNet-20 shapes, this beats
 *   im2col + matMul on both backends: their concat and transposed matMul are slow.
 * - dX of a conv: the transposed convolution equals a stride-1 convolution of dy, dilated by the
 *   stride (zeros between rows/columns), with the spatially flipped filter whose in/out channels
 *   are swapped, padded so that the output lines up with the unpadded input.
 * - depthwise dW: per tap, a strided window times dy summed over batch and space.
 * - depthwise dX: as for conv, with a depthwise convolution (channel multiplier > 1 is unfolded
 *   into C·M channels and summed back).
 *
 * Every function runs tfjs ops on the active backend and is called from inside a kernel, so the
 * ops are neither taped nor profiled separately; all intermediates are disposed by `tf.tidy`.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError } from "../errors.js";
import type { Pad, Rounding } from "./conv-attrs.js";

/** The padded geometry of one 2-D convolution, as tfjs computes it for the forward op. */
interface Geometry {
  /** Batch, input height/width, input channels. */
  n: number;
  h: number;
  w: number;
  ci: number;
  /** Filter height/width. */
  kh: number;
  kw: number;
  /** Output height/width and channels (C·M for depthwise). */
  oh: number;
  ow: number;
  co: number;
  /** Strides and dilations. */
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** Padding added before/after the input rows and columns. */
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function geometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  dilations: [number, number] | number,
  pad: Pad,
  rounding: Rounding,
  depthwise: boolean,
): Geometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    dilations,
    pad as never,
    rounding,
    depthwise,
    "channelsLast",
  );
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    top: info.padInfo.top,
    bottom: info.padInfo.bottom,
    left: info.padInfo.left,
    right: info.padInfo.right,
  };
}

/** Pads (positive amounts) and crops (negative amounts) rows and columns of an NHWC tensor. */
export function padOrCrop(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
) {
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = y.shape;
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    y = tf.slice(
      y,
      [0, t, l, 0],
      [n, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c],
    );
  }
  const pt = Math.max(0, top);
  const pb = Math.max(0, bottom);
  const pl = Math.max(0, left);
  const pr = Math.max(0, right);
  if (pt || pb || pl || pr) {
    y = tf.pad(y, [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ]);
  }
  return y;
}

/** The window of the padded input that filter tap (i, j) multiplies, flattened to rows × channels. */
function tapWindow(xp: tf.Tensor4D, g: Geometry, i: number, j: number): tf.Tensor4D {
  const c = xp.shape[3];
  const r0 = i * g.dh;
  const c0 = j * g.dw;
  const rows = (g.oh - 1) * g.sh + 1;
  const cols = (g.ow - 1) * g.sw + 1;
  if (g.sh === 1 && g.sw === 1) {
    if (r0 === 0 && c0 === 0 && rows === xp.shape[1] && cols === xp.shape[2]) return xp;
    return tf.slice(xp, [0, r0, c0, 0], [g.n, rows, cols, c]);
  }
  return tf.stridedSlice(
    xp,
    [0, r0, c0, 0],
    [g.n, r0 + rows, c0 + cols, c],
    [1, g.sh, g.sw, 1],
  ) as tf.Tensor4D;
}

/** Inserts (rate − 1) zeros after every row (axis 1) and column (axis 2) of an NHWC tensor. */
export function dilateSpatial(x: tf.Tensor4D, rh: number, rw: number): tf.Tensor4D {
  if (rh === 1 && rw === 1) return x;
  const [n, h, w, c] = x.shape;
  const x6 = tf.reshape(x, [n, h, 1, w, 1, c]);
  const padded = tf.pad(x6, [
    [0, 0],
    [0, 0],
    [0, rh - 1],
    [0, 0],
    [0, rw - 1],
    [0, 0],
  ]);
  return tf.reshape(padded, [n, h * rh, w * rw, c]);
}

/**
 * tfjs's own gradient functions refuse dilated convolutions, so no caller passes dilations > 1;
 * the formulas here are only verified without dilation and refuse it the same way.
 */
function noDilation(g: Geometry, kernel: string): void {
  if (g.dh !== 1 || g.dw !== 1) {
    throw new ConfigError(
      `${kernel}: dilations must be 1 in gradients (as in tfjs); got [${g.dh}, ${g.dw}]`,
    );
  }
}

/** Moves an NCHW tensor to NHWC. */
function toNhwc(t: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(t, [0, 2, 3, 1]);
}

/** Attributes of Conv2DBackpropFilter (tfjs kernel contract). */
export interface ConvFilterGradArgs {
  /** Forward strides. */
  strides: [number, number] | number;
  /** Forward padding. */
  pad: Pad;
  /** Forward data format; NCHW inputs are transposed to NHWC. */
  dataFormat?: "NHWC" | "NCHW";
  /** Forward output-size rounding for numeric padding. */
  dimRoundingMode?: Rounding;
  /** [kh, kw, ci, co] of the filter. */
  filterShape: [number, number, number, number];
}

/** dL/dW of a 2-D convolution, as one forward convolution (transposed input, dy as filter). */
export function conv2dFilterGrad(
  xIn: tf.Tensor4D,
  dyIn: tf.Tensor4D,
  args: ConvFilterGradArgs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const nchw = args.dataFormat === "NCHW";
    const x = nchw ? toNhwc(xIn) : xIn;
    const dy = nchw ? toNhwc(dyIn) : dyIn;
    const g = geometry(
      x.shape,
      args.filterShape,
      args.strides,
      1,
      args.pad,
      args.dimRoundingMode,
      false,
    );
    if (g.kh === 1 && g.kw === 1 && g.top === 0 && g.left === 0) {
      // 1×1 without padding: dW = windowᵀ·dy. An explicit transpose and a plain matMul measured
      // 2–7× faster than matMul(transposeA) on wasm.
      const win = tf.reshape(tapWindow(x, g, 0, 0), [-1, g.ci]);
      const dy2 = tf.reshape(dy, [-1, g.co]);
      return tf.reshape(tf.matMul(tf.transpose(win), dy2), args.filterShape);
    }
    // dW[i, j, c, o] = sum over n, a, b of xpad[n, a·s + i, b·s + j, c] · dy[n, a, b, o]:
    // a convolution over (a, b) with batch c, channels n, filter dy and dilation s.
    const xt = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [ci, h, w, n]
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, n, co]
    // Rows needed: kh outputs of a window spanning (oh − 1)·s + 1 rows.
    const bottom = g.kh - 1 + (g.oh - 1) * g.sh + 1 - g.h - g.top;
    const right = g.kw - 1 + (g.ow - 1) * g.sw + 1 - g.w - g.left;
    const xpt = padOrCrop(xt, g.top, bottom, g.left, right);
    const out = tf.conv2d(xpt, dyt, 1, "valid", "NHWC", [g.sh, g.sw]); // [ci, kh, kw, co]
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** Attributes of Conv2DBackpropInput (tfjs kernel contract). */
export interface ConvInputGradArgs {
  /** Forward strides. */
  strides: [number, number] | number;
  /** Forward padding. */
  pad: Pad;
  /** Forward data format; NCHW tensors are transposed to NHWC and back. */
  dataFormat?: "NHWC" | "NCHW";
  /** Forward output-size rounding for numeric padding. */
  dimRoundingMode?: Rounding;
  /** Shape of the forward input x, in dataFormat. */
  inputShape: [number, number, number, number];
}

/**
 * Stride-1 convolution of the stride-dilated dy that yields dL/dx of the forward conv. Shared by
 * conv and depthwise: `conv` does the convolution with the prepared (flipped) filter.
 */
function transposedAsConv(
  dy: tf.Tensor4D,
  g: Geometry,
  conv: (
    dyd: tf.Tensor4D,
    pad: [[0, 0], [number, number], [number, number], [0, 0]],
  ) => tf.Tensor4D,
): tf.Tensor4D {
  // Keep the trailing zeros that dilation adds: they stand for the padded input rows that the
  // last window does not reach, and the bottom/right padding below is reduced accordingly.
  const dyd = dilateSpatial(dy, g.sh, g.sw);
  const khEff = (g.kh - 1) * g.dh + 1;
  const kwEff = (g.kw - 1) * g.dw + 1;
  const top = khEff - 1 - g.top;
  const left = kwEff - 1 - g.left;
  const bottom = g.h + g.top - dyd.shape[1];
  const right = g.w + g.left - dyd.shape[2];
  // Negative amounts crop dy; positive ones become the convolution's explicit padding.
  const cropped = padOrCrop(
    dyd,
    Math.min(0, top),
    Math.min(0, bottom),
    Math.min(0, left),
    Math.min(0, right),
  );
  return conv(cropped, [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ]);
}

/** dL/dx of a 2-D convolution, as one stride-1 forward convolution. */
export function conv2dInputGrad(
  dyIn: tf.Tensor4D,
  filter: tf.Tensor4D,
  args: ConvInputGradArgs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const nchw = args.dataFormat === "NCHW";
    const dy = nchw ? toNhwc(dyIn) : dyIn;
    const [n, a, b, c] = args.inputShape;
    const xShape: [number, number, number, number] = nchw ? [n, b, c, a] : [n, a, b, c];
    const g = geometry(
      xShape,
      filter.shape,
      args.strides,
      1,
      args.pad,
      args.dimRoundingMode,
      false,
    );
    // [kh, kw, ci, co] -> flipped spatially, [kh, kw, co, ci]
    const wt = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const dx = transposedAsConv(dy, g, (dyd, pad) => tf.conv2d(dyd, wt, 1, pad));
    return nchw ? (tf.transpose(dx, [0, 3, 1, 2]) as tf.Tensor4D) : dx;
  });
}

/** Attributes of DepthwiseConv2dNativeBackpropFilter (tfjs kernel contract). */
export interface DepthwiseFilterGradArgs {
  /** Forward strides. */
  strides: [number, number] | number;
  /** Forward dilations. */
  dilations: [number, number] | number;
  /** Forward padding. */
  pad: Pad;
  /** Forward output-size rounding for numeric padding. */
  dimRoundingMode?: Rounding;
  /** [kh, kw, c, multiplier] of the filter. */
  filterShape: [number, number, number, number];
}

/** dL/dW of a depthwise convolution: per tap, window × dy summed over batch and space. */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  args: DepthwiseFilterGradArgs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(
      x.shape,
      args.filterShape,
      args.strides,
      args.dilations,
      args.pad,
      args.dimRoundingMode,
      true,
    );
    noDilation(g, "DepthwiseConv2dNativeBackpropFilter");
    const m = args.filterShape[3];
    const rows = g.n * g.oh * g.ow;
    const dy3 = tf.reshape(dy, [rows, g.ci, m]);
    const xp = padOrCrop(x, g.top, g.bottom, g.left, g.right);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const win = tf.reshape(tapWindow(xp, g, i, j), [rows, g.ci, 1]);
        taps.push(tf.sum(tf.mul(win, dy3), 0));
      }
    }
    return tf.reshape(tf.stack(taps), args.filterShape);
  });
}

/** Attributes of DepthwiseConv2dNativeBackpropInput (tfjs kernel contract). */
export interface DepthwiseInputGradArgs {
  /** Forward strides. */
  strides: [number, number] | number;
  /** Forward dilations. */
  dilations: [number, number] | number;
  /** Forward padding. */
  pad: Pad;
  /** Forward output-size rounding for numeric padding. */
  dimRoundingMode?: Rounding;
  /** Shape of the forward input x (NHWC). */
  inputShape: [number, number, number, number];
}

/** dL/dx of a depthwise convolution, as one stride-1 depthwise convolution of the dilated dy. */
export function depthwiseInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  args: DepthwiseInputGradArgs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(
      args.inputShape,
      filter.shape,
      args.strides,
      args.dilations,
      args.pad,
      args.dimRoundingMode,
      true,
    );
    noDilation(g, "DepthwiseConv2dNativeBackpropInput");
    const [kh, kw, c, m] = filter.shape;
    const flipped = tf.reverse(filter, [0, 1]) as tf.Tensor4D;
    const wt: tf.Tensor4D = m === 1 ? flipped : tf.reshape(flipped, [kh, kw, c * m, 1]);
    const dil: [number, number] = [g.dh, g.dw];
    const out = transposedAsConv(dy, g, (dyd, pad) =>
      tf.depthwiseConv2d(dyd, wt, 1, pad, "NHWC", dil),
    );
    if (m === 1) return out;
    const [n, h, w] = out.shape;
    return tf.sum(tf.reshape(out, [n, h, w, c, m]), 4) as tf.Tensor4D;
  });
}
