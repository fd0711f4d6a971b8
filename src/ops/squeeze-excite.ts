/**
 * The standard Squeeze-and-Excitation block (average squeeze, FC, ReLU, FC, sigmoid, scale) as
 * one op with its own gradient, where the backend registers the SQUEEZE_EXCITE kernels (onednn:
 * two native passes forward and two backward instead of ~30 tfjs kernel calls per block and
 * step). Elsewhere it returns null and the layer runs its tf-ops form, which every variant
 * (max squeeze, other gates, spatial) uses anyway.
 */
import * as tf from "@tensorflow/tfjs";
import { InternalError } from "../errors.js";
import { hasKernel, runKernel } from "./dispatch.js";
import { SQUEEZE_EXCITE, SQUEEZE_EXCITE_GRAD, type SqueezeExciteAttrs } from "./kernel-names.js";

const stats = { native: 0 };

/** How many SE blocks ran as the fused kernel (for tests and profiles). */
export function fusedSqueezeExciteStats(): Readonly<typeof stats> {
  return { ...stats };
}

/**
 * y = x · sigmoid(relu(mean_HW(x)·w1 + b1)·w2 + b2) by the fused kernel, or null when the active
 * backend lacks it or an input is not float32 (the caller then runs the same formula in tf ops).
 * x is [N,H,W,C], w1 [C,Cr], w2 [Cr,C]; differentiable in x, w1, w2, b1 and b2.
 */
export function fusedSqueezeExcite(
  x: tf.Tensor4D,
  w1: tf.Tensor,
  w2: tf.Tensor,
  b1?: tf.Tensor,
  b2?: tf.Tensor,
): tf.Tensor4D | null {
  if (!hasKernel(SQUEEZE_EXCITE)) return null;
  if ([x, w1, w2, b1, b2].some((t) => t !== undefined && t.dtype !== "float32")) return null;
  registerSqueezeExciteGradient();
  const attrs: SqueezeExciteAttrs = { bias1: b1 !== undefined, bias2: b2 !== undefined };
  const inputs: Record<string, tf.Tensor> = { x, w1, w2 };
  if (b1) inputs.b1 = b1;
  if (b2) inputs.b2 = b2;
  const [y, gate, hidden, pooled] = runKernel(SQUEEZE_EXCITE, inputs, attrs);
  tf.dispose([gate!, hidden!, pooled!]); // the tape keeps its own copies for the gradient
  stats.native++;
  return y as tf.Tensor4D;
}

let gradientRegistered = false;

/** The gradient of SQUEEZE_EXCITE (idempotent): its gradient kernel, one call for every input. */
export function registerSqueezeExciteGradient(): void {
  if (gradientRegistered) return;
  tf.registerGradient({
    kernelName: SQUEEZE_EXCITE,
    inputsToSave: ["x", "w1", "w2"],
    outputsToSave: [false, true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, w1, w2, gate, hidden, pooled] = saved as tf.Tensor[];
      const a = attrs as unknown as SqueezeExciteAttrs;
      if (!hasKernel(SQUEEZE_EXCITE_GRAD)) {
        throw new InternalError(
          `${SQUEEZE_EXCITE_GRAD} is not registered on backend ${tf.getBackend()}, which ran ${SQUEEZE_EXCITE}`,
        );
      }
      // All five in one call, now: tfjs calls each input's closure inside its own tidy.
      const [dx, dw1, dw2, db1, db2] = runKernel(
        SQUEEZE_EXCITE_GRAD,
        { dy, x: x!, w1: w1!, w2: w2!, gate: gate!, hidden: hidden!, pooled: pooled! },
        a,
      );
      const grads: Record<string, () => tf.Tensor> = {
        x: () => dx!,
        w1: () => dw1!,
        w2: () => dw2!,
      };
      if (a.bias1) grads.b1 = () => db1!;
      else db1?.dispose();
      if (a.bias2) grads.b2 = () => db2!;
      else db2?.dispose();
      return grads;
    },
  });
  gradientRegistered = true;
}
