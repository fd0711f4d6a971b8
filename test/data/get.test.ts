/**
 * `data get` end to end against a real HTTP server on 127.0.0.1 (no mock of the network): archives
 * in the published formats are downloaded, resumed with Range after the server cuts a body short,
 * verified, unpacked atomically and then read by the ordinary loaders; a bad checksum, an HTTP
 * 500, an unreachable host, a full disk and an incomplete folder each fail with a clear error and
 * leave nothing under the dataset's final name.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CIFAR_VARIANTS, encodeCifar } from "../../src/data/cifar.js";
import { loadDataset } from "../../src/data/dataset.js";
import { getDataset, listDatasets, STAGING_DIR, UNPACK_PREFIX } from "../../src/data/get.js";
import { DATA_DIR_ENV, defaultDataRoot, locateDataset } from "../../src/data/registry.js";
import { DOWNLOADS } from "../../src/data/sources.js";
import { ConfigError, DatasetError, DownloadError } from "../../src/errors.js";
import {
  localSpec,
  makeCifar10,
  makeCifar100,
  makeIdx,
  md5,
  type Server,
  serve,
  tarGz,
} from "./serve.js";

let work: string;
let server: Server;
let c10: ReturnType<typeof makeCifar10>;
let c100: ReturnType<typeof makeCifar100>;
let mnist: Record<string, Buffer>;
let imagenette: Buffer;
const quiet = { progress: null, log: () => {}, env: {}, retryDelayMs: 10 } as const;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "senet-get-"));
  c10 = makeCifar10(work, 20);
  c100 = makeCifar100(work, 40, 10);
  mnist = makeIdx(30, 10, 5);
  const img = path.join(work, "srcnette", "imagenette2-160");
  for (const d of ["train/n01440764", "val/n01440764"]) {
    fs.mkdirSync(path.join(img, d), { recursive: true });
    fs.writeFileSync(path.join(img, d, "ILSVRC2012_val_00000293.JPEG"), Buffer.from([0xff, 0xd8]));
  }
  fs.writeFileSync(path.join(img, "noisy_imagenette.csv"), "path,noisy_labels_0\n");
  imagenette = tarGz(path.join(work, "srcnette"), "imagenette2-160");
  server = await serve({
    "cifar-10-binary.tar.gz": c10.archive,
    "cifar-100-binary.tar.gz": c100.archive,
    "imagenette2-160.tgz": imagenette,
    ...mnist,
  });
});

afterAll(async () => {
  await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const root = (name: string) => path.join(work, "roots", name);
const cifar10Spec = () =>
  localSpec(DOWNLOADS.cifar10, server.url, { "cifar-10-binary.tar.gz": c10.archive });
/** Every entry under `dir` whose name is a temporary or partial artefact. */
const leftovers = (dir: string) =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((n) => n.startsWith(UNPACK_PREFIX) || n.endsWith(".part"))
    : [];

