/**
 * The addon's build never fails an install, and a missing addon makes the backend report
 * itself unavailable with the reason (checked in child processes with a fake toolchain/path).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..");

describe("onednn availability", () => {
  it("the build script exits 0 and records why when g++ is missing", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "senet-native-"));
    const status = path.join(dir, "status.json");
    // A PATH without g++/make (node itself is run by absolute path).
    const r = spawnSync(process.execPath, [path.join(root, "scripts", "build-native.mjs")], {
      env: { ...process.env, PATH: dir, SENET_LAB_NATIVE_STATUS: status },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(/not built: g\+\+ or make is missing/);
    const s = JSON.parse(readFileSync(status, "utf8")) as { built: boolean; reason: string };
    expect(s.built).toBe(false);
    expect(s.reason).toMatch(/g\+\+ or make is missing/);
  });

  it("SENET_LAB_SKIP_NATIVE=1 skips the build and says so", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "senet-native-"));
    const status = path.join(dir, "status.json");
    const r = spawnSync(process.execPath, [path.join(root, "scripts", "build-native.mjs")], {
      env: { ...process.env, SENET_LAB_SKIP_NATIVE: "1", SENET_LAB_NATIVE_STATUS: status },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(status, "utf8")).reason).toMatch(/SENET_LAB_SKIP_NATIVE/);
  });

  it("a missing addon: nativeBuildStatus and registerOnednnBackend give the recorded reason", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "senet-native-"));
    const status = path.join(dir, "status.json");
    spawnSync(process.execPath, [path.join(root, "scripts", "build-native.mjs")], {
      env: { ...process.env, SENET_LAB_SKIP_NATIVE: "1", SENET_LAB_NATIVE_STATUS: status },
    });
    const script = `
      const m = await import(${JSON.stringify(path.join(root, "src", "backend", "onednn.ts"))});
      const s = m.nativeBuildStatus();
      let err = "";
      try { await m.registerOnednnBackend(1); } catch (e) { err = e.message; }
      console.log(JSON.stringify({ s, err }));`;
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: root,
        env: {
          ...process.env,
          SENET_LAB_ONEDNN_ADDON: path.join(dir, "missing.node"),
          SENET_LAB_NATIVE_STATUS: status,
        },
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as {
      s: { built: boolean; reason: string };
      err: string;
    };
    expect(out.s.built).toBe(false);
    expect(out.s.reason).toMatch(/not built \(SENET_LAB_SKIP_NATIVE=1 skipped the build\)/);
    expect(out.err).toBe(out.s.reason);
  });
});
