import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CorruptFileError, OutputPathError, SenetLabError } from "../../src/errors.js";
import {
  appendJsonl,
  checkWritableDir,
  checkWritableFile,
  PROJECT_ROOT,
  readJsonIfExists,
  readJsonl,
  writeFileAtomic,
  writeJsonAtomic,
} from "../../src/util/fs.js";
import { HAS_SETPRIV, IS_ROOT, NOBODY } from "./nobody.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-fs-"));

describe("atomic files", () => {
  it("writes through a temporary file and leaves nothing else behind", () => {
    const f = path.join(dir, "a", "b.json");
    writeJsonAtomic(f, { x: 1 });
    writeFileAtomic(f, "replaced");
    expect(fs.readFileSync(f, "utf8")).toBe("replaced");
    expect(fs.readdirSync(path.dirname(f))).toEqual(["b.json"]);
  });

  it("readJsonl drops a truncated final line but not corruption in the middle", () => {
    const f = path.join(dir, "m.jsonl");
    appendJsonl(f, { epoch: 1 });
    appendJsonl(f, { epoch: 2 });
    fs.appendFileSync(f, '{"epoch": 3, "lo');
    expect(readJsonl(f)).toEqual([{ epoch: 1 }, { epoch: 2 }]);
    fs.writeFileSync(f, '{"epoch": 1}\n{bad\n{"epoch": 3}\n');
    expect(() => readJsonl(f)).toThrow();
  });
});

describe("unreadable JSON and unwritable outputs (issue 14)", () => {
  it("readJsonIfExists names a truncated or empty file in a CorruptFileError", () => {
    const f = path.join(dir, "summary.json");
    fs.writeFileSync(f, JSON.stringify({ status: "completed", testTop1: 0.9 }).slice(0, 12));
    let err: unknown;
    try {
      readJsonIfExists(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptFileError);
    expect(err).toBeInstanceOf(SenetLabError);
    const c = err as CorruptFileError;
    expect(c.file).toBe(f);
    expect(c.message).toContain(f);
    expect(c.reason).toMatch(/^not valid JSON \(.*; 12 bytes\)$/);
    expect(c.cause).toBeInstanceOf(SyntaxError);
    expect(c.message).not.toContain("\n");
    fs.writeFileSync(f, "");
    expect(() => readJsonIfExists(f)).toThrow(/is damaged: the file is empty/);
    expect(readJsonIfExists(path.join(dir, "absent.json"))).toBeUndefined();
  });

  it("checkWritableDir names a file, a path under a file, and accepts a new folder", () => {
    const file = path.join(dir, "plain-file");
    fs.writeFileSync(file, "x");
    expect(() => checkWritableDir(file, "--out")).toThrow(OutputPathError);
    expect(() => checkWritableDir(file, "--out")).toThrow(
      `--out "${file}" cannot be written: it is a file, not a folder`,
    );
    const under = path.join(file, "a", "b");
    expect(() => checkWritableDir(under, "--out")).toThrow(
      `--out "${under}" cannot be written: "${file}" is a file, not a folder`,
    );
    const fresh = path.join(dir, "new", "deeper");
    checkWritableDir(fresh, "--out");
    expect(fs.existsSync(path.join(dir, "new"))).toBe(false); // nothing created
    expect(fs.readdirSync(dir).filter((n) => n.includes("probe"))).toEqual([]);
    expect(() => checkWritableFile(dir, "--out")).toThrow("it is a folder, not a file");
    expect(() => checkWritableFile(path.join(file, "x.ipynb"), "--out")).toThrow(
      `"${file}" is a file, not a folder`,
    );
  });

  // Root ignores permission bits (and no bind mount is available to make a read-only
  // filesystem), so as root the check runs in a child dropped to nobody with setpriv; without
  // setpriv the read-only case cannot be simulated and is skipped.
  it.skipIf(IS_ROOT && !HAS_SETPRIV)(
    "checkWritableDir refuses a read-only folder (chmod 0555)",
    () => {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), "senet-ro-"));
      fs.chmodSync(base, 0o755);
      const ro = path.join(base, "read-only");
      fs.mkdirSync(ro);
      fs.chmodSync(ro, 0o555);
      const target = path.join(ro, "sweep");
      const check = (p: string): string => {
        if (!IS_ROOT) {
          try {
            checkWritableDir(p, "--out");
            return "ok";
          } catch (e) {
            return (e as Error).message;
          }
        }
        const code = `const m = await import(${JSON.stringify(path.join(PROJECT_ROOT, "src/util/fs.ts"))}); try { m.checkWritableDir(${JSON.stringify(p)}, "--out"); console.log("ok"); } catch (e) { console.log(e.message); }`;
        const r = spawnSync(
          "setpriv",
          [...NOBODY, "env", "HOME=/tmp", process.execPath, "--import", "tsx", "-e", code],
          { cwd: PROJECT_ROOT, encoding: "utf8" },
        );
        return r.stdout.trim() || r.stderr;
      };
      try {
        expect(check(target)).toBe(
          `--out "${target}" cannot be written: permission denied (in "${ro}", its nearest existing folder)`,
        );
        expect(check(ro)).toBe(`--out "${ro}" cannot be written: permission denied`);
      } finally {
        fs.chmodSync(ro, 0o755);
        fs.rmSync(base, { recursive: true, force: true });
      }
    },
  );
});
