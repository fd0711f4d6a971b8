/**
 * Streams one file to disk the way a 170 MB dataset over a flaky link needs: into `<dest>.part`,
 * resumed with an HTTP Range request (guarded by If-Range, so a file changed on the server starts
 * over) after a dropped connection or a killed process, checked for length, verified against its
 * published checksum, and only then renamed to `<dest>`. A file that fails its checksum is kept
 * aside as `<dest>.corrupt` and the error names both sums. `<dest>` itself is never half-written.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { DownloadError } from "../errors.js";
import { readJsonIfExists, writeJsonAtomic } from "../util/fs.js";
import { httpGet, redact } from "./http.js";
import type { Checksum, RemoteFile } from "./sources.js";
import {
  formatBytes,
  TransferProgress,
  type TransferProgressOptions,
} from "./transfer-progress.js";

/** Options of downloadFile. */
export interface DownloadOptions {
  /** Where proxy variables are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Tries per call before giving up (a dropped transfer resumes on the next). Default 5. */
  attempts?: number;
  /** Wait before retry k is k × this many ms. Default 1000. */
  retryDelayMs?: number;
  /** Milliseconds without a byte before an attempt fails. Default 30 000. */
  idleTimeoutMs?: number;
  /** Extra trusted CA certificates in PEM (tests, private mirrors). */
  ca?: string | Buffer;
  /** The progress display's options; null shows nothing. */
  progress?: TransferProgressOptions | null;
}

/** What downloadFile did. */
export interface DownloadResult {
  /** The verified file. */
  file: string;
  /** Its size in bytes. */
  bytes: number;
  /** Bytes that were already on disk when this call started (a resumed or finished download). */
  resumedFrom: number;
  /** Bytes received over the network by this call. */
  received: number;
  /** Wall seconds spent receiving. */
  seconds: number;
  /** HTTP requests made (redirects not counted). */
  attempts: number;
  /** The file's digest in the checksum's algorithm, or null when no checksum is published. */
  digest: string | null;
}

/** What is remembered next to a `.part` so a resume asks for the same version of the file. */
interface PartMeta {
  url: string;
  validator?: string;
}

/** The hex digest of a file, streamed (a 170 MB archive is never held in memory). */
export async function hashFile(file: string, algorithm: Checksum["algorithm"]): Promise<string> {
  const h = createHash(algorithm);
  await pipeline(fs.createReadStream(file), h);
  return h.digest("hex");
}

/** Byte size of a file, or 0 when it does not exist. */
function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Network errors that mean "no route to the host" rather than "the transfer broke". */
const UNREACHABLE = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNREFUSED",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

/** One line for a network error: what the code means, then Node's message. */
function describeNetworkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOTFOUND: "host not found (no network, or DNS fails)",
    EAI_AGAIN: "DNS lookup failed (no network?)",
    ECONNREFUSED: "connection refused",
    ENETUNREACH: "network unreachable",
    EHOSTUNREACH: "host unreachable",
    ECONNRESET: "connection reset: the transfer was cut short",
    ETIMEDOUT: "timed out",
    EPIPE: "connection closed",
  };
  const w = e.code ? words[e.code] : undefined;
  return w ? `${w} (${e.code}: ${e.message})` : e.message || String(err);
}

/** Errno codes of a local write failure, as words. */
function describeWriteError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === "ENOSPC") return "no space left on the device";
  if (e.code === "EDQUOT") return "disk quota exceeded";
  if (e.code === "EACCES" || e.code === "EPERM") return "permission denied";
  if (e.code === "EROFS") return "read-only filesystem";
  return e.code ? `${e.code}: ${e.message}` : String(err);
}

/** Parses "bytes a-b/N" (or "bytes * /N") into its start and total. */
function parseContentRange(h: string | undefined): { start?: number; total?: number } {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(h?.trim() ?? "");
  if (!m) return {};
  return {
    ...(m[1] !== undefined ? { start: Number(m[1]) } : {}),
    ...(m[2] !== "*" ? { total: Number(m[2]) } : {}),
  };
}

