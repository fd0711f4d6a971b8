/** Running one of our kernels through tfjs's registry, when the active backend has it. */
import * as tf from "@tensorflow/tfjs";

/** Whether the active backend registered kernel `name` (otherwise the op's tf-ops form runs). */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Runs kernel `name` on the active backend; its outputs as a list. */
export function runKernel(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: object,
): tf.Tensor[] {
  const out = tf
    .engine()
    .runKernel(name, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
}