describe("data get", () => {
  it("fetches cifar10, verifies it and the folder loads through loadDataset", async () => {
    const dir = root("c10");
    const r = await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() });
    expect(r.status).toBe("downloaded");
    expect(r.dir).toBe(path.join(dir, "cifar-10-batches-bin"));
    expect(r.files[0]!.digest).toBe(md5(c10.archive));
    expect(fs.readdirSync(r.dir).sort()).toEqual(
      [
        "batches.meta.txt",
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "readme.html",
        "test_batch.bin",
      ].sort(),
    );
    // Nothing temporary is left: no unpack folder, no archive, no staging folder.
    expect(leftovers(dir)).toEqual([]);
    expect(fs.existsSync(path.join(dir, STAGING_DIR))).toBe(false);

    expect(locateDataset("cifar10", dir)).toBe(r.dir);
    const ds = loadDataset("cifar10", { dataDir: dir, valFraction: 0 });
    expect(ds.train.count).toBe(100);
    expect(ds.test.count).toBe(20);
    expect(
      Buffer.from(ds.test.labels).equals(Buffer.from(c10.splits["test_batch.bin"]!.labels)),
    ).toBe(true);
    // Re-encoding what was loaded gives the served file back byte for byte.
    const again = encodeCifar(ds.test, CIFAR_VARIANTS.cifar10);
    expect(Buffer.from(again).equals(fs.readFileSync(path.join(r.dir, "test_batch.bin")))).toBe(
      true,
    );

    // A second get finds it whole and makes no request.
    const before = server.seen.length;
    const r2 = await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() });
    expect(r2.status).toBe("present");
    expect(server.seen.length).toBe(before);
  });

  it("resumes with a Range request when the server closes the connection mid-body", async () => {
    const dir = root("c10-cut");
    const name = "cifar-10-binary.tar.gz";
    const half = Math.floor(c10.archive.length / 2);
    server.behave[name] = { cutAt: half };
    const from = server.seen.length;
    try {
      const r = await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() });
      const reqs = server.seen.slice(from).filter((s) => s.path === name);
      expect(reqs.map((s) => s.status)).toEqual([200, 206]);
      // Resumed from what reached the disk: up to the cut (Node drops a body's unread buffer when
      // the connection closes early), never more.
      const from2 = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.range ?? "")?.[1]);
      expect(from2).toBeGreaterThan(0);
      expect(from2).toBeLessThanOrEqual(half);
      expect(reqs[1]!.ifRange).toBe(`"${md5(c10.archive)}"`);
      expect(r.files[0]!.attempts).toBe(2);
      expect(r.files[0]!.digest).toBe(md5(c10.archive));
      expect(loadDataset("cifar10", { dataDir: dir, valFraction: 0 }).train.count).toBe(100);
    } finally {
      delete server.behave[name];
    }
  });

  it("keeps a cut-short transfer and the next run resumes it", async () => {
    const dir = root("c10-resume");
    const name = "cifar-10-binary.tar.gz";
    const cut = 70_000;
    server.behave[name] = { cutAt: cut };
    const from = server.seen.length;
    try {
      const err = await getDataset("cifar10", {
        ...quiet,
        dir,
        spec: cifar10Spec(),
        attempts: 1,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DownloadError);
      const msg = (err as Error).message;
      expect(msg).toContain(`${server.url}${name}`);
      expect(msg).toMatch(
        /kept in .*cifar-10-binary\.tar\.gz\.part; running the same command again resumes/,
      );
      expect(fs.existsSync(path.join(dir, "cifar-10-batches-bin"))).toBe(false);
      const part = path.join(dir, STAGING_DIR, `${name}.part`);
      const kept = fs.statSync(part).size;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThanOrEqual(cut);
      const listed = listDatasets({ dir }).find((r) => r.name === "cifar10")!;
      expect(listed.state).toBe("absent");
      expect(listed.detail).toMatch(/partial download .* resumes it/);

      const r = await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() });
      const reqs = server.seen.slice(from).filter((s) => s.path === name);
      expect(reqs.map((s) => [s.status, s.range])).toEqual([
        [200, undefined],
        [206, `bytes=${kept}-`],
      ]);
      expect(r.files[0]!.resumedFrom).toBe(kept);
      expect(r.files[0]!.received).toBe(c10.archive.length - kept);
    } finally {
      delete server.behave[name];
    }
  });

  it("fetches cifar100 into the XDG cache folder, where locateDataset and loadDataset find it", async () => {
    const cache = path.join(work, "xdg");
    const saved = { xdg: process.env.XDG_CACHE_HOME, data: process.env[DATA_DIR_ENV] };
    process.env.XDG_CACHE_HOME = cache;
    delete process.env[DATA_DIR_ENV];
    try {
      const spec = localSpec(DOWNLOADS.cifar100, server.url, {
        "cifar-100-binary.tar.gz": c100.archive,
      });
      const r = await getDataset("cifar100", { ...quiet, env: { XDG_CACHE_HOME: cache }, spec });
      expect(defaultDataRoot({ XDG_CACHE_HOME: cache })).toBe(
        path.join(cache, "senet-lab", "datasets"),
      );
      expect(r.dir).toBe(path.join(cache, "senet-lab", "datasets", "cifar-100-binary"));
      expect(locateDataset("cifar100")).toBe(r.dir);
      const ds = loadDataset("cifar100", { valFraction: 0 });
      expect(ds.numClasses).toBe(100);
      expect(ds.train.count).toBe(40);
      expect(Buffer.from(ds.test.labels).equals(Buffer.from(c100.test.labels))).toBe(true);
    } finally {
      if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.xdg;
      if (saved.data !== undefined) process.env[DATA_DIR_ENV] = saved.data;
    }
  });

  it("unpacks a pax-format archive (long names through pax records) the same way", async () => {
    const pax = makeCifar100(path.join(work, "pax"), 5, 5, "pax");
    const s = await serve({ "cifar-100-binary.tar.gz": pax.archive });
    try {
      const dir = root("c100-pax");
      const spec = localSpec(DOWNLOADS.cifar100, s.url, { "cifar-100-binary.tar.gz": pax.archive });
      await getDataset("cifar100", { ...quiet, dir, spec });
      expect(loadDataset("cifar100", { dataDir: dir, valFraction: 0 }).test.count).toBe(5);
    } finally {
      await s.close();
    }
  });

  it("fetches the four gzipped IDX files of mnist and fashion-mnist, read as they are", async () => {
    for (const name of ["mnist", "fashion-mnist"] as const) {
      const dir = root(`idx-${name}`);
      const r = await getDataset(name, {
        ...quiet,
        dir,
        spec: localSpec(DOWNLOADS[name], server.url, mnist),
      });
      expect(r.dir).toBe(path.join(dir, name));
      expect(fs.readdirSync(r.dir).sort()).toEqual(Object.keys(mnist).sort());
      const ds = loadDataset(name, { dataDir: dir, valFraction: 0 });
      expect(ds.train.count).toBe(30);
      expect(ds.test.count).toBe(10);
      expect(ds.shape).toEqual([28, 28, 1]);
    }
  });

  it("fetches imagenette; data list says it is present and points to senet-lab eval", async () => {
    const dir = root("nette");
    const spec = localSpec(DOWNLOADS.imagenette, server.url, { "imagenette2-160.tgz": imagenette });
    const r = await getDataset("imagenette", { ...quiet, dir, spec });
    expect(fs.readdirSync(r.dir).sort()).toEqual(["noisy_imagenette.csv", "train", "val"]);
    const row = listDatasets({ dir }).find((x) => x.name === "imagenette")!;
    expect(row).toMatchObject({ state: "present", dir: r.dir });
    expect(row.detail).toContain(`senet-lab eval --data ${path.join(r.dir, "val")}`);
  });

  it("data list reports present, absent and corrupt folders", async () => {
    const dir = root("list");
    fs.mkdirSync(path.join(dir, "cifar-100-binary"), { recursive: true });
    fs.writeFileSync(path.join(dir, "cifar-100-binary", "train.bin"), Buffer.alloc(3074 * 2));
    const m = path.join(dir, "mnist");
    fs.mkdirSync(m, { recursive: true });
    for (const [f, b] of Object.entries(mnist)) fs.writeFileSync(path.join(m, f), b);
    const c10dir = path.join(dir, "cifar-10-batches-bin");
    fs.mkdirSync(c10dir);
    for (const f of [...CIFAR_VARIANTS.cifar10.trainFiles, ...CIFAR_VARIANTS.cifar10.testFiles])
      fs.writeFileSync(path.join(c10dir, f), Buffer.alloc(100)); // not whole 3073-byte records
    const rows = Object.fromEntries(listDatasets({ dir }).map((r) => [r.name, r]));
    expect(rows.mnist).toMatchObject({ state: "present", dir: m });
    expect(rows.cifar100!.state).toBe("corrupt");
    expect(rows.cifar100!.detail).toContain("lacks test.bin");
    expect(rows.cifar10!.state).toBe("corrupt");
    expect(rows.cifar10!.detail).toContain("data_batch_1.bin (100 bytes");
    expect(rows.imagewoof).toMatchObject({
      state: "absent",
      dir: path.join(dir, "imagewoof2-160"),
    });
    expect(rows.cifar10!.bytes).toBe(170_052_171);
  });
});

