/**
 * The tfjs kernels one call invokes, by name, from tf.profile: shared by the bench's kernel
 * counts and scripts/profile-step.ts, so both count the same way.
 */
import * as tf from "@tensorflow/tfjs";

/** One kernel name's invocations in a profiled call and their summed kernel milliseconds. */
export interface KernelProfileEntry {
  /** Invocations. */
  calls: number;
  /** Summed kernel wall time (tfjs's kernelTimeMs; synchronous on the cpu-storage backends). */
  ms: number;
}

/**
 * Profiles one call of `run`: calls and milliseconds per kernel name. The entries of
 * tf.customGrad scopes (named "…__op", e.g. fusedConv2d__op) are left out: they are not kernels
 * but wrappers whose kernels are listed themselves.
 */
export async function profileKernels(
  run: () => Promise<unknown>,
): Promise<Map<string, KernelProfileEntry>> {
  const info = await tf.profile(async () => {
    await run();
  });
  const out = new Map<string, KernelProfileEntry>();
  for (const k of info.kernels) {
    if (k.name.endsWith("__op")) continue;
    const e = out.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    out.set(k.name, e);
  }
  return out;
}
