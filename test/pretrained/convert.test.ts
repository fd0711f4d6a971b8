/** The layout conversions: each maps a known PyTorch element to the right tfjs position, and toTorch undoes fromTorch. */
import { describe, expect, it } from "vitest";
import { CONVERSIONS, fromTorch, torchShapeOf, toTorch } from "../../src/pretrained/index.js";

function iota(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => i);
}

describe("conversions", () => {
  it("conv: torch [O, I, kh, kw] element (o, i, y, x) lands at ours [y, x, i, o]", () => {
    const ours = [3, 2, 4, 5]; // kh, kw, I, O
    expect(torchShapeOf("conv", ours)).toEqual([5, 4, 3, 2]);
    const torch = iota(120);
    const out = fromTorch("conv", torch, ours);
    const at = (o: number, i: number, y: number, x: number) => ((o * 4 + i) * 3 + y) * 2 + x;
    for (const [o, i, y, x] of [
      [0, 0, 0, 0],
      [4, 3, 2, 1],
      [2, 1, 0, 1],
      [1, 2, 1, 0],
    ] as const) {
      expect(out[((y * 2 + x) * 4 + i) * 5 + o]).toBe(torch[at(o, i, y, x)]);
    }
  });

  it("linear and conv1x1: torch [O, I] element (o, i) lands at ours [i, o]", () => {
    const torch = iota(6); // O = 2, I = 3
    for (const kind of ["linear", "conv1x1"] as const) {
      const out = fromTorch(kind, torch, [3, 2]);
      expect([...out]).toEqual([0, 3, 1, 4, 2, 5]);
    }
    expect(torchShapeOf("conv1x1", [3, 2])).toEqual([2, 3, 1, 1]);
    expect(torchShapeOf("groupAffine", [4])).toEqual([1, 4, 1, 1]);
  });

  it.each(CONVERSIONS)("%s: toTorch inverts fromTorch exactly", (kind) => {
    const ours = {
      conv: [3, 3, 4, 6],
      linear: [5, 7],
      conv1x1: [5, 7],
      vector: [9],
      groupAffine: [4],
    }[kind];
    const n = ours.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * 10));
    const torch = toTorch(kind, values, ours);
    expect(torch.shape).toEqual(torchShapeOf(kind, ours));
    expect(fromTorch(kind, torch.data, ours)).toEqual(values);
  });
});
