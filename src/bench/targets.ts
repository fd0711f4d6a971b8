/**
 * The tfjs targets the bench can run, apart from the plan so the options' schema can list them
 * without importing the plan (which reads the options' type).
 */
import { AUTO_ORDER, type BackendName } from "../backend/index.js";

/**
 * The onednn backend with bf16 mixed precision (setPrecision("bf16"): bf16 convolutions, fp32
 * everything else): a tfjs target of its own, so mixed precision is compared with PyTorch's.
 */
export const ONEDNN_BF16 = "onednn-bf16";

/** A tfjs target the bench can run: a backend at fp32, or onednn at bf16 mixed precision. */
export type BenchBackend = BackendName | typeof ONEDNN_BF16;

/** Every tfjs target `backends` accepts: the loadable backends and onednn-bf16 after onednn. */
export const BENCH_BACKENDS: readonly BenchBackend[] = AUTO_ORDER.flatMap((b) =>
  b === "onednn" ? [b, ONEDNN_BF16] : [b],
);

/** The backend a tfjs target's process loads (onednn-bf16 is onednn at another precision). */
export function backendOf(target: BenchBackend): BackendName {
  return target === ONEDNN_BF16 ? "onednn" : target;
}
