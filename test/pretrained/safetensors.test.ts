/** The safetensors reader and writer: dtypes decoded to the exact float32 values, round trips, and malformed files refused by name. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  WeightFileError,
  writeSafetensors,
} from "../../src/pretrained/index.js";

/** A safetensors file built by hand from a header object and raw data bytes. */
function handMade(header: Record<string, unknown>, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe("safetensors", () => {
  it("decodes F16 and BF16 bit patterns to their exact values", () => {
    // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF, smallest subnormal 2^-24 = 0x0001, 0.333 ≈ 0x3555.
    // BF16: 1.5 = 0x3FC0, -0.0078125 = 0xBC00.
    const bytes = handMade(
      {
        h: { dtype: "F16", shape: [5], data_offsets: [0, 10] },
        b: { dtype: "BF16", shape: [2], data_offsets: [10, 14] },
        n: { dtype: "I64", shape: [], data_offsets: [14, 22] },
        d: { dtype: "F64", shape: [1], data_offsets: [22, 30] },
      },
      [
        0x00,
        0x3c,
        0x00,
        0xc0,
        0xff,
        0x7b,
        0x01,
        0x00,
        0x55,
        0x35,
        0xc0,
        0x3f,
        0x00,
        0xbc,
        42,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        ...new Uint8Array(new Float64Array([0.1]).buffer),
      ],
    );
    const { tensors } = parseSafetensors(bytes);
    expect([...(tensors.get("h")!.data as Float32Array)]).toEqual([
      1,
      -2,
      65504,
      2 ** -24,
      0.333251953125,
    ]);
    expect([...(tensors.get("b")!.data as Float32Array)]).toEqual([1.5, -0.0078125]);
    expect(tensors.get("n")!.data).toEqual(new BigInt64Array([42n]));
    expect(tensors.get("n")!.shape).toEqual([]);
    expect(tensors.get("d")!.data[0]).toBe(Math.fround(0.1));
  });

  it("round-trips F32 and I64 through encode / parse and through a file, with metadata", async () => {
    const tensors = new Map([
      [
        "a.weight",
        { shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-8, 4, 5, Math.fround(Math.PI)]) },
      ],
      ["a.num_batches_tracked", { shape: [], data: new BigInt64Array([7n]) }],
    ]);
    const bytes = encodeSafetensors(tensors, { format: "pt" });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ format: "pt" });
    expect([...back.tensors.keys()]).toEqual(["a.num_batches_tracked", "a.weight"]);
    expect(back.tensors.get("a.weight")).toEqual({ dtype: "F32", ...tensors.get("a.weight") });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st-"));
    const file = path.join(dir, "w.safetensors");
    await writeSafetensors(file, tensors);
    expect((await readSafetensors(file)).tensors.get("a.num_batches_tracked")!.data).toEqual(
      new BigInt64Array([7n]),
    );
    fs.rmSync(dir, { recursive: true });
  });

  it.each([
    ["a short file", new Uint8Array(4), /shorter than the 8-byte header length/],
    [
      "a header longer than the file",
      handMade({}, []).map((b, i) => (i === 0 ? 200 : b)),
      /header length 200 exceeds/,
    ],
    [
      "an unknown dtype",
      handMade({ x: { dtype: "U8", shape: [1], data_offsets: [0, 1] } }, [0]),
      /dtype "U8"; supported: F32, F16, BF16, F64, I64/,
    ],
    [
      "offsets past the data",
      handMade({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0]),
      /data_offsets \[0,8\] outside the 4 data bytes/,
    ],
    [
      "a size that disagrees with the shape",
      handMade({ x: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
      /needs 8 bytes; its offsets span 4/,
    ],
    [
      "a bad shape",
      handMade({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }, []),
      /shape \[-1\]/,
    ],
  ])("refuses %s, naming the problem", (_what, bytes, message) => {
    expect(() => parseSafetensors(bytes, "bad.safetensors")).toThrowError(WeightFileError);
    expect(() => parseSafetensors(bytes, "bad.safetensors")).toThrowError(message);
  });

  it("reports a missing file as a WeightFileError naming it", async () => {
    await expect(readSafetensors("/nonexistent/w.safetensors")).rejects.toThrowError(
      /"\/nonexistent\/w.safetensors": cannot read/,
    );
  });
});
