/**
 * Test helpers for the download tests: a real node:http server on 127.0.0.1 that serves files
 * with Range / If-Range support and can misbehave on purpose (cut a body short once, answer an
 * HTTP error), and generators of dataset archives in the published formats (CIFAR binary
 * tar.gz made by GNU tar, gzipped IDX files, a fast.ai-style image tgz).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { CIFAR_VARIANTS, encodeCifar } from "../../src/data/cifar.js";
import { encodeIdx } from "../../src/data/idx.js";
import type { DownloadSpec } from "../../src/data/sources.js";
import type { ImageSplit } from "../../src/data/types.js";

/** One request the server saw. */
export interface Seen {
  path: string;
  range?: string;
  ifRange?: string;
  status: number;
}

/** How the server treats one path. */
export interface Behaviour {
  /** Close the connection after this many body bytes, for the first `times` full requests. */
  cutAt?: number;
  /** How many requests get cut (default 1). */
  times?: number;
  /** Answer this status instead of the file. */
  status?: number;
}

/** A running server. */
export interface Server {
  /** Base URL ending in "/". */
  url: string;
  /** Every request, in order. */
  seen: Seen[];
  /** Per-path behaviour; may be changed between requests. */
  behave: Record<string, Behaviour>;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Starts a file server on 127.0.0.1 for `files` (name -> bytes). */
export async function serve(files: Record<string, Buffer>): Promise<Server> {
  const seen: Seen[] = [];
  const behave: Record<string, Behaviour> = {};
  const cuts = new WeakMap<Behaviour, number>(); // per behaviour object: setting a new one starts over
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").split("?")[0]!.replace(/^\/+/, ""));
    const body = files[name];
    const b = behave[name] ?? {};
    const record = (status: number) =>
      seen.push({
        path: name,
        ...(req.headers.range ? { range: req.headers.range } : {}),
        ...(req.headers["if-range"] ? { ifRange: req.headers["if-range"] as string } : {}),
        status,
      });
    if (b.status) {
      record(b.status);
      res.writeHead(b.status, { "Content-Type": "text/plain" });
      res.end("injected failure\n");
      return;
    }
    if (!body) {
      record(404);
      res.writeHead(404);
      res.end("not found\n");
      return;
    }
    const etag = `"${createHash("md5").update(body).digest("hex")}"`;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const rangeOk = m && (!req.headers["if-range"] || req.headers["if-range"] === etag);
    if (m && rangeOk) {
      const start = Number(m[1]);
      if (start >= body.length) {
        record(416);
        res.writeHead(416, { "Content-Range": `bytes */${body.length}` });
        res.end();
        return;
      }
      record(206);
      res.writeHead(206, {
        "Content-Range": `bytes ${start}-${body.length - 1}/${body.length}`,
        "Content-Length": body.length - start,
        ETag: etag,
        "Accept-Ranges": "bytes",
      });
      res.end(body.subarray(start));
      return;
    }
    record(200);
    res.writeHead(200, { "Content-Length": body.length, ETag: etag, "Accept-Ranges": "bytes" });
    const done = cuts.get(b) ?? 0;
    if (b.cutAt !== undefined && done < (b.times ?? 1)) {
      cuts.set(b, done + 1);
      res.write(body.subarray(0, b.cutAt), () => {
        // FIN, not RST: the client gets every byte written, then a body shorter than announced.
        setTimeout(() => res.socket?.end(), 20);
      });
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    seen,
    behave,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A seeded byte generator (xorshift), so fixtures are deterministic. */
export function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A random CIFAR split of `count` 32×32×3 images with labels below `classes`. */
export function cifarSplit(count: number, classes: number, seed: number): ImageSplit {
  const images = new Uint8Array(bytes(count * 3072, seed));
  const labels = Uint8Array.from(bytes(count, seed + 1), (b) => b % classes);
  return { images, labels, count };
}

/** Runs GNU tar to pack `dir`'s entry `top` as a .tar.gz (the published archives are GNU tar's). */
export function tarGz(dir: string, top: string, format: "gnu" | "pax" = "gnu"): Buffer {
  const out = path.join(dir, `${top}.${format}.tar.gz`);
  const r = spawnSync("tar", [`--format=${format}`, "-czf", out, "-C", dir, top], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return fs.readFileSync(out);
}

/** The md5 of bytes, hex. */
export const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** A cifar-10-binary.tar.gz laid out like the published one, with `n` images per batch. */
export function makeCifar10(work: string, n: number) {
  const top = path.join(work, "src10", "cifar-10-batches-bin");
  fs.mkdirSync(top, { recursive: true });
  const splits: Record<string, ImageSplit> = {};
  const v = CIFAR_VARIANTS.cifar10;
  [...v.trainFiles, ...v.testFiles].forEach((f, i) => {
    splits[f] = cifarSplit(n, 10, 100 + i);
    fs.writeFileSync(path.join(top, f), encodeCifar(splits[f]!, v));
  });
  fs.writeFileSync(
    path.join(top, "batches.meta.txt"),
    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n",
  );
  fs.writeFileSync(path.join(top, "readme.html"), '<meta HTTP-EQUIV="REFRESH">\n');
  return { archive: tarGz(path.join(work, "src10"), "cifar-10-batches-bin"), splits };
}

/** A cifar-100-binary.tar.gz laid out like the published one. */
export function makeCifar100(
  work: string,
  nTrain: number,
  nTest: number,
  format: "gnu" | "pax" = "gnu",
) {
  const dir = path.join(work, `src100-${format}`);
  const top = path.join(dir, "cifar-100-binary");
  fs.mkdirSync(top, { recursive: true });
  const v = CIFAR_VARIANTS.cifar100;
  const train = cifarSplit(nTrain, 100, 7);
  const test = cifarSplit(nTest, 100, 8);
  fs.writeFileSync(path.join(top, "train.bin"), encodeCifar(train, v));
  fs.writeFileSync(path.join(top, "test.bin"), encodeCifar(test, v));
  fs.writeFileSync(path.join(top, "coarse_label_names.txt"), "aquatic_mammals\nfish\n");
  fs.writeFileSync(path.join(top, "fine_label_names.txt"), "apple\naquarium_fish\n");
  return { archive: tarGz(dir, "cifar-100-binary", format), train, test };
}

/** The four gzipped IDX files of an MNIST-format dataset with `n` train and `m` test images. */
export function makeIdx(n: number, m: number, seed: number): Record<string, Buffer> {
  const img = (k: number, s: number) =>
    gzipSync(Buffer.from(encodeIdx([k, 28, 28], new Uint8Array(bytes(k * 784, s)))));
  const lab = (k: number, s: number) =>
    gzipSync(
      Buffer.from(
        encodeIdx(
          [k],
          Uint8Array.from(bytes(k, s), (b) => b % 10),
        ),
      ),
    );
  return {
    "train-images-idx3-ubyte.gz": img(n, seed),
    "train-labels-idx1-ubyte.gz": lab(n, seed + 1),
    "t10k-images-idx3-ubyte.gz": img(m, seed + 2),
    "t10k-labels-idx1-ubyte.gz": lab(m, seed + 3),
  };
}

/**
 * The table entry `base` pointed at the local server: same names, layout and folder, each file's
 * URL under `url`, its size and md5 those of the served bytes (or `sums` where given).
 */
export function localSpec(
  base: DownloadSpec,
  url: string,
  files: Record<string, Buffer>,
  sums: Record<string, string> = {},
): DownloadSpec {
  return {
    ...base,
    files: base.files.map((f) => ({
      ...f,
      url: `${url}${f.name}`,
      bytes: files[f.name]!.length,
      checksum: {
        algorithm: "md5",
        hex: sums[f.name] ?? md5(files[f.name]!),
        source: "the test's generated file",
      },
    })),
  };
}
