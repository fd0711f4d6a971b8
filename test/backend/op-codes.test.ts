/**
 * The addon's interface: op codes come from native/src/op_codes.h, the one table both sides
 * compile from, and shapes travel as named geometry descriptors that the addon checks by name.
 */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ACTIVATION_CODES,
  BINARY_OPS,
  ELTWISE_OPS,
  OP_CODES_HEADER,
  parseOpCodes,
  REDUCE_OPS,
} from "../../src/backend/op-codes.js";
import { NATIVE } from "./onednn-support.js";

describe("op codes", () => {
  it("are the header's, each table numbered 0..n-1 without gaps", () => {
    const tables = parseOpCodes(fs.readFileSync(OP_CODES_HEADER, "utf8"));
    expect(tables.SENET_BINARY_OPS).toEqual(BINARY_OPS);
    expect(tables.SENET_ELTWISE_OPS).toEqual(ELTWISE_OPS);
    expect(tables.SENET_REDUCE_OPS).toEqual(REDUCE_OPS);
    expect(tables.SENET_ACTIVATIONS).toEqual(ACTIVATION_CODES);
    for (const t of [BINARY_OPS, ELTWISE_OPS, REDUCE_OPS, ACTIVATION_CODES]) {
      expect(Object.values(t).sort((a, b) => a - b)).toEqual([...Object.keys(t).keys()]);
    }
    expect(BINARY_OPS.mul).toBe(2);
    expect(ELTWISE_OPS.square).toBe(4);
  });

  it("parses X-macro lines with continuations", () => {
    const t = parseOpCodes("#define SENET_T(X) \\\n  X(a, 0) \\\n  X(b, 1)\n");
    expect(t).toEqual({ SENET_T: { a: 0, b: 1 } });
  });
});

describe.skipIf(!NATIVE.built)("the addon's geometry descriptor", () => {
  it("names a missing field", async () => {
    const { loadAddon } = await import("../../src/backend/onednn-addon.js");
    const addon = loadAddon();
    const x = new Float32Array(16);
    const y = new Float32Array(4);
    expect(() =>
      addon.pool2dForward(
        x,
        y,
        { batch: 1 } as unknown as Parameters<typeof addon.pool2dForward>[2],
        true,
      ),
    ).toThrow(/geometry\.inHeight must be a number/);
  });
});
