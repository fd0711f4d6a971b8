/**
 * Two `senet-lab sweep run` processes on one folder at once (as on a shared disk): each run is
 * trained by exactly one of them; a diverging run is a result, not a stop; and a spec that is
 * wrong, or that no longer matches the folder, fails before anything trains.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/util/fs.js";
import { tinyBase } from "./support.js";

const BIN = path.join(PROJECT_ROOT, "bin", "senet-lab.js");
const ENV = { ...process.env, SENET_LAB_BACKEND: "wasm", SENET_LAB_QUIET: "1" };
const SPEC = {
  name: "concurrent",
  base: tinyBase(),
  grid: { lr: [0.05, 1e9] },
  seeds: [1, 2],
};
const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-concurrent-"));

function writeSpec(name: string, spec: unknown): string {
  const f = path.join(root, name);
  fs.writeFileSync(f, JSON.stringify(spec));
  return f;
}

function cli(args: string[]): Promise<{ code: number | null; out: string; seconds: number }> {
  const t0 = performance.now();
  const c = spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, env: ENV });
  let out = "";
  c.stdout.on("data", (d) => {
    out += d;
  });
  c.stderr.on("data", (d) => {
    out += d;
  });
  return new Promise((resolve) =>
    c.on("close", (code) => resolve({ code, out, seconds: (performance.now() - t0) / 1000 })),
  );
}

/** Runs a process trained itself, from its "<label>] completed|diverged: worker" lines. */
function trained(out: string): string[] {
  return [...out.matchAll(/^\[\d\/4 ([^\]]+)\] (?:completed|diverged): worker/gm)].map(
    (m) => m[1]!,
  );
}

/** Runs whose first epoch a process's workers actually trained (the training loop's own lines). */
function firstEpochs(out: string): string[] {
  return [...out.matchAll(/^\[\d\/4 ([^\]]+)\] epoch 1\/2/gm)].map((m) => m[1]!);
}

describe("sweep run", () => {
  const out = path.join(root, "sweep");

  it("shares a folder between two concurrent processes without training a run twice", async () => {
    const spec = writeSpec("spec.json", SPEC);
    const args = ["sweep", "run", spec, "--out", out, "--workers", "1"];
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    const ta = trained(a.out);
    const tb = trained(b.out);
    console.log(`process A trained ${ta.join(", ")}; B trained ${tb.join(", ")}`);
    // Each run's first epoch appears in exactly one of the two outputs.
    expect([...firstEpochs(a.out), ...firstEpochs(b.out)].sort()).toEqual([
      "lr=0.05 seed=1",
      "lr=0.05 seed=2",
      "lr=1000000000 seed=1",
      "lr=1000000000 seed=2",
    ]);
    expect([...ta, ...tb].sort()).toEqual([
      "lr=0.05 seed=1",
      "lr=0.05 seed=2",
      "lr=1000000000 seed=1",
      "lr=1000000000 seed=2",
    ]);
    const status = await cli(["sweep", "status", out]);
    expect(status.out).toContain("4 runs: 4 done, 0 running, 0 failed, 0 missing");
    expect(status.out).toMatch(/done\s+lr=1000000000__seed=2\s+diverged/);
    const table = await cli(["sweep", "table", out, "--markdown", "-m", "testTop1"]);
    expect(table.out).toMatch(/\| 0\.05 \| 0\.\d+ ± 0\.\d+ \| 2 \| 0 \|/);
    expect(table.out).toContain("| 1000000000 | — | 0 | 2 |");
  }, 120_000);

  it("skips finished runs on a rerun", async () => {
    const r = await cli(["sweep", "run", writeSpec("spec.json", SPEC), "--out", out]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("4 runs: 4 done, 0 to run");
    expect(trained(r.out)).toEqual([]);
  }, 60_000);

  it("refuses a changed spec on an existing folder, and a bad spec, before training", async () => {
    const changed = writeSpec("changed.json", { ...SPEC, base: { ...SPEC.base, epochs: 3 } });
    const r1 = await cli(["sweep", "run", changed, "--out", out]);
    expect(r1.code).toBe(2);
    expect(r1.out).toContain("holds runs of a different spec");
    expect(r1.out).toContain(
      "run lr=0.05__seed=1 was started with another config (epochs: stored 2, spec 3)",
    );
    const bad = writeSpec("bad.json", { ...SPEC, grid: { lr: [0.1], atention: ["se"] } });
    const fresh = path.join(root, "never");
    const r2 = await cli(["sweep", "run", bad, "--out", fresh]);
    expect(r2.code).toBe(2);
    expect(r2.out).toMatch(
      /runs atention=se__lr=0\.1__seed=1 and 1 more: unknown experiment config key "atention"; valid keys: model,/,
    );
    expect(fs.existsSync(fresh)).toBe(false);
  }, 60_000);
});
