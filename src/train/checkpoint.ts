/**
 * Checkpoints: one file per epoch, checkpoint/epoch-NNNN.ckpt, or within an epoch (on SIGTERM,
 * or every few minutes when asked) checkpoint/epoch-NNNN.step-SSSSSS.ckpt: NNNN epochs done and
 * SSSSSS steps of the next. Each is written atomically (temp file +
 * fsync + rename), so a kill at any instant leaves either the previous checkpoint or the new
 * one. A file holds a magic, a JSON header (epoch, loop state, tensor table) and the raw float32
 * data of every model weight (BN moving statistics included) and every momentum buffer. Older
 * checkpoints are deleted once a newer one is safely in place.
 */
import fs from "node:fs";
import path from "node:path";
import { SenetLabError } from "../errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { RUN_FILES } from "./run-folder.js";

const MAGIC = "SNLCKPT1";

/** One stored tensor. */
export interface StoredTensor {
  /** Name, for humans and mismatch messages. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Values (float32). */
  values: Float32Array;
}

/** A checkpoint's content. */
export interface Checkpoint<S> {
  /** Epochs completed. */
  epoch: number;
  /** Steps of the next epoch already taken (0 or absent: at an epoch boundary). */
  step?: number;
  /** Loop state (metrics history, RNG state, counters): plain JSON. */
  state: S;
  /** Model weights, in model.weights order. */
  weights: StoredTensor[];
  /** Optimizer momentum buffers, in trainable-weight order. */
  buffers: StoredTensor[];
}

/** Folder of a run's checkpoints. */
export function checkpointDir(runDir: string): string {
  return path.join(runDir, RUN_FILES.checkpoint);
}

function fileFor(runDir: string, epoch: number, step = 0): string {
  const e = `epoch-${String(epoch).padStart(4, "0")}`;
  const name = step > 0 ? `${e}.step-${String(step).padStart(6, "0")}.ckpt` : `${e}.ckpt`;
  return path.join(checkpointDir(runDir), name);
}

/** Serialises a checkpoint to bytes. */
export function encodeCheckpoint<S>(c: Checkpoint<S>): Uint8Array {
  const table = (list: StoredTensor[]) =>
    list.map((t) => ({ name: t.name, shape: t.shape, length: t.values.length }));
  const header = Buffer.from(
    JSON.stringify({
      epoch: c.epoch,
      ...(c.step ? { step: c.step } : {}),
      state: c.state,
      weights: table(c.weights),
      buffers: table(c.buffers),
    }),
    "utf8",
  );
  const floats = [...c.weights, ...c.buffers].reduce((a, t) => a + t.values.length, 0);
  // Pad the header so the float data starts 4-byte aligned.
  const headerLen = Math.ceil((header.length + 12) / 4) * 4 - 12;
  const out = new Uint8Array(12 + headerLen + floats * 4);
  out.set(Buffer.from(MAGIC, "ascii"), 0);
  new DataView(out.buffer).setUint32(8, headerLen, true);
  out.set(header, 12);
  out.fill(0x20, 12 + header.length, 12 + headerLen);
  const data = new Float32Array(out.buffer, 12 + headerLen, floats);
  let at = 0;
  for (const t of [...c.weights, ...c.buffers]) {
    data.set(t.values, at);
    at += t.values.length;
  }
  return out;
}

/** Parses checkpoint bytes; throws naming `file` when they are not a whole checkpoint. */
export function decodeCheckpoint<S>(bytes: Uint8Array, file: string): Checkpoint<S> {
  const bad = (why: string) => new SenetLabError(`${file}: not a valid checkpoint (${why})`);
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString("ascii") !== MAGIC)
    throw bad("bad magic");
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + headerLen > bytes.length) throw bad("truncated header");
  const h = JSON.parse(Buffer.from(bytes.subarray(12, 12 + headerLen)).toString("utf8")) as {
    epoch: number;
    step?: number;
    state: S;
    weights: { name: string; shape: number[]; length: number }[];
    buffers: { name: string; shape: number[]; length: number }[];
  };
  const floats = [...h.weights, ...h.buffers].reduce((a, t) => a + t.length, 0);
  if (bytes.length !== 12 + headerLen + floats * 4) throw bad("wrong length");
  const copy = bytes.slice(12 + headerLen).buffer;
  let at = 0;
  const take = (list: typeof h.weights): StoredTensor[] =>
    list.map((t) => {
      const values = new Float32Array(copy, at * 4, t.length);
      at += t.length;
      return { name: t.name, shape: t.shape, values };
    });
  const weights = take(h.weights);
  const buffers = take(h.buffers);
  return { epoch: h.epoch, ...(h.step ? { step: h.step } : {}), state: h.state, weights, buffers };
}

/** Writes the checkpoint of (`c.epoch`, `c.step`) atomically, then removes older ones. */
export function saveCheckpoint<S>(runDir: string, c: Checkpoint<S>): void {
  const step = c.step ?? 0;
  const file = fileFor(runDir, c.epoch, step);
  writeFileAtomic(file, encodeCheckpoint(c));
  for (const f of listCheckpoints(runDir)) {
    if (f.epoch < c.epoch || (f.epoch === c.epoch && f.step < step)) {
      fs.rmSync(f.file, { force: true });
    }
  }
}

/** Checkpoint files of a run, oldest first (by epochs done, then steps of the next). */
export function listCheckpoints(runDir: string): { epoch: number; step: number; file: string }[] {
  const dir = checkpointDir(runDir);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((n) => /^epoch-(\d+)(?:\.step-(\d+))?\.ckpt$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ epoch: Number(m[1]), step: Number(m[2] ?? 0), file: path.join(dir, m[0]) }))
    .sort((a, b) => a.epoch - b.epoch || a.step - b.step);
}

/** The newest readable checkpoint, or undefined when there is none. */
export function loadLatestCheckpoint<S>(runDir: string): Checkpoint<S> | undefined {
  const all = listCheckpoints(runDir);
  for (let i = all.length - 1; i >= 0; i--) {
    const f = all[i]!;
    // Files are renamed into place whole, so a bad one means outside damage; fall back to an older one.
    try {
      return decodeCheckpoint<S>(new Uint8Array(fs.readFileSync(f.file)), f.file);
    } catch {
      /* try the previous one */
    }
  }
  return undefined;
}
