/**
 * The identity of a training run: a content hash of its resolved config and of the code that
 * trains it. Two runs with the same key compute the same numbers (same seed, same code, same
 * data), so a sweep that finds a finished run under the key reuses it instead of training again,
 * whichever notebook or folder asked for it first.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";
import { ATTENTION_KEY_READERS } from "../models/schema.js";
import { PROJECT_ROOT } from "./fs.js";

/**
 * The modules a run's numbers come from: the training loop (`runExperiment`) and the backend
 * loader. Their static import graph (the models and layers, the data pipeline, the kernels and
 * gradients, and what those import) is the training code; sweep orchestration, reports,
 * notebooks, downloads and weight import are outside it unless training imports them, so editing
 * them does not orphan finished runs.
 */
export const TRAINING_ENTRY_POINTS = ["src/train/run.ts", "src/backend/index.ts"] as const;

/** The native addon's sources (compiled, not imported, so no import graph reaches them). */
const NATIVE_SOURCES = ["native/src", "native/binding.gyp"] as const;

/** Installed package scopes whose versions decide the numbers (tfjs and its backends' kernels). */
const VERSIONED_SCOPES = ["@tensorflow"] as const;

function listFiles(root: string, rel: string, out: string[]): void {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return;
  if (fs.statSync(abs).isFile()) {
    out.push(rel);
    return;
  }
  for (const name of fs.readdirSync(abs).sort()) {
    if (name.startsWith(".")) continue;
    listFiles(root, path.posix.join(rel, name), out);
  }
}

const filesCache = new Map<string, string[]>();

/**
 * Every project file the training code consists of under `root`, sorted: the static import graph
 * of TRAINING_ENTRY_POINTS (esbuild's resolver, the one tsx runs them with; packages left out:
 * their versions are hashed instead) plus the native sources. Computed once per process and root
 * (about 0.2 s).
 */
export function trainingCodeFiles(root: string = PROJECT_ROOT): string[] {
  const hit = filesCache.get(root);
  if (hit) return hit;
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: [...TRAINING_ENTRY_POINTS],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outdir: "code-hash-out", // never written (write: false); esbuild wants one for two entries
    logLevel: "silent",
  });
  const files = Object.keys(result.metafile.inputs).map((f) => f.split(path.sep).join("/"));
  for (const p of NATIVE_SOURCES) listFiles(root, p, files);
  const sorted = [...new Set(files)].sort();
  filesCache.set(root, sorted);
  return sorted;
}

/** `name@version` of every installed package in VERSIONED_SCOPES under `root`, sorted. */
function packageVersions(root: string): string[] {
  const out: string[] = [];
  for (const scope of VERSIONED_SCOPES) {
    const dir = path.join(root, "node_modules", scope);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      const manifest = path.join(dir, name, "package.json");
      if (!fs.existsSync(manifest)) continue;
      const { version } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { version?: string };
      out.push(`${scope}/${name}@${version ?? "?"}`);
    }
  }
  return out;
}

const cache = new Map<string, string>();

/**
 * sha256 (hex) over the training code under `root` (default: this checkout): every file of
 * trainingCodeFiles by relative path and content, then the tfjs package versions installed.
 * Computed once per process and root.
 */
export function trainingCodeHash(root: string = PROJECT_ROOT): string {
  const hit = cache.get(root);
  if (hit) return hit;
  const h = createHash("sha256");
  for (const f of trainingCodeFiles(root)) {
    h.update(`${f}\0`);
    h.update(fs.readFileSync(path.join(root, f)));
    h.update("\0");
  }
  for (const v of packageVersions(root)) h.update(`${v}\0`);
  const hex = h.digest("hex");
  cache.set(root, hex);
  return hex;
}

/** JSON with object keys sorted at every level, so equal values always serialise the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as Record<string, unknown>)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The parameters of one attention type only (SE's reduction, squeeze, ...; SGE's groups), from
 * the model schema's ATTENTION_KEY_READERS: any other attention builds nothing from them. Keys
 * every attention reads (stages, integration, placement) stay in the key even without attention,
 * as they always have, so the content keys of finished runs do not change.
 */
const ONE_ATTENTION_KEYS = Object.entries(ATTENTION_KEY_READERS).filter(
  ([, readers]) => readers.length === 1,
);

/**
 * The part of a resolved config that decides a run's numbers: without `dataDir` (where the files
 * live), `backend` (recorded, but a run on another backend is not another experiment) and the
 * attention keys the chosen attention never reads (an SGE run's `reduction`), so that
 * `{attention: "sge", reduction: 8}` and `{attention: "sge"}` are the same run.
 */
export function effectiveConfig(resolvedConfig: Record<string, unknown>): Record<string, unknown> {
  const { dataDir: _d, backend: _b, ...rest } = resolvedConfig;
  const attention = rest.attention;
  if (typeof attention === "string") {
    for (const [k, readers] of ONE_ATTENTION_KEYS) {
      if (!(readers as readonly string[]).includes(attention)) delete rest[k];
    }
  }
  return rest;
}

/**
 * A run's content key: sha256 (hex, first 24 digits) of effectiveConfig(resolved config) and the
 * training code hash.
 */
export function runKey(
  resolvedConfig: Record<string, unknown>,
  codeHash = trainingCodeHash(),
): string {
  return createHash("sha256")
    .update(canonicalJson(effectiveConfig(resolvedConfig)))
    .update("\0")
    .update(codeHash)
    .digest("hex")
    .slice(0, 24);
}

/** What env.json records about the code that trained a run. */
export interface CodeInfo {
  /** trainingCodeHash() of the checkout that trained. */
  codeHash: string;
  /** `git rev-parse HEAD` of that checkout, null outside a git checkout. */
  commit: string | null;
  /** True when the training code had uncommitted changes (the commit alone does not describe it). */
  dirty: boolean | null;
}

let codeInfoCache: CodeInfo | undefined;

/** The code hash, commit and dirty flag of this checkout (git is asked once per process). */
export function describeCode(root: string = PROJECT_ROOT): CodeInfo {
  if (codeInfoCache) return codeInfoCache;
  let commit: string | null = null;
  let dirty: boolean | null = null;
  try {
    const git = (args: string[]) =>
      execFileSync("git", ["-C", root, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    commit = git(["rev-parse", "HEAD"]) || null;
    dirty = git(["status", "--porcelain", "--", ...trainingCodeFiles(root)]) !== "";
  } catch {
    // Not a git checkout (an npm install of the package): the code hash still identifies it.
  }
  codeInfoCache = { codeHash: trainingCodeHash(root), commit, dirty };
  return codeInfoCache;
}
