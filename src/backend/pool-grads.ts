/**
 * Max-pool gradient built from elementwise ops (issue #5, item 4). tfjs-backend-wasm 4.22's
 * MaxPoolGrad routes the gradient to wrong positions whenever the input has more than one
 * channel (checked against a brute-force reference and the cpu backend), so the wasm backend
 * gets this one. Per window tap: the first tap whose value equals the window's max receives dy
 * (ties go to the first, as in the cpu backend), scattered back by dilation and padding.
 */
import * as tf from "@tensorflow/tfjs";
import { dilateSpatial, padOrCrop } from "./conv-grads.js";

/** Attributes of MaxPoolGrad (tfjs kernel contract). */
export interface MaxPoolGradArgs {
  /** Window size. */
  filterSize: [number, number] | number;
  /** Window strides. */
  strides: [number, number] | number;
  /** Padding of the forward pool. */
  pad: "valid" | "same" | number;
  /** Output-size rounding for numeric padding. */
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** dL/dx of max pooling, given the forward input, its pooled output and dy. */
export function maxPoolGrad(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  args: MaxPoolGradArgs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computePool2DInfo(
      x.shape,
      args.filterSize,
      args.strides,
      1,
      args.pad,
      args.dimRoundingMode,
    );
    const [n, h, w, c] = x.shape;
    const { top, bottom, left, right } = info.padInfo;
    const sh = info.strideHeight;
    const sw = info.strideWidth;
    const oh = info.outHeight;
    const ow = info.outWidth;
    const xp =
      top || bottom || left || right
        ? tf.pad(
            x,
            [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ],
            Number.NEGATIVE_INFINITY,
          )
        : x;
    let remaining: tf.Tensor = tf.onesLike(y);
    let dx: tf.Tensor4D | undefined;
    for (let i = 0; i < info.filterHeight; i++) {
      for (let j = 0; j < info.filterWidth; j++) {
        const win = tf.stridedSlice(
          xp,
          [0, i, j, 0],
          [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c],
          [1, sh, sw, 1],
        );
        const hit = tf.mul(tf.cast(tf.equal(win, y), "float32"), remaining);
        remaining = tf.sub(remaining, hit);
        const part = dilateSpatial(tf.mul(hit, dy) as tf.Tensor4D, sh, sw);
        // Place tap (i, j)'s contributions at padded row i + a·s, i.e. unpadded row i − top + a·s.
        const placed = padOrCrop(
          part,
          i - top,
          h - (i - top) - oh * sh,
          j - left,
          w - (j - left) - ow * sw,
        );
        dx = dx ? tf.add<tf.Tensor4D>(dx, placed) : placed;
      }
    }
    return dx ?? tf.zerosLike(x);
  });
}
