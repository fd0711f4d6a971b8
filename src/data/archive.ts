/**
 * Unpacks a .tar.gz with node:zlib and a small streaming tar reader (ustar, GNU long names, pax
 * path records), rather than by running `tar`: it works where no tar binary is (Windows before
 * bsdtar), it refuses entries that would land outside the target folder ("../", absolute paths)
 * and skips links, and every failure is a typed error naming the archive and what was wrong. It
 * writes only under `destDir`, which the caller makes a temporary folder and renames into place,
 * so a half-unpacked dataset is never visible under its final name.
 */
import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { DownloadError } from "../errors.js";

/** What extractTarGz wrote. */
export interface ExtractResult {
  /** Regular files written. */
  files: number;
  /** Their total size in bytes. */
  bytes: number;
  /** Entries skipped: links, devices, fifos (none of the datasets uses them). */
  skipped: string[];
}

const BLOCK = 512;

/** A C string field of a header. */
function cstr(h: Buffer, at: number, len: number): string {
  const end = h.indexOf(0, at);
  return h.toString("utf8", at, end === -1 || end > at + len ? at + len : end);
}

/** A numeric field: octal text, or base-256 when the high bit of its first byte is set. */
function num(h: Buffer, at: number, len: number): number {
  if (h[at]! & 0x80) {
    let v = h[at]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + h[at + i]!;
    return v;
  }
  const t = cstr(h, at, len).trim();
  return t === "" ? 0 : Number.parseInt(t, 8);
}

