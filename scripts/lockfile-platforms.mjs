#!/usr/bin/env node
/**
 * Completes package-lock.json with the other platforms' optional binaries.
 *
 * Why: packages such as biome, esbuild and rollup ship one optional dependency per platform. The
 * npm registry these machines reach serves only this platform's builds, so `npm install` writes a
 * lockfile without the others, and `npm ci` (npm 11) then rejects that lockfile as out of sync
 * ("Missing: @biomejs/cli-darwin-x64@ from lock file"). An entry with the pinned version is all
 * `npm ci` needs: it never installs another platform's binary. Run after changing dependencies:
 * `npm run lock`. `--check` only reports (exit 1 if entries are missing).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const file = path.join(root, "package-lock.json");
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const packages = lock.packages;

/** Where npm would look for `name` required from the package at `from` (nested, then hoisted). */
function resolves(from, name) {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ""}node_modules/${name}`;
    if (packages[candidate]) return true;
    if (!dir) return false;
    const i = dir.lastIndexOf("/node_modules/");
    dir = i < 0 ? "" : dir.slice(0, i);
  }
}

const added = [];
const skipped = [];
for (const [where, pkg] of Object.entries(packages)) {
  if (where === "") continue;
  for (const [name, spec] of Object.entries(pkg.optionalDependencies ?? {})) {
    if (resolves(where, name)) continue;
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec)) {
      skipped.push(`${name}@${spec} (from ${where}: not a pinned version)`);
      continue;
    }
    const entry = { version: spec, optional: true };
    if (pkg.dev) entry.dev = true;
    packages[`node_modules/${name}`] = entry;
    added.push(`${name}@${spec}`);
  }
}

if (process.argv.includes("--check")) {
  if (added.length) {
    console.error(`package-lock.json lacks ${added.length} platform entries: run \`npm run lock\``);
    process.exit(1);
  }
  process.exit(0);
}
if (added.length) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) =>
      a === "" ? -1 : b === "" ? 1 : a.localeCompare(b),
    ),
  );
  fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(
  `lockfile: added ${added.length} other-platform entries${skipped.length ? `; could not add: ${skipped.join(", ")}` : ""}`,
);
