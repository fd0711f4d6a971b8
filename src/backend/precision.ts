/**
 * The arithmetic of the onednn backend's convolutions: fp32, or bf16 mixed precision as
 * PyTorch's `torch.autocast("cpu", dtype=torch.bfloat16)` does it for convolutions. In bf16 the
 * addon rounds a convolution's inputs (activations, filters, output gradients) to bfloat16 and
 * multiplies them at the CPU's AVX512-BF16 rate; outputs, filter and input gradients, batch
 * norm, reductions, the loss and the weights the optimiser updates (the master copy) stay fp32.
 * Everything else (elementwise ops, pooling, matmul) runs in fp32 as before.
 */
import fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { activeOnednnBackend, ONEDNN_BACKEND } from "./onednn-backend.js";
import { convPrecisionCode, setConvPrecisionCode } from "./onednn-kernels/util.js";

/** The precisions a run may ask for. */
export const PRECISIONS = ["fp32", "bf16"] as const;
/** A precision: "fp32", or "bf16" (bf16 convolutions, fp32 everything else). */
export type Precision = (typeof PRECISIONS)[number];

/** Whether bf16 runs here, and if not, why (for an error a user can act on). */
export interface Bf16Support {
  /** True when bf16 convolutions run natively on this CPU through the onednn backend. */
  supported: boolean;
  /** Why not (empty when supported). */
  reason: string;
  /** oneDNN's implementation of a small bf16 convolution, e.g. "brgconv:avx512_core_bf16". */
  impl: string | null;
}

/** The CPU flags that give native bf16 multiplies (AVX512-BF16, or AMX on Sapphire Rapids). */
const BF16_FLAGS = ["avx512_bf16", "amx_bf16"];

/** The CPU's feature flags from /proc/cpuinfo (null where there is none: not Linux). */
function cpuFlags(): Set<string> | null {
  try {
    const text = fs.readFileSync("/proc/cpuinfo", "utf8");
    const line = text.split("\n").find((l) => l.startsWith("flags"));
    return line ? new Set(line.split(":")[1]!.trim().split(/\s+/)) : null;
  } catch {
    return null;
  }
}

let probed: Bf16Support | undefined;

/**
 * Whether bf16 convolutions run natively here: the onednn backend must be active, the CPU must
 * have AVX512-BF16 or AMX-BF16 (oneDNN would otherwise emulate bf16, slower than fp32), and
 * oneDNN must pick a JIT bf16 kernel for a small convolution (not its reference code).
 */
export function bf16Support(): Bf16Support {
  const backend = activeOnednnBackend();
  if (!backend) {
    return {
      supported: false,
      reason: `bf16 needs the ${ONEDNN_BACKEND} backend (its native convolutions); the active backend is ${quote(tf.getBackend())}`,
      impl: null,
    };
  }
  if (probed) return probed;
  const flags = cpuFlags();
  const has = BF16_FLAGS.filter((f) => flags?.has(f));
  if (has.length === 0) {
    probed = {
      supported: false,
      reason: `this CPU has no bf16 instructions (${flags ? `/proc/cpuinfo lists neither ${BF16_FLAGS.join(" nor ")}` : "/proc/cpuinfo is unreadable"}); bf16 would be emulated and slower than fp32`,
      impl: null,
    };
    return probed;
  }
  // One 3×3 convolution of 16 channels on 8×8, through the addon at precision 1.
  const g = {
    batch: 1,
    inHeight: 8,
    inWidth: 8,
    inChannels: 16,
    filterHeight: 3,
    filterWidth: 3,
    outChannels: 16,
    outHeight: 8,
    outWidth: 8,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 1,
    padLeft: 1,
    padBottom: 1,
    padRight: 1,
    groups: 1,
  };
  let impl: string;
  try {
    impl = backend.addon.conv2dForward(
      new Float32Array(8 * 8 * 16),
      new Float32Array(9 * 16 * 16),
      null,
      new Float32Array(8 * 8 * 16),
      g,
      0,
      0,
      0,
      1,
    );
  } catch (err) {
    probed = {
      supported: false,
      reason: `oneDNN refused a bf16 convolution: ${err instanceof Error ? err.message : String(err)}`,
      impl: null,
    };
    return probed;
  }
  probed = impl.includes("bf16")
    ? { supported: true, reason: "", impl }
    : {
        supported: false,
        reason: `oneDNN has no native bf16 convolution for this CPU (it chose ${quote(impl)})`,
        impl,
      };
  return probed;
}

/** The precision the onednn backend's convolutions run at now. */
export function getPrecision(): Precision {
  return convPrecisionCode() === 1 ? "bf16" : "fp32";
}

/**
 * Errors (ConfigError) unless `precision` is one of PRECISIONS and runs here: bf16 needs the
 * onednn backend active and a CPU with bf16 instructions, and the message says which is missing.
 */
export function checkPrecision(precision: unknown): Precision {
  if (!(PRECISIONS as readonly unknown[]).includes(precision)) {
    throw new ConfigError(
      `precision must be one of ${PRECISIONS.map((p) => quote(p)).join(", ")}; got ${quote(precision)}`,
    );
  }
  if (precision === "bf16") {
    const s = bf16Support();
    if (!s.supported) {
      throw new ConfigError(`precision "bf16" cannot run here: ${s.reason}; use precision "fp32"`);
    }
  }
  return precision as Precision;
}

/**
 * Sets the precision of the onednn backend's convolutions (after checkPrecision) and returns
 * the previous one, so a caller can restore it. fp32 is always accepted, on any backend.
 */
export function setPrecision(precision: Precision): Precision {
  const previous = getPrecision();
  setConvPrecisionCode(checkPrecision(precision) === "bf16" ? 1 : 0);
  return previous;
}