describe("data get failures leave nothing under the final name", () => {
  it("an unknown name is a ConfigError before any request", async () => {
    const before = server.seen.length;
    await expect(getDataset("cifar1000", { ...quiet, dir: root("x") })).rejects.toThrow(
      ConfigError,
    );
    await expect(getDataset("cifar1000", { ...quiet, dir: root("x") })).rejects.toThrow(
      /must be one of "cifar10", "cifar100", "mnist", "fashion-mnist", "imagenette", "imagewoof"; got "cifar1000"/,
    );
    expect(server.seen.length).toBe(before);
    expect(fs.existsSync(root("x"))).toBe(false);
  });

  it("a checksum mismatch keeps the file aside and names both sums", async () => {
    const dir = root("bad-sum");
    const wrong = "0".repeat(32);
    const spec = localSpec(
      DOWNLOADS.cifar10,
      server.url,
      { "cifar-10-binary.tar.gz": c10.archive },
      {
        "cifar-10-binary.tar.gz": wrong,
      },
    );
    const err = await getDataset("cifar10", { ...quiet, dir, spec }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).kind).toBe("checksum");
    const msg = (err as Error).message;
    const kept = path.join(dir, STAGING_DIR, "cifar-10-binary.tar.gz.corrupt");
    expect(msg).toContain(`expected md5 ${wrong}`);
    expect(msg).toContain(`got ${md5(c10.archive)}`);
    expect(msg).toContain(kept);
    expect(fs.readFileSync(kept).equals(c10.archive)).toBe(true);
    expect(fs.existsSync(path.join(dir, "cifar-10-batches-bin"))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    expect(leftovers(path.join(dir, STAGING_DIR))).toEqual([]);
    const row = listDatasets({ dir }).find((r) => r.name === "cifar10")!;
    expect(row.detail).toContain("failed its checksum is kept");
  });

  it("an HTTP 500 says the status and URL, and how to place the files by hand", async () => {
    const dir = root("500");
    const name = "cifar-10-binary.tar.gz";
    server.behave[name] = { status: 500 };
    const from = server.seen.length;
    try {
      const err = await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DownloadError);
      const msg = (err as Error).message;
      expect(msg).toContain(`HTTP 500 Internal Server Error from ${server.url}${name}`);
      expect(msg).toContain("To place cifar10 by hand: On a machine with internet: curl -LO");
      expect(msg).toContain(`tar xzf cifar-10-binary.tar.gz -C ${dir}`);
      expect(server.seen.slice(from)).toHaveLength(1); // a 500 is not retried
      expect(fs.existsSync(path.join(dir, "cifar-10-batches-bin"))).toBe(false);
      expect(leftovers(path.join(dir, STAGING_DIR))).toEqual([]);
    } finally {
      delete server.behave[name];
    }
  });

  it("an unreachable host names the URL that failed and the manual steps", async () => {
    const dir = root("offline");
    const spec = cifar10Spec();
    spec.files[0]!.url = "http://127.0.0.1:9/cifar-10-binary.tar.gz"; // the discard port: refused
    const err = await getDataset("cifar10", { ...quiet, dir, spec }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    const msg = (err as Error).message;
    expect(msg).toContain(
      "cannot download http://127.0.0.1:9/cifar-10-binary.tar.gz: connection refused",
    );
    expect(msg).toContain("ECONNREFUSED");
    expect(msg).toContain("To place cifar10 by hand");
    expect(msg).toContain("check md5 cifar-10-binary.tar.gz =");
    expect(fs.existsSync(path.join(dir, "cifar-10-batches-bin"))).toBe(false);
  });

  it("an existing incomplete folder is an error naming what it lacks, before any request; --force replaces it", async () => {
    const dir = root("partial");
    const c = path.join(dir, "cifar-10-batches-bin");
    fs.mkdirSync(c, { recursive: true });
    fs.writeFileSync(path.join(c, "data_batch_1.bin"), Buffer.alloc(3073));
    const before = server.seen.length;
    const err = await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toContain(
      `${c} already exists but is incomplete (it lacks data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin)`,
    );
    expect(server.seen.length).toBe(before);
    const r = await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec(), force: true });
    expect(r.status).toBe("downloaded");
    expect(loadDataset("cifar10", { dataDir: dir, valFraction: 0 }).train.count).toBe(100);
    expect(leftovers(dir)).toEqual([]);
  });

  it("a truncated archive with a matching sum fails to unpack and places nothing", async () => {
    const cut = c10.archive.subarray(0, Math.floor(c10.archive.length * 0.6));
    const s = await serve({ "cifar-10-binary.tar.gz": cut });
    try {
      const dir = root("trunc");
      const spec = localSpec(DOWNLOADS.cifar10, s.url, { "cifar-10-binary.tar.gz": cut });
      const err = await getDataset("cifar10", { ...quiet, dir, spec }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DownloadError);
      expect((err as DownloadError).kind).toBe("archive");
      expect((err as Error).message).toMatch(/not a valid gzip file, or is damaged|truncated/);
      expect(fs.existsSync(path.join(dir, "cifar-10-batches-bin"))).toBe(false);
      expect(leftovers(dir)).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it("a full disk (writes to /dev/full fail with ENOSPC) is a disk error and removes the partial file", async () => {
    if (!fs.existsSync("/dev/full")) return;
    const dir = root("full");
    const staging = path.join(dir, STAGING_DIR);
    fs.mkdirSync(staging, { recursive: true });
    const name = "cifar-10-binary.tar.gz";
    // The partial file is a link to /dev/full, which every write fails with ENOSPC.
    fs.symlinkSync("/dev/full", path.join(staging, `${name}.part`));
    fs.writeFileSync(
      path.join(staging, `${name}.part.json`),
      JSON.stringify({ url: `${server.url}${name}` }),
    );
    const err = await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).kind).toBe("disk");
    expect((err as Error).message).toContain("no space left on the device");
    expect((err as Error).message).toContain("the partial file was removed");
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("ENOSPC");
    expect(fs.existsSync(path.join(staging, `${name}.part`))).toBe(false);
    expect(fs.existsSync(path.join(dir, "cifar-10-batches-bin"))).toBe(false);
  });

  it("too little free space fails before any request", async () => {
    const dir = root("space");
    const spec = cifar10Spec();
    spec.files[0]!.bytes = 1e17;
    const before = server.seen.length;
    await expect(getDataset("cifar10", { ...quiet, dir, spec })).rejects.toThrow(
      /not enough free space in .*: the download and its unpacked copy need about 200000\.0 TB/,
    );
    expect(server.seen.length).toBe(before);
  });

  it("an unpack folder left by a killed run is removed; a live one's lock makes a second run wait", async () => {
    const dir = root("stale");
    fs.mkdirSync(dir, { recursive: true });
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const stale = path.join(dir, `${UNPACK_PREFIX}.cifar10.${dead}.abcd`);
    fs.mkdirSync(path.join(stale, "cifar-10-batches-bin"), { recursive: true });
    fs.mkdirSync(path.join(dir, STAGING_DIR), { recursive: true });
    const lockFile = path.join(dir, STAGING_DIR, "cifar10.lock");
    fs.writeFileSync(lockFile, `${process.ppid}\n`); // a live process that is not us
    await expect(getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() })).rejects.toThrow(
      new RegExp(`another 'senet-lab data get cifar10' \\(pid ${process.ppid}\\)`),
    );
    fs.writeFileSync(lockFile, `${dead}\n`); // its owner is gone: taken over
    await getDataset("cifar10", { ...quiet, dir, spec: cifar10Spec() });
    expect(fs.existsSync(stale)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe("locateDataset on an incomplete folder (issue 14 item 8)", () => {
  it("names the missing files instead of 'not found'", () => {
    const dir = root("incomplete");
    const c = path.join(dir, "cifar-10-batches-bin");
    fs.mkdirSync(c, { recursive: true });
    for (const f of ["data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"])
      fs.writeFileSync(path.join(c, f), Buffer.alloc(3073));
    let msg = "";
    try {
      locateDataset("cifar10", dir);
    } catch (err) {
      expect(err).toBeInstanceOf(DatasetError);
      msg = (err as Error).message;
    }
    expect(msg).toContain(
      `dataset "cifar10" is incomplete: ${c} lacks data_batch_3.bin, data_batch_4.bin, data_batch_5.bin`,
    );
    expect(msg).not.toContain("not found");
    expect(msg).toContain("senet-lab data get cifar10");
    // Given the CIFAR folder itself, the same.
    expect(() => locateDataset("cifar10", c)).toThrow(`${c} lacks data_batch_3.bin`);
    // A folder with none of the files is still "not found".
    expect(() => locateDataset("cifar10", root("empty-root"))).toThrow(/"cifar10" not found/);
  });
});
