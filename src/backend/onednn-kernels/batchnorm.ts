/**
 * Inference batch norm (tfjs's FusedBatchNorm kernel, what BatchNormalization layers run
 * outside training): the moving statistics fold into one scale and shift per channel in JS,
 * then one native pass computes y = x·scale + shift. The cpu backend's kernel indexes every
 * element modulo each operand's length and took 135 of ResNet-50's 312 ms at batch 1.
 */
import { alloc, f32, type NativeKernelFunc, output } from "./util.js";

/** Below this many elements the cpu kernel runs (a native call costs more than it saves). */
const MIN_NATIVE_SIZE = 4096;

/** FusedBatchNorm over the last axis with [C]-shaped statistics; other layouts fall back. */
export const fusedBatchNorm: NativeKernelFunc = ({ inputs, backend, attrs }) => {
  const { x, mean, variance, offset, scale } = inputs;
  const xv = f32(backend, x);
  const mv = f32(backend, mean);
  const vv = f32(backend, variance);
  if (!x || !xv || !mv || !vv || x.shape.length < 1 || xv.length < MIN_NATIVE_SIZE) {
    return undefined;
  }
  const c = x.shape[x.shape.length - 1]!;
  const perChannel = (t: typeof mean, v: Float32Array | undefined) =>
    t != null && v !== undefined && v.length === c && t.shape[t.shape.length - 1] === c;
  if (!perChannel(mean, mv) || !perChannel(variance, vv)) return undefined;
  const ov = offset == null ? undefined : f32(backend, offset);
  const sv = scale == null ? undefined : f32(backend, scale);
  if ((offset != null && !perChannel(offset, ov)) || (scale != null && !perChannel(scale, sv))) {
    return undefined;
  }
  const eps = Number(attrs?.varianceEpsilon ?? 0.001);
  const a = new Float32Array(c);
  const b = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    // Same rounding order as the cpu kernel: (x - mean) * scale / sqrt(var + eps) + offset.
    const s = (sv ? sv[i]! : 1) / Math.sqrt(vv[i]! + eps);
    a[i] = s;
    b[i] = (ov ? ov[i]! : 0) - mv[i]! * s;
  }
  const y = alloc(xv.length);
  backend.addon.channelAffine(xv, a, b, y, [xv.length / c, c]);
  return output(backend, x.shape, y);
};
