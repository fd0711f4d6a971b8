/**
 * The gradient of StridedSlice, which tfjs 4.22 does not define ("gradient function not found
 * for StridedSlice"), so any model that subsamples with tf.stridedSlice (the option-A shortcut
 * x[:, ::2, ::2, :]) cannot train on any backend. dx is dy scattered back: each axis dilated by
 * its stride (zeros in between), then padded to the input's extent at the slice's start.
 * Backend-independent (gradients are not per backend); registering twice is harmless.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";

/** Inserts (stride − 1) zeros after each element along `axis`. */
function dilateAxis(t: tf.Tensor, axis: number, stride: number): tf.Tensor {
  if (stride === 1) return t;
  const shape = t.shape;
  const expanded = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
  const pads: [number, number][] = expanded.map(() => [0, 0]);
  pads[axis + 1] = [0, stride - 1];
  const padded = tf.pad(tf.reshape(t, expanded), pads);
  const merged = [...shape];
  merged[axis] = shape[axis]! * stride;
  return tf.reshape(padded, merged);
}

/** dL/dx of tf.stridedSlice for positive strides without ellipsis or new-axis masks. */
export function stridedSliceGrad(
  dy: tf.Tensor,
  xShape: number[],
  attrs: {
    begin: number[];
    end: number[];
    strides: number[];
    beginMask?: number;
    endMask?: number;
    ellipsisMask?: number;
    newAxisMask?: number;
    shrinkAxisMask?: number;
  },
): tf.Tensor {
  if (attrs.ellipsisMask || attrs.newAxisMask) {
    throw new ConfigError(
      `StridedSlice gradient: ellipsisMask and newAxisMask must be 0; got ellipsisMask=${attrs.ellipsisMask}, newAxisMask=${attrs.newAxisMask}`,
    );
  }
  const info = tf.slice_util.sliceInfo(
    xShape,
    attrs.begin,
    attrs.end,
    attrs.strides,
    attrs.beginMask ?? 0,
    attrs.endMask ?? 0,
    0,
    0,
    attrs.shrinkAxisMask ?? 0,
  );
  if (info.strides.some((s) => s <= 0)) {
    throw new ConfigError(
      `StridedSlice gradient: strides must be positive; got ${quote(info.strides)}`,
    );
  }
  return tf.tidy(() => {
    let g: tf.Tensor = tf.reshape(dy, info.finalShapeSparse);
    const pads: [number, number][] = [];
    const crop: { begin: number[]; size: number[] } = { begin: [], size: [] };
    for (let axis = 0; axis < xShape.length; axis++) {
      const s = info.strides[axis]!;
      g = dilateAxis(g, axis, s);
      const start = info.begin[axis]!;
      const after = xShape[axis]! - start - g.shape[axis]!;
      pads.push([start, Math.max(0, after)]);
      crop.begin.push(0);
      crop.size.push(xShape[axis]!);
    }
    const padded = tf.pad(g, pads);
    // Trailing dilation zeros may run past the input's end: cut back to its shape.
    return padded.shape.every((d, i) => d === xShape[i])
      ? padded
      : tf.slice(padded, crop.begin, crop.size);
  });
}

/** Registers the StridedSlice gradient with tfjs (idempotent). */
export function registerStridedSliceGradient(): void {
  if (tf.getGradient("StridedSlice")) return;
  tf.registerGradient({
    kernelName: "StridedSlice",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as tf.Tensor[];
      return {
        x: () =>
          stridedSliceGrad(
            dy as tf.Tensor,
            x!.shape,
            attrs as unknown as Parameters<typeof stridedSliceGrad>[2],
          ),
      };
    },
  });
}
