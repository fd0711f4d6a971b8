/**
 * safetensors, read and written directly (no dependency): an 8-byte little-endian header
 * length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?:
 * {string: string}}`, then the raw little-endian tensors, offsets relative to the end of the
 * header. Floating dtypes (F32, F16, BF16, F64) decode to Float32Array, so every weight reaches
 * tfjs as float32; I64 (BatchNorm's num_batches_tracked) decodes to BigInt64Array and the
 * importer ignores it. Writing emits F32 (and I64 for the counters), keys sorted, the header
 * padded with spaces to a multiple of 8 bytes as the reference writer does.
 */
import fs from "node:fs";
import { WeightFileError } from "./errors.js";

/** The dtypes this reader decodes (others, e.g. U8 or I32, are refused by name). */
export const SAFETENSORS_DTYPES = ["F32", "F16", "BF16", "F64", "I64"] as const;
/** A decodable safetensors dtype. */
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8 };

/** One tensor of a file: floats as float32 whatever their stored dtype, I64 as bigints. */
export interface StoredTensor {
  /** The dtype stored in the file (kept so a caller can report it). */
  dtype: SafetensorsDtype;
  /** Shape, PyTorch order. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array | BigInt64Array;
}

/** A decoded safetensors file: tensors by key, plus the optional string metadata. */
export interface SafetensorsContent {
  /** Tensors by key, in header order. */
  tensors: Map<string, StoredTensor>;
  /** The header's `__metadata__` (empty when absent). */
  metadata: Record<string, string>;
}

/** IEEE half → float (exact: every half is a float32). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function decode(
  view: DataView,
  at: number,
  dtype: SafetensorsDtype,
  n: number,
): StoredTensor["data"] {
  if (dtype === "I64") {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getBigInt64(at + 8 * i, true);
    return out;
  }
  const out = new Float32Array(n);
  switch (dtype) {
    case "F32":
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, true);
      break;
    case "F64":
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(at + 2 * i, true));
      break;
    case "BF16": {
      // bfloat16 is the top half of a float32: shift its bits into place.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16;
      break;
    }
  }
  return out;
}

/** Decodes a whole safetensors file held in memory; `file` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, file = "<buffer>"): SafetensorsContent {
  const bad = (reason: string, cause?: unknown): never => {
    throw new WeightFileError(file, `not a valid safetensors file: ${reason}`, { cause });
  };
  if (bytes.length < 8) bad(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) {
    bad(`header length ${headerLength} exceeds the ${bytes.length - 8} bytes after it`);
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (e) {
    bad(`header is not UTF-8 JSON (${(e as Error).message})`, e);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    bad("header is not a JSON object");
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, StoredTensor>();
  let metadata: Record<string, string> = {};
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === "__metadata__") {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!(SAFETENSORS_DTYPES as readonly unknown[]).includes(e?.dtype)) {
      bad(
        `tensor ${JSON.stringify(key)} has dtype ${JSON.stringify(e?.dtype)}; supported: ${SAFETENSORS_DTYPES.join(", ")}`,
      );
    }
    const dtype = e.dtype as SafetensorsDtype;
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      bad(
        `tensor ${JSON.stringify(key)} has shape ${JSON.stringify(shape)}; need a list of non-negative integers`,
      );
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0) ||
      offsets[0] > offsets[1] ||
      offsets[1] > dataLength
    ) {
      bad(
        `tensor ${JSON.stringify(key)} has data_offsets ${JSON.stringify(offsets)} outside the ${dataLength} data bytes`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const n = product(shape as number[]);
    if (end - begin !== n * BYTES[dtype]) {
      bad(
        `tensor ${JSON.stringify(key)} (${dtype} [${(shape as number[]).join(", ")}]) needs ${n * BYTES[dtype]} bytes; its offsets span ${end - begin}`,
      );
    }
    tensors.set(key, {
      dtype,
      shape: shape as number[],
      data: decode(view, dataStart + begin, dtype, n),
    });
  }
  return { tensors, metadata };
}

/** Reads and decodes a safetensors file (WeightFileError when unreadable or malformed). */
export async function readSafetensors(file: string): Promise<SafetensorsContent> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    throw new WeightFileError(file, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  return parseSafetensors(bytes, file);
}

/** A tensor to write: float32 data is stored as F32, bigint data as I64. */
export interface TensorToWrite {
  /** Shape, PyTorch order. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array | BigInt64Array;
}

/** Encodes tensors (keys sorted) and optional string metadata as safetensors bytes. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const keys = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const key of keys) {
    const t = tensors.get(key)!;
    const dtype = t.data instanceof BigInt64Array ? "I64" : "F32";
    const size = t.data.length * BYTES[dtype];
    header[key] = { dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const jsonBytes = new TextEncoder().encode(json);
  json += " ".repeat((8 - (jsonBytes.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const key of keys) {
    const data = tensors.get(key)!.data;
    if (data instanceof BigInt64Array) {
      for (let i = 0; i < data.length; i++, at += 8) view.setBigInt64(at, data[i]!, true);
    } else {
      for (let i = 0; i < data.length; i++, at += 4) view.setFloat32(at, data[i]!, true);
    }
  }
  return out;
}

/** Writes tensors as a safetensors file, atomically (temporary file, then rename). */
export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await fs.promises.writeFile(tmp, encodeSafetensors(tensors, metadata));
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw new WeightFileError(file, `cannot write: ${(e as Error).message}`, { cause: e });
  }
}