/** The path from a pax extended header's records ("LEN path=VALUE\n"), if it has one. */
function paxPath(data: Buffer): string | undefined {
  let at = 0;
  let found: string | undefined;
  while (at < data.length) {
    const sp = data.indexOf(0x20, at);
    if (sp === -1) break;
    const len = Number.parseInt(data.toString("utf8", at, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.toString("utf8", sp + 1, at + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0 && rec.slice(0, eq) === "path") found = rec.slice(eq + 1);
    at += len;
  }
  return found;
}

type State =
  | { kind: "header" }
  | { kind: "file"; fd: number; left: number; pad: number; name: string }
  | { kind: "skip"; left: number; pad: number }
  | { kind: "collect"; left: number; pad: number; parts: Buffer[]; as: "longname" | "pax" }
  | { kind: "pad"; left: number }
  | { kind: "end" };

/** A push-driven tar reader that writes the entries under a folder. */
class TarExtractor {
  private state: State = { kind: "header" };
  private header = Buffer.alloc(0);
  private offset = 0;
  private zeroBlocks = 0;
  private nextName: string | undefined;
  readonly result: ExtractResult = { files: 0, bytes: 0, skipped: [] };

  constructor(
    private readonly destDir: string,
    private readonly archive: string,
  ) {}

  private fail(why: string): never {
    throw new DownloadError(`${this.archive}: ${why}`, this.archive, "archive");
  }

  /** Consumes decompressed bytes. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const s = this.state;
      if (s.kind === "end") return; // trailing bytes after the end-of-archive blocks
      if (s.kind === "header") {
        const need = BLOCK - this.header.length;
        const take = chunk.subarray(at, at + need);
        this.header = this.header.length ? Buffer.concat([this.header, take]) : Buffer.from(take);
        at += take.length;
        if (this.header.length === BLOCK) {
          const h = this.header;
          this.header = Buffer.alloc(0);
          this.onHeader(h);
          this.offset += BLOCK;
        }
        continue;
      }
      const n = Math.min(s.left, chunk.length - at);
      const piece = chunk.subarray(at, at + n);
      at += n;
      this.offset += n;
      s.left -= n;
      if (s.kind === "file") {
        let w = 0;
        while (w < piece.length) w += fs.writeSync(s.fd, piece, w, piece.length - w);
        this.result.bytes += n;
      } else if (s.kind === "collect") {
        s.parts.push(Buffer.from(piece));
      }
      if (s.left > 0) continue;
      if (s.kind === "file") {
        fs.closeSync(s.fd);
        this.result.files++;
      } else if (s.kind === "collect") {
        const data = Buffer.concat(s.parts);
        this.nextName =
          s.as === "longname" ? data.toString("utf8").replace(/\0+$/, "") : paxPath(data);
      }
      this.state =
        s.kind === "pad" || !("pad" in s) || s.pad === 0
          ? { kind: "header" }
          : { kind: "pad", left: s.pad };
    }
  }

  private onHeader(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.state = { kind: "end" };
      return;
    }
    this.zeroBlocks = 0;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== num(h, 148, 8)) {
      this.fail(`not a tar archive, or damaged: bad header checksum at byte ${this.offset}`);
    }
    const type = h[156] === 0 ? "0" : String.fromCharCode(h[156]!);
    const size = num(h, 124, 12);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    const ustar = cstr(h, 257, 6).startsWith("ustar");
    const prefix = ustar ? cstr(h, 345, 155) : "";
    const own = cstr(h, 0, 100);
    const name = this.nextName ?? (prefix ? `${prefix}/${own}` : own);
    if (type === "L" || type === "x") {
      this.state = {
        kind: "collect",
        left: size,
        pad,
        parts: [],
        as: type === "L" ? "longname" : "pax",
      };
      if (size === 0) this.state = { kind: "header" };
      return;
    }
    this.nextName = undefined;
    if (type === "g") {
      this.state = size > 0 ? { kind: "skip", left: size, pad } : { kind: "header" };
      return;
    }
    const target = this.safePath(name);
    if (type === "5") {
      fs.mkdirSync(target, { recursive: true });
      this.state = size > 0 ? { kind: "skip", left: size, pad } : { kind: "header" };
      return;
    }
    if (type !== "0" && type !== "7") {
      this.result.skipped.push(name);
      this.state = size > 0 ? { kind: "skip", left: size, pad } : { kind: "header" };
      return;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const fd = fs.openSync(target, "w", 0o644);
    if (size === 0) {
      fs.closeSync(fd);
      this.result.files++;
      this.state = { kind: "header" };
      return;
    }
    this.state = { kind: "file", fd, left: size, pad, name };
  }

  /** Where entry `name` goes; refuses absolute paths and "..", which would escape destDir. */
  private safePath(name: string): string {
    const parts = name.split("/").filter((p) => p !== "" && p !== ".");
    if (name.startsWith("/") || parts.includes("..") || /^[A-Za-z]:/.test(name)) {
      this.fail(
        `entry ${JSON.stringify(name)} would be written outside the target folder; refusing to unpack`,
      );
    }
    return path.join(this.destDir, ...parts);
  }

  /** The input ended; throws when it ended inside an entry (a truncated archive). */
  end(): void {
    const s = this.state;
    if (s.kind === "file" || s.kind === "skip" || s.kind === "collect" || this.header.length > 0) {
      this.abort();
      this.fail(
        `truncated: the archive ends inside ${s.kind === "file" ? JSON.stringify(s.name) : "an entry"} at byte ${this.offset}`,
      );
    }
  }

  /** Closes a file left open by an error. */
  abort(): void {
    const s = this.state;
    if (s.kind === "file") {
      try {
        fs.closeSync(s.fd);
      } catch {
        /* already closed */
      }
    }
    this.state = { kind: "end" };
  }
}

/**
 * Unpacks the gzipped tar `archive` into `destDir` (created). Throws DownloadError "archive" for a
 * damaged gzip stream or tar structure, "disk" for a write that fails (a full disk); the caller
 * removes `destDir` then.
 */
export async function extractTarGz(archive: string, destDir: string): Promise<ExtractResult> {
  fs.mkdirSync(destDir, { recursive: true });
  const ex = new TarExtractor(destDir, archive);
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        ex.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    final(cb) {
      try {
        ex.end();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  try {
    await pipeline(fs.createReadStream(archive), createGunzip(), sink);
  } catch (err) {
    ex.abort();
    if (err instanceof DownloadError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (
      e.code === "ENOSPC" ||
      e.code === "EDQUOT" ||
      e.syscall === "write" ||
      e.syscall === "open"
    ) {
      throw new DownloadError(
        `cannot unpack ${archive} into ${destDir}: ${e.code === "ENOSPC" ? "no space left on the device" : e.message}; nothing was placed`,
        archive,
        "disk",
        { cause: err },
      );
    }
    throw new DownloadError(
      `${archive} is not a valid gzip file, or is damaged: ${e.message}`,
      archive,
      "archive",
      { cause: err },
    );
  }
  return ex.result;
}
