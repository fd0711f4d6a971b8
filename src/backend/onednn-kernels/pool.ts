/**
 * Native MaxPool, AvgPool and their gradients. Average pooling excludes padded cells in both
 * directions; tfjs's cpu AvgPoolGrad divides by the full window instead, which is not the
 * gradient of its own forward at padded borders, so the two differ there (SAME padding).
 */
import * as tf from "@tensorflow/tfjs";
import type { Pad, Rounding } from "../conv-attrs.js";
import { alloc, convGeometry, f32, type NativeKernelFunc, output, sizeOf } from "./util.js";

type Shape4 = [number, number, number, number];

function poolInfo(xShape: Shape4, attrs: Record<string, unknown> | undefined) {
  return tf.backend_util.computePool2DInfo(
    xShape,
    attrs?.filterSize as [number, number] | number,
    attrs?.strides as [number, number] | number,
    1,
    attrs?.pad as Pad,
    attrs?.dimRoundingMode as Rounding,
  );
}

function forward(isMax: boolean): NativeKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    if (x?.shape.length !== 4) return undefined;
    const info = poolInfo(x.shape as Shape4, attrs);
    const shape = convGeometry(info, 1, true);
    const xv = f32(backend, x);
    if (!shape || !xv) return undefined;
    const y = alloc(sizeOf(info.outShape));
    backend.addon.pool2dForward(xv, y, shape, isMax);
    return output(backend, info.outShape, y);
  };
}

function backward(isMax: boolean): NativeKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs;
    if (!dy || !input || input.shape.length !== 4) return undefined;
    const info = poolInfo(input.shape as Shape4, attrs);
    const shape = convGeometry(info, 1, true);
    const dyv = f32(backend, dy);
    const xv = isMax ? f32(backend, input) : null;
    if (!shape || !dyv || xv === undefined || sizeOf(dy.shape) !== sizeOf(info.outShape)) {
      return undefined;
    }
    const dx = alloc(sizeOf(input.shape));
    backend.addon.pool2dBackward(dyv, xv, dx, shape, isMax);
    return output(backend, input.shape, dx);
  };
}

/** MaxPool. */
export const maxPool = forward(true);
/** AvgPool (padding excluded from the average, as tfjs does). */
export const avgPool = forward(false);
/** MaxPoolGrad (recomputes the argmax natively from the input). */
export const maxPoolGrad = backward(true);
/** AvgPoolGrad (padding excluded, the true gradient of AvgPool). */
export const avgPoolGrad = backward(false);
