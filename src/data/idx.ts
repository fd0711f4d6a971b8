/**
 * The IDX format of MNIST and Fashion-MNIST (optionally gzipped): a big-endian header
 * (magic 0x0000_08_NN where 08 = unsigned byte and NN = number of dimensions, then one uint32
 * per dimension) followed by the bytes. Every check names the file, so a truncated download
 * fails before training with a message that says which file to fetch again.
 */
import fs from "node:fs";
import { gunzipSync } from "node:zlib";
import { DatasetError } from "../errors.js";

/** A parsed IDX file: its dimensions and its bytes. */
export interface IdxArray {
  /** Sizes from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The payload (product of dims bytes). */
  data: Uint8Array;
}

/** Reads a file, gunzipping it when it starts with the gzip magic; errors name the file. */
export function readMaybeGzip(file: string): Uint8Array {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new DatasetError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      throw new DatasetError(
        `${file} is not a valid gzip file (truncated download?): ${(err as Error).message}`,
      );
    }
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Parses IDX bytes (unsigned-byte type only, as MNIST uses); `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string, expectDims?: number): IdxArray {
  if (bytes.length < 4) {
    throw new DatasetError(`${file}: ${bytes.length} bytes is too short for an IDX header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const magic = view.getUint32(0);
  const type = (magic >>> 8) & 0xff;
  const ndim = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== 0x08 || ndim < 1 || ndim > 4) {
    throw new DatasetError(
      `${file}: bad IDX magic 0x${magic.toString(16).padStart(8, "0")} (expected 0x00000801 for labels or 0x00000803 for images); not an MNIST-format file`,
    );
  }
  if (expectDims !== undefined && ndim !== expectDims) {
    throw new DatasetError(`${file}: IDX file has ${ndim} dimensions, expected ${expectDims}`);
  }
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    throw new DatasetError(`${file}: truncated IDX header (${bytes.length} bytes)`);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) {
    throw new DatasetError(
      `${file}: wrong length: header says ${dims.join("×")} = ${size} bytes of data but the file holds ${bytes.length - header}${bytes.length < header + size ? " (truncated)" : ""}`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads and parses one IDX file (gzipped or not). */
export function readIdx(file: string, expectDims?: number): IdxArray {
  return parseIdx(readMaybeGzip(file), file, expectDims);
}

/** Encodes bytes as an IDX file (used by the embedded-subset script and the tests). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d);
  });
  out.set(data, header);
  return out;
}
