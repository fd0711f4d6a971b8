#!/usr/bin/env node
/**
 * Builds the oneDNN addon (native/) with node-gyp. Run by `npm install`/`npm ci` and by
 * `senet-lab setup`. It never fails the install: when g++, libdnnl-dev, Node's headers or
 * node-addon-api are missing, or the compile fails, it prints one line saying why, writes the
 * reason to native/build-status.json (read by src/backend/onednn.ts) and exits 0.
 * SENET_LAB_SKIP_NATIVE=1 skips the build (recorded as the reason); SENET_LAB_NATIVE_STATUS
 * moves the status file (tests).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { nativeSourceHash } from "../src/backend/native-source-hash.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nativeDir = path.join(root, "native");
const statusFile = process.env.SENET_LAB_NATIVE_STATUS ?? path.join(nativeDir, "build-status.json");
const addonFile = path.join(nativeDir, "build", "Release", "senet_onednn.node");
const require = createRequire(import.meta.url);

function writeStatus(status) {
  mkdirSync(path.dirname(statusFile), { recursive: true });
  const tmp = `${statusFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2)}\n`);
  renameSync(tmp, statusFile);
}

function finish(built, reason, log) {
  let sourceHash;
  try {
    sourceHash = nativeSourceHash(nativeDir);
  } catch {}
  writeStatus(built ? { built, addon: addonFile, sourceHash } : { built, reason, log });
  console.log(
    built
      ? `[senet-lab] oneDNN addon built: ${path.relative(root, addonFile)}`
      : `[senet-lab] oneDNN addon not built: ${reason}`,
  );
  process.exit(0);
}

const lockDir = path.join(nativeDir, ".build-lock");

/**
 * Two builds in one checkout (npm ci while `senet-lab setup` runs, parallel tests) would delete
 * each other's objects: hold a lock directory; a second build waits for the first and reports it.
 */
function acquireLock() {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));
      return true;
    } catch (err) {
      if (err.code !== "EEXIST") return true; // cannot lock (read-only?): build anyway
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > 10 * 60_000) {
          rmSync(lockDir, { recursive: true, force: true }); // stale: its build died
          continue;
        }
      } catch {
        continue;
      }
      if (Date.now() > deadline) return false;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      if (!existsSync(lockDir)) return "waited";
    }
  }
}

function which(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;
}

/** node-gyp: the one npm passes to lifecycle scripts, else npm's own copy next to node. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
    "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
    "/usr/share/nodejs/node-gyp/bin/node-gyp.js",
  ];
  try {
    candidates.push(require.resolve("node-gyp/bin/node-gyp.js"));
  } catch {}
  return candidates.find((c) => c && existsSync(c));
}

function nodeHeaders() {
  const dirs = [
    process.env.npm_config_nodedir,
    path.join(path.dirname(process.execPath), ".."),
    "/usr",
  ];
  return dirs.find((d) => d && existsSync(path.join(d, "include", "node", "node_api.h")));
}

function main() {
  if (process.env.SENET_LAB_SKIP_NATIVE === "1")
    finish(false, "SENET_LAB_SKIP_NATIVE=1 skipped the build");
  if (os.platform() !== "linux")
    finish(false, `only Linux builds are supported (this is ${os.platform()})`);
  if (!which("g++") || !which("make")) {
    finish(
      false,
      "g++ or make is missing (Debian: apt-get install -y g++ make, or run `senet-lab setup`)",
    );
  }
  if (!existsSync("/usr/include/oneapi/dnnl/dnnl.hpp")) {
    finish(
      false,
      "oneDNN headers are missing (Debian: apt-get install -y libdnnl-dev, or run `senet-lab setup`)",
    );
  }
  const headers = nodeHeaders();
  if (!headers)
    finish(
      false,
      "Node's C headers (include/node/node_api.h) were not found next to node or in /usr",
    );
  try {
    require.resolve("node-addon-api");
  } catch {
    finish(false, "node-addon-api is not installed (run npm install)");
  }
  const gyp = findNodeGyp();
  if (!gyp) finish(false, "node-gyp was not found (it ships with npm)");
  const lock = acquireLock();
  if (lock === false)
    finish(false, "another build of the addon held native/.build-lock for over 10 minutes");
  if (lock === "waited") {
    // Another process just built it; report its outcome instead of rebuilding under it.
    if (existsSync(addonFile)) {
      try {
        require(addonFile);
        finish(true);
      } catch {}
    }
  }
  const jobs = String(Math.max(1, os.availableParallelism()));
  const r = spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${headers}`, "--jobs", jobs], {
    cwd: nativeDir,
    encoding: "utf8",
    env: { ...process.env, npm_config_nodedir: headers },
  });
  const log = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (r.status !== 0 || !existsSync(addonFile)) {
    const firstError =
      log.split("\n").find((l) => /error/i.test(l)) ?? `node-gyp exited ${r.status}`;
    finish(false, `compile failed: ${firstError.trim()}`, log.slice(-4000));
  }
  // Loading proves libdnnl.so resolves at run time too.
  try {
    require(addonFile);
  } catch (err) {
    finish(false, `built, but it does not load: ${err instanceof Error ? err.message : err}`);
  }
  finish(true);
}

try {
  main();
} catch (err) {
  try {
    finish(false, `build script error: ${err instanceof Error ? err.message : err}`);
  } catch {
    process.exit(0);
  }
}
