/**
 * Every error senet-lab raises on purpose is a SenetLabError subclass (src/errors.ts), so a
 * caller can tell a user mistake (ConfigError, DatasetError, ...) from a bug (InternalError).
 * Read from the sources: no `throw new Error(` and no `throw new TypeError(` outside strings of
 * browser code.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/util/fs.js";

function listTs(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listTs(p, out);
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

describe("typed errors", () => {
  it("src/ throws no plain Error", () => {
    const plain: string[] = [];
    for (const f of listTs(path.join(PROJECT_ROOT, "src"))) {
      fs.readFileSync(f, "utf8")
        .split("\n")
        .forEach((line, i) => {
          // Code inside a string (the Plotly loader shipped to the browser) is not ours to type.
          const code = line.replace(/`[^`]*`|"(?:[^"\\]|\\.)*"/g, '""');
          if (/throw new (Type)?Error\(/.test(code)) {
            plain.push(`${path.relative(PROJECT_ROOT, f)}:${i + 1}`);
          }
        });
    }
    expect(plain).toEqual([]);
  });
});
