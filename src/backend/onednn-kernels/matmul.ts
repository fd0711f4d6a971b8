/** Native BatchMatMul and _FusedMatMul (bias over the last axis + activation). */
import * as tf from "@tensorflow/tfjs";
import { activationCode, alloc, f32, type NativeKernelFunc, output, sizeOf } from "./util.js";

/** Below this many multiply-adds the cpu kernel runs the product (see matmul()). */
export const MIN_NATIVE_MACS = 1 << 15;

function matmul(
  args: Parameters<NativeKernelFunc>[0],
  activation: unknown,
  leakyreluAlpha: unknown,
): tf.TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { a, b, bias, preluActivationWeights } = inputs;
  if (!a || !b || preluActivationWeights || a.shape.length < 2 || b.shape.length < 2)
    return undefined;
  const act = activationCode(activation);
  if (act === undefined) return undefined;
  const ta = Boolean(attrs?.transposeA);
  const tb = Boolean(attrs?.transposeB);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) return undefined; // the cpu kernel raises tfjs's own error
  // Tiny products (the SE block's FC layers, [64, 16] x [16, 1]) cost 82 µs through a oneDNN
  // primitive and its thread team, 36 µs in the cpu kernel's loop (measured here).
  const batch = Math.max(sizeOf(a.shape.slice(0, -2)), sizeOf(b.shape.slice(0, -2)));
  if (M * N * K * batch < MIN_NATIVE_MACS) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  // oneDNN broadcasts a whole batch of 1, not partial batch dimensions.
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  if (sizeOf(outer) !== Math.max(batchA, batchB)) return undefined;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!av || !bv) return undefined;
  let biasv: Float32Array | null = null;
  if (bias) {
    const v = f32(backend, bias);
    if (!v || v.length !== N || bias.shape[bias.shape.length - 1] !== N) return undefined;
    biasv = v;
  }
  const outShape = [...outer, M, N];
  const c = alloc(sizeOf(outShape));
  backend.addon.matmul(
    av,
    bv,
    biasv,
    c,
    { batchA, batchB, m: M, k: K, n: N, transposeA: Boolean(ta), transposeB: Boolean(tb) },
    act,
    Number(leakyreluAlpha ?? 0.2),
  );
  return output(backend, outShape, c);
}

/** BatchMatMul with transposes and batch broadcasting of 1. */
export const batchMatMul: NativeKernelFunc = (args) => matmul(args, "linear", 0);

/** _FusedMatMul: act(a·b + bias). */
export const fusedMatMul: NativeKernelFunc = (args) =>
  matmul(args, args.attrs?.activation, args.attrs?.leakyreluAlpha);
