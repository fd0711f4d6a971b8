/**
 * Every layout conversion between PyTorch tensors and our tfjs weights, in one place. The key
 * maps (key-maps.ts) name a conversion per weight; import and export apply it here, forward or
 * back, on plain Float32Arrays (exact: only a permutation of the values, no arithmetic).
 *
 *   conv          torch Conv2d weight [O, I, kh, kw] (OIHW)   ↔ ours [kh, kw, I, O] (HWIO)
 *                 A grouped conv is the same permutation: torch stores [O, I/G, kh, kw] with the
 *                 G groups' outputs consecutive along O, and GroupedConv2D stores
 *                 [kh, kw, I/G, O] with the G per-group kernels consecutive along O.
 *   linear        torch Linear weight [O, I]                  ↔ ours Dense / SE kernel [I, O]
 *   conv1x1       torch 1×1 Conv2d used as an FC [O, I, 1, 1] (timm's and the Caffe SENet's SE
 *                 `fc1`/`fc2`)                                ↔ ours SE kernel [I, O]
 *   vector        biases and BatchNorm weight/bias/running_mean/running_var [C] ↔ tfjs BN
 *                 gamma/beta/moving_mean/moving_variance (and biases) [C], unchanged
 *   groupAffine   SGE weight/bias [1, G, 1, 1]               ↔ ours gamma/beta [G]
 */
import { InternalError } from "../errors.js";

/** The conversions a key map can name (see the module comment). */
export const CONVERSIONS = ["conv", "linear", "conv1x1", "vector", "groupAffine"] as const;
/** One conversion. */
export type Conversion = (typeof CONVERSIONS)[number];

/** The PyTorch shape of a weight whose tfjs shape is `ours`, under `kind`. */
export function torchShapeOf(kind: Conversion, ours: readonly number[]): number[] {
  const need = (rank: number): void => {
    if (ours.length !== rank) {
      throw new InternalError(
        `conversion ${kind} needs a rank-${rank} tfjs weight; got [${ours.join(", ")}]`,
      );
    }
  };
  switch (kind) {
    case "conv": {
      need(4);
      const [kh, kw, i, o] = ours as [number, number, number, number];
      return [o, i, kh, kw];
    }
    case "linear": {
      need(2);
      return [ours[1]!, ours[0]!];
    }
    case "conv1x1": {
      need(2);
      return [ours[1]!, ours[0]!, 1, 1];
    }
    case "vector":
      need(1);
      return [ours[0]!];
    case "groupAffine":
      need(1);
      return [1, ours[0]!, 1, 1];
  }
}

/** Transposes a row-major [r, c] matrix. */
function transpose2d(data: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j]!;
  return out;
}

/** Torch values (shape `torchShapeOf(kind, ours)`) in our layout `ours`. */
export function fromTorch(
  kind: Conversion,
  data: Float32Array,
  ours: readonly number[],
): Float32Array {
  switch (kind) {
    case "conv": {
      const [kh, kw, ci, co] = ours as [number, number, number, number];
      const out = new Float32Array(data.length);
      // torch index ((o*I + i)*kh + y)*kw + x  →  ours ((y*kw + x)*I + i)*O + o
      for (let o = 0; o < co; o++)
        for (let i = 0; i < ci; i++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++)
              out[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x]!;
      return out;
    }
    case "linear":
    case "conv1x1":
      // torch [O, I] (or [O, I, 1, 1], the same bytes) → ours [I, O].
      return transpose2d(data, ours[1]!, ours[0]!);
    case "vector":
    case "groupAffine":
      return Float32Array.from(data);
  }
}

/** Our values (shape `ours`) in PyTorch's layout: the inverse of fromTorch. */
export function toTorch(
  kind: Conversion,
  data: Float32Array,
  ours: readonly number[],
): { shape: number[]; data: Float32Array } {
  const shape = torchShapeOf(kind, ours);
  switch (kind) {
    case "conv": {
      const [kh, kw, ci, co] = ours as [number, number, number, number];
      const out = new Float32Array(data.length);
      for (let o = 0; o < co; o++)
        for (let i = 0; i < ci; i++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++)
              out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o]!;
      return { shape, data: out };
    }
    case "linear":
    case "conv1x1":
      return { shape, data: transpose2d(data, ours[0]!, ours[1]!) };
    case "vector":
    case "groupAffine":
      return { shape, data: Float32Array.from(data) };
  }
}
