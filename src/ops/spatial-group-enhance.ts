/**
 * Spatial Group-wise Enhance as one op with its own gradient where the backend registers the
 * SPATIAL_GROUP_ENHANCE kernels (onednn: three native passes forward and three backward instead
 * of ~90 tfjs kernel calls per block and step). Elsewhere it returns null and the layer runs its
 * tf-ops form.
 */
import * as tf from "@tensorflow/tfjs";
import { InternalError } from "../errors.js";
import { hasKernel, runKernel } from "./dispatch.js";
import {
  SPATIAL_GROUP_ENHANCE,
  SPATIAL_GROUP_ENHANCE_GRAD,
  type SpatialGroupEnhanceAttrs,
} from "./kernel-names.js";

const stats = { native: 0 };

/** How many SGE blocks ran as the fused kernel (for tests and profiles). */
export function fusedSpatialGroupEnhanceStats(): Readonly<typeof stats> {
  return { ...stats };
}

/**
 * y = x · sigmoid(γ·t/(σ + ε) + β) (the SGE gate of each group, broadcast over its channels) by
 * the fused kernel, or null when the active backend lacks it or an input is not float32.
 * x is [N,H,W,C] with G dividing C and H·W >= 2; differentiable in x, gamma and beta.
 */
export function fusedSpatialGroupEnhance(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groups: number,
  epsilon: number,
): tf.Tensor4D | null {
  if (!hasKernel(SPATIAL_GROUP_ENHANCE)) return null;
  if ([x, gamma, beta].some((t) => t.dtype !== "float32")) return null;
  registerSpatialGroupEnhanceGradient();
  const attrs: SpatialGroupEnhanceAttrs = { groups, epsilon };
  const [y, ...kept] = runKernel(SPATIAL_GROUP_ENHANCE, { x, gamma, beta }, attrs);
  tf.dispose(kept); // the tape keeps its own copies for the gradient
  stats.native++;
  return y as tf.Tensor4D;
}

let gradientRegistered = false;

/** The gradient of SPATIAL_GROUP_ENHANCE (idempotent): its gradient kernel, one call. */
export function registerSpatialGroupEnhanceGradient(): void {
  if (gradientRegistered) return;
  tf.registerGradient({
    kernelName: SPATIAL_GROUP_ENHANCE,
    inputsToSave: ["x", "gamma"],
    outputsToSave: [false, true, true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, gate, t, avg, sigma] = saved as tf.Tensor[];
      if (!hasKernel(SPATIAL_GROUP_ENHANCE_GRAD)) {
        throw new InternalError(
          `${SPATIAL_GROUP_ENHANCE_GRAD} is not registered on backend ${tf.getBackend()}, which ran ${SPATIAL_GROUP_ENHANCE}`,
        );
      }
      // All three in one call, now: tfjs calls each input's closure inside its own tidy.
      const [dx, dgamma, dbeta] = runKernel(
        SPATIAL_GROUP_ENHANCE_GRAD,
        { dy, x: x!, gamma: gamma!, gate: gate!, t: t!, avg: avg!, sigma: sigma! },
        attrs as unknown as SpatialGroupEnhanceAttrs,
      );
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  gradientRegistered = true;
}
