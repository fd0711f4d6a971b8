/**
 * The layering of src/: notebook → experiments → sweep → train → models → layers → ops, with
 * backend beside ops (it implements ops' kernels). Read from the import statements themselves:
 * no import circle between files, nothing in src/ imports from outside it, nothing reaches
 * into a backend's internals from above (only src/backend/index.ts, the subpath), and the
 * model and training code imports no backend at all, only tfjs and our ops.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/util/fs.js";

const SRC = path.join(PROJECT_ROOT, "src");

function listTs(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listTs(p, out);
    else if (/\.(ts|mts)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Relative specifiers a file imports (static, re-export and dynamic), type-only ones included. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const specs: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;
  for (const m of text.matchAll(re)) {
    const s = m[1] ?? m[2];
    if (s?.startsWith(".")) specs.push(s);
  }
  return specs;
}

/** src-relative path of what `spec` in `from` resolves to (.js → .ts). */
function resolve(from: string, spec: string): string {
  const abs = path
    .resolve(path.dirname(from), spec)
    .replace(/\.js$/, ".ts")
    .replace(/\.mjs$/, ".mts");
  return path.relative(SRC, abs).split(path.sep).join("/");
}

const files = listTs(SRC).map((f) => path.relative(SRC, f).split(path.sep).join("/"));
const graph = new Map<string, string[]>(
  files.map((f) => [f, importsOf(path.join(SRC, f)).map((s) => resolve(path.join(SRC, f), s))]),
);

/** Strongly connected components with more than one file (or a file importing itself). */
function cycles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(c.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return out;
}

const top = (f: string) => (f.includes("/") ? f.slice(0, f.indexOf("/")) : f);

describe("src/ layering", () => {
  it("the import graph was read (sanity: the backend index imports its loaders)", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get("backend/index.ts")).toContain("backend/loaders.ts");
  });

  it("has no import circle", () => {
    expect(cycles()).toEqual([]);
  });

  it("imports nothing from outside src/", () => {
    const outside = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => d.startsWith("..")).map((d) => `${f} → ${d}`),
    );
    expect(outside).toEqual([]);
  });

  it("reaches a backend only through src/backend/index.ts", () => {
    const inner = [...graph].flatMap(([f, deps]) =>
      top(f) === "backend"
        ? []
        : deps
            .filter((d) => top(d) === "backend" && d !== "backend/index.ts")
            .map((d) => `${f} → ${d}`),
    );
    expect(inner).toEqual([]);
  });

  it("models, layers and ops import no backend; the backend imports only ops, errors and util", () => {
    const bad = [...graph].flatMap(([f, deps]) => {
      const t = top(f);
      const allowed =
        t === "backend"
          ? ["backend", "ops", "errors.ts", "util"]
          : t === "models" || t === "layers" || t === "ops"
            ? ["models", "layers", "ops", "complexity", "errors.ts", "util", "data"]
            : null;
      if (!allowed) return [];
      const layerOk = (d: string) =>
        t === "ops" ? ["ops", "errors.ts", "util"].includes(top(d)) : allowed.includes(top(d));
      return deps.filter((d) => !layerOk(d)).map((d) => `${f} → ${d}`);
    });
    expect(bad).toEqual([]);
  });
});
