import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { appendJsonl, readJsonl, writeFileAtomic, writeJsonAtomic } from "../../src/util/fs.js";

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
