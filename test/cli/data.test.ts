/**
 * `senet-lab data` as a user runs it (the real bin, a real local HTTP server): help per flag, a
 * bad name failing before any request, a mirror serving a file that fails the table's published
 * checksum, and `data list` on a folder.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/util/fs.js";
import { makeCifar10, makeIdx, md5, type Server, serve } from "../data/serve.js";

/** Runs the CLI asynchronously (the test's own server must keep answering meanwhile). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(PROJECT_ROOT, "bin", "senet-lab.js"), ...args],
      {
        env: { ...process.env, SENET_LAB_QUIET: "1", HTTP_PROXY: "", http_proxy: "", ...env },
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

let work: string;
let server: Server;
let archive: Buffer;
beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "senet-cli-data-"));
  archive = makeCifar10(work, 4).archive;
  server = await serve({ "cifar-10-binary.tar.gz": archive, ...makeIdx(3, 2, 1) });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

describe("senet-lab data", () => {
  it("is listed, and 'data get --help' documents every flag", async () => {
    const top = await cli(["--help"]);
    expect(top.out).toMatch(/\n {2}data +Download datasets/);
    const r = await cli(["data", "get", "--help"]);
    expect(r.code).toBe(0);
    for (const f of [
      "<name>",
      "--dir DIR",
      "--force",
      "--mirror URL",
      "--keep-archive",
      "--retries N",
    ])
      expect(r.out).toContain(f);
    expect(r.out).toContain("~/.cache/senet-lab/datasets");
  });

  it("an unknown name fails before any request, naming the valid ones", async () => {
    const before = server.seen.length;
    const r = await cli(["data", "get", "cifar-10", "--mirror", server.url, "--dir", work]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('got "cifar-10"');
    expect(r.err).toContain('"cifar100"');
    expect(server.seen.length).toBe(before);
  });

  it("a mirror's file that fails the published checksum is an error naming both sums", async () => {
    const dir = path.join(work, "root");
    const r = await cli(["data", "get", "cifar10", "--dir", dir, "--mirror", server.url], {
      CI: "1",
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `downloading cifar-10-binary.tar.gz (${(archive.length / 1000).toFixed(1)} kB) from ${server.url}cifar-10-binary.tar.gz`,
    );
    expect(r.err).toContain(
      "expected md5 c32a1d4ab5d03f1284b67883e8d87530 (published on https://www.cs.toronto.edu/~kriz/cifar.html)",
    );
    expect(r.err).toContain(`got ${md5(archive)}`);
    expect(fs.existsSync(path.join(dir, "cifar-10-batches-bin"))).toBe(false);

    const list = await cli(["data", "list", "--dir", dir]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^name +size +state +folder +notes/);
    expect(list.out).toMatch(/\ncifar10 +170\.1 MB +absent .*failed its checksum is kept/);
    expect(list.out).toMatch(/\nimagewoof +92\.6 MB +absent/);
    const json = JSON.parse((await cli(["data", "list", "--dir", dir, "--json"])).out) as {
      name: string;
    }[];
    expect(json.map((x) => x.name)).toEqual([
      "cifar10",
      "cifar100",
      "mnist",
      "fashion-mnist",
      "imagenette",
      "imagewoof",
    ]);
  });
});
