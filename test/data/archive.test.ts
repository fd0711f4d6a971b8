/**
 * The tar.gz reader against archives GNU tar writes (gnu and pax formats, long names, empty
 * files, nested folders, a symlink it skips), and the archives it must refuse: entries escaping
 * the target folder, a damaged header, a truncated stream.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractTarGz } from "../../src/data/archive.js";
import { DownloadError } from "../../src/errors.js";
import { bytes } from "./serve.js";

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "senet-tar-"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Lists every file under `dir` as "relative/path:size". */
function tree(dir: string, at = ""): string[] {
  return fs
    .readdirSync(path.join(dir, at), { withFileTypes: true })
    .flatMap((e) => {
      const rel = at ? `${at}/${e.name}` : e.name;
      if (e.isDirectory()) return [`${rel}/`, ...tree(dir, rel)];
      return [`${rel}:${fs.statSync(path.join(dir, rel)).size}`];
    })
    .sort();
}

/** A 512-byte ustar header for `name` with a correct checksum. */
function header(name: string, size: number, type = "0"): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, "utf8");
  h.write("0000644\0", 100);
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  h.write(type, 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}

describe("extractTarGz", () => {
  for (const format of ["gnu", "pax"] as const) {
    it(`unpacks what GNU tar --format=${format} writes, long names included`, async () => {
      const src = path.join(work, `src-${format}`);
      const long = `${"a".repeat(60)}/${"b".repeat(70)}/${"c".repeat(80)}.bin`;
      fs.mkdirSync(path.join(src, "top", path.dirname(long)), { recursive: true });
      fs.writeFileSync(path.join(src, "top", long), bytes(1234, 1));
      fs.writeFileSync(path.join(src, "top", "empty.txt"), "");
      fs.writeFileSync(path.join(src, "top", "block.bin"), bytes(1024, 2));
      fs.mkdirSync(path.join(src, "top", "emptydir"));
      fs.symlinkSync("block.bin", path.join(src, "top", "link"));
      const archive = path.join(work, `t-${format}.tar.gz`);
      const r = spawnSync("tar", [`--format=${format}`, "-czf", archive, "-C", src, "top"]);
      expect(r.status).toBe(0);
      const out = path.join(work, `out-${format}`);
      const res = await extractTarGz(archive, out);
      expect(res.files).toBe(3);
      expect(res.bytes).toBe(1234 + 1024);
      expect(res.skipped).toEqual(["top/link"]);
      expect(tree(out)).toContain(`top/${long}:1234`);
      expect(tree(out)).toEqual(
        expect.arrayContaining(["top/", "top/empty.txt:0", "top/block.bin:1024", "top/emptydir/"]),
      );
      expect(fs.readFileSync(path.join(out, "top", long)).equals(bytes(1234, 1))).toBe(true);
    });
  }

  it("refuses an entry that would land outside the target folder", async () => {
    for (const evil of ["../evil.txt", "/etc/evil.txt", "top/../../evil.txt"]) {
      const archive = path.join(work, "evil.tar.gz");
      fs.writeFileSync(
        archive,
        gzipSync(
          Buffer.concat([
            header(evil, 3),
            Buffer.from("hi\n"),
            Buffer.alloc(509),
            Buffer.alloc(1024),
          ]),
        ),
      );
      const out = path.join(work, "evil-out", "inner");
      await expect(extractTarGz(archive, out)).rejects.toThrow(
        `entry ${JSON.stringify(evil)} would be written outside the target folder`,
      );
      expect(fs.existsSync(path.join(work, "evil-out", "evil.txt"))).toBe(false);
    }
  });

  it("names a damaged header and a truncated archive", async () => {
    const good = Buffer.concat([
      header("f.bin", 600),
      bytes(600, 3),
      Buffer.alloc(424),
      Buffer.alloc(1024),
    ]);
    const bad = Buffer.from(good);
    bad[10] = 0x41; // the name changes; the stored checksum no longer matches
    const a1 = path.join(work, "bad.tar.gz");
    fs.writeFileSync(a1, gzipSync(bad));
    const e1 = await extractTarGz(a1, path.join(work, "bad-out")).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(DownloadError);
    expect((e1 as Error).message).toContain("bad header checksum at byte 0");

    const a2 = path.join(work, "short.tar.gz");
    fs.writeFileSync(a2, gzipSync(good.subarray(0, 800)));
    await expect(extractTarGz(a2, path.join(work, "short-out"))).rejects.toThrow(
      /truncated: the archive ends inside "f\.bin" at byte 800/,
    );
    const a3 = path.join(work, "cut.tar.gz");
    const gz = gzipSync(good);
    fs.writeFileSync(a3, gz.subarray(0, gz.length - 10));
    await expect(extractTarGz(a3, path.join(work, "cut-out"))).rejects.toThrow(
      /is not a valid gzip file, or is damaged/,
    );
    const a4 = path.join(work, "plain.tar.gz");
    fs.writeFileSync(a4, "not gzip at all");
    await expect(extractTarGz(a4, path.join(work, "plain-out"))).rejects.toThrow(
      /plain\.tar\.gz is not a valid gzip file/,
    );
  });
});