/**
 * Downloads `remote` from `url` (its official URL or a mirror's) to `dest` and verifies it;
 * resolves once `dest` holds the verified bytes. A `dest` already there is verified again and
 * kept. Throws DownloadError: "http" (status and URL), "network" (after the retries; the partial
 * file is kept for the next call to resume), "truncated", "checksum", "disk".
 */
export async function downloadFile(
  remote: RemoteFile,
  url: string,
  dest: string,
  o: DownloadOptions = {},
): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const metaFile = `${dest}.part.json`;
  const corrupt = `${dest}.corrupt`;
  const sum = remote.checksum;
  fs.mkdirSync(path.dirname(dest), { recursive: true });

  if (fs.existsSync(dest)) {
    const digest = sum ? await hashFile(dest, sum.algorithm) : null;
    if (!sum || digest === sum.hex) {
      const bytes = sizeOf(dest);
      return {
        file: dest,
        bytes,
        resumedFrom: bytes,
        received: 0,
        seconds: 0,
        attempts: 0,
        digest,
      };
    }
    fs.rmSync(dest, { force: true });
  }

  let meta = readMeta(metaFile);
  if (meta && meta.url !== url) {
    // A partial file of another source: its bytes may differ, so start over.
    fs.rmSync(part, { force: true });
    meta = undefined;
  }
  if (!meta) fs.rmSync(part, { force: true });
  const resumedFrom = sizeOf(part);
  const maxAttempts = Math.max(1, o.attempts ?? 5);
  const delay = o.retryDelayMs ?? 1000;
  const progress = o.progress === null ? undefined : new TransferProgress(remote.name, o.progress);
  let attempts = 0;
  let received = 0;
  let seconds = 0;
  let lastError: unknown;
  let total: number | undefined;
  let finished = false;

  for (;;) {
    if (attempts >= maxAttempts) break;
    attempts++;
    let start = sizeOf(part);
    const t0 = Date.now();
    let res: IncomingMessage;
    try {
      res = await request(url, start, meta?.validator, o);
    } catch (err) {
      if (err instanceof DownloadError) throw err;
      lastError = err;
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (UNREACHABLE.has(code) && received === 0 && attempts >= 2) break;
      if (/CERT|ERR_TLS|SELF_SIGNED/.test(code)) break; // a certificate does not get better by retrying
      if (attempts < maxAttempts) await sleep(delay * attempts);
      continue;
    }
    const status = res.statusCode ?? 0;
    if (status === 416 && start > 0) {
      res.resume();
      const { total: t } = parseContentRange(res.headers["content-range"]);
      if (t === start) {
        total = t;
        finished = true; // the part is already whole
        break;
      }
      fs.rmSync(part, { force: true });
      attempts--; // not a failure: the part was stale
      continue;
    }
    if (status >= 400 || (status !== 200 && status !== 206)) {
      res.resume();
      const transient = status === 429 || status === 502 || status === 503 || status === 504;
      const err = new DownloadError(
        `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""} from ${redact(url)}`,
        url,
        "http",
      );
      if (!transient || attempts >= maxAttempts) throw err;
      lastError = err;
      await sleep(delay * attempts);
      continue;
    }
    if (status === 206) {
      const cr = parseContentRange(res.headers["content-range"]);
      if (cr.start !== start) {
        res.resume();
        fs.rmSync(part, { force: true });
        attempts--;
        continue;
      }
      total = cr.total;
    } else {
      start = 0; // 200: the server sent the whole file (no Range support, or If-Range failed)
      const len = Number(res.headers["content-length"]);
      total = Number.isFinite(len) && res.headers["content-length"] !== undefined ? len : undefined;
    }
    const validator = (res.headers.etag as string | undefined) ?? res.headers["last-modified"];
    meta = { url, ...(validator ? { validator } : {}) };
    writeJsonAtomic(metaFile, meta);

    progress?.start(start, total, redact(url));
    let got = 0;
    let writeError: unknown;
    try {
      // Each chunk is on disk before the next is read, so a transfer cut short keeps every byte
      // that arrived (a stream pipeline would drop the writes still queued when it errors).
      const fh = await fs.promises.open(part, start > 0 ? "a" : "w").catch((e: unknown) => {
        writeError = e;
        throw e;
      });
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          try {
            await fh.write(chunk);
          } catch (e) {
            writeError = e;
            throw e;
          }
          got += chunk.length;
          progress?.update(start + got);
        }
      } finally {
        await fh.close();
      }
    } catch (err) {
      received += got;
      seconds += (Date.now() - t0) / 1000;
      progress?.fail();
      if (writeError) {
        const have = sizeOf(part);
        fs.rmSync(part, { force: true });
        fs.rmSync(metaFile, { force: true });
        throw new DownloadError(
          `cannot write ${part}: ${describeWriteError(writeError)} after ${formatBytes(have)}${total !== undefined ? ` of ${formatBytes(total)}` : ""}; the partial file was removed. Free space in ${path.dirname(part)} (or pick another folder with --dir) and run again.`,
          part,
          "disk",
          { cause: writeError },
        );
      }
      lastError = err;
      if (attempts < maxAttempts) await sleep(delay * attempts);
      continue;
    }
    received += got;
    seconds += (Date.now() - t0) / 1000;
    const have = sizeOf(part);
    if (total !== undefined && have < total) {
      progress?.fail();
      lastError = new DownloadError(
        `transfer of ${redact(url)} ended at ${have} of ${total} bytes`,
        url,
        "truncated",
      );
      if (attempts < maxAttempts) await sleep(delay * attempts);
      continue;
    }
    if (total !== undefined && have > total) {
      fs.rmSync(part, { force: true });
      lastError = new DownloadError(
        `${part} grew to ${have} bytes, more than the ${total} the server announced; starting over`,
        url,
        "truncated",
      );
      continue;
    }
    progress?.done(have);
    finished = true;
    break;
  }

  const have = sizeOf(part);
  if (!finished) {
    const kept =
      have > 0
        ? ` ${formatBytes(have)}${total !== undefined ? ` of ${formatBytes(total)}` : ""} are kept in ${part}; running the same command again resumes from there.`
        : "";
    const why =
      lastError instanceof DownloadError ? lastError.message : describeNetworkError(lastError);
    const kind = lastError instanceof DownloadError ? lastError.kind : "network";
    throw new DownloadError(
      `cannot download ${redact(url)}: ${why} (${attempts} attempt${attempts === 1 ? "" : "s"}).${kept}`,
      url,
      kind,
      { cause: lastError },
    );
  }
  fsyncFile(part);

  let digest: string | null = null;
  if (sum) {
    digest = await hashFile(part, sum.algorithm);
    if (digest !== sum.hex) {
      fs.rmSync(corrupt, { force: true });
      fs.renameSync(part, corrupt);
      fs.rmSync(metaFile, { force: true });
      throw new DownloadError(
        `${remote.name} from ${redact(url)} fails its checksum: expected ${sum.algorithm} ${sum.hex} (${sum.source}), got ${digest} (${have} bytes). The file is kept at ${corrupt} for inspection; running the command again downloads it afresh.`,
        url,
        "checksum",
      );
    }
  }
  fs.renameSync(part, dest);
  fs.rmSync(metaFile, { force: true });
  return { file: dest, bytes: have, resumedFrom, received, seconds, attempts, digest };
}

/** Sends one GET, following redirects (up to 10), with a Range header when resuming. */
async function request(
  url: string,
  start: number,
  validator: string | undefined,
  o: DownloadOptions,
): Promise<IncomingMessage> {
  let u = new URL(url);
  for (let hop = 0; hop <= 10; hop++) {
    const headers: Record<string, string> = {};
    if (start > 0) {
      headers.Range = `bytes=${start}-`;
      if (validator) headers["If-Range"] = validator;
    }
    const res = await httpGet(u, {
      headers,
      ...(o.env ? { env: o.env } : {}),
      ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
    });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location) {
      res.resume();
      u = new URL(location, u);
      continue;
    }
    return res;
  }
  throw new DownloadError(`more than 10 redirects from ${redact(url)}`, url, "http");
}

function readMeta(file: string): PartMeta | undefined {
  try {
    return readJsonIfExists<PartMeta>(file);
  } catch {
    return undefined; // a damaged sidecar only costs a restart from byte 0
  }
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, "r+");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
