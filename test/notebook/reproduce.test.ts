/**
 * `reproduce` end to end with two tiny notebooks on the real tslab kernel. `a_train` is a stand-in
 * for the notebook library: it "trains" runs into $SENET_LAB_SWEEP_DIR (writing env.json and
 * summary.json, skipping finished ones), records runs.json and appends run events to
 * $SENET_LAB_PROGRESS_FILE. `b_fail` fails when FAIL_B=1.
 * First pass: b fails, so its committed result stays, the failed run goes to b_fail.failed.ipynb
 * and its index entry keeps the last success; a's entry says which runs were trained now, which
 * reused, when, where, on what. Second pass, --retrain: every run trained again in staging, then
 * promoted over the committed sweep root with the old folder kept aside.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readIndex, reproduce } from "../../src/notebook/reproduce.js";
import { recordedStatus } from "../../src/notebook/run.js";
import { checkSystem } from "../../src/setup/system.js";

const hasJupyter = checkSystem().find((s) => s.piece.id === "jupyter")?.present ?? false;

function notebook(file: string, cells: { source: string; tags?: string[] }[]): void {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    cells: cells.map((c, i) => ({
      id: `c${i}`,
      cell_type: "code",
      source: c.source,
      metadata: c.tags ? { tags: c.tags } : {},
      outputs: [],
      execution_count: null,
    })),
  };
  fs.writeFileSync(file, JSON.stringify(nb));
}

/** A tiny producer of the notebook library's contract (runs.json, env.json, progress events). */
const PRODUCER = `import * as fs from "fs";
import * as os from "os";
import * as path from "path";
const root = path.join(process.env.SENET_LAB_SWEEP_DIR!, "a_train", preset);
const emit = (e: object) => { const f = process.env.SENET_LAB_PROGRESS_FILE; if (f) fs.appendFileSync(f, JSON.stringify(e) + "\\n"); };
const ids = ["seed=0", "seed=1"];
const pending = ids.filter((id) => !fs.existsSync(path.join(root, "s1", id, "summary.json")));
emit({ event: "sweep", notebook: "a_train", sweep: "s1", runs: ids.length, pending: pending.length });
const runs = ids.map((id) => {
  const dir = path.join(root, "s1", id);
  const trained = pending.includes(id);
  if (trained) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "env.json"), JSON.stringify({ startedAt: new Date().toISOString(), machine: { cpu: "Test CPU", cores: 2, hostname: os.hostname() }, backend: { name: "cpu", threads: 1 }, code: { codeHash: "h", commit: "abc1234567890", dirty: false } }));
    fs.writeFileSync(path.join(dir, "summary.json"), JSON.stringify({ status: "completed", wallSeconds: 1.5 }));
  }
  emit({ event: "run", notebook: "a_train", sweep: "s1", id, status: trained ? "trained" : "done", seconds: 1.5, sweepRuns: ids.length });
  return { sweep: "s1", id, dir: "s1/" + id, status: trained ? "trained" : "done", key: null };
});
fs.writeFileSync(path.join(root, "runs.json"), JSON.stringify({ notebook: "a_train", preset: preset, updated: new Date().toISOString(), runs: runs }));
console.log("runs: " + runs.map((r) => r.status).join(","));`;

describe.skipIf(!hasJupyter)("reproduce (real tslab kernel, tiny notebooks)", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-reproduce-"));
  const nbDir = path.join(tmp, "notebooks");
  const out = path.join(tmp, "results");
  const sweeps = path.join(tmp, "sweeps");
  fs.mkdirSync(nbDir, { recursive: true });
  fs.mkdirSync(out, { recursive: true });
  notebook(path.join(nbDir, "a_train.ipynb"), [
    { source: 'const preset: "smoke" | "quick" = "smoke";', tags: ["parameters"] },
    { source: PRODUCER },
  ]);
  notebook(path.join(nbDir, "b_fail.ipynb"), [
    { source: 'const preset: "smoke" | "quick" = "smoke";', tags: ["parameters"] },
    {
      source:
        'if (process.env.FAIL_B === "1") throw new Error("b-broke-7 on purpose");\nconsole.log("b fine");',
    },
  ]);
  // The "committed" state: a good b_fail result and index entry, and one finished run of a.
  const goodB = JSON.stringify({
    cells: [],
    metadata: { papermill: { status: "completed" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
  fs.writeFileSync(path.join(out, "b_fail.ipynb"), goodB);
  fs.writeFileSync(path.join(out, "b_fail.html"), "GOOD B");
  fs.writeFileSync(
    path.join(out, "index.json"),
    JSON.stringify([
      {
        name: "b_fail",
        status: "completed",
        startTime: "2026-11-01T00:00:00+00:00",
        duration: 5,
        parameters: { preset: "smoke" },
      },
    ]),
  );
  const old = path.join(sweeps, "a_train", "smoke", "s1", "seed=0");
  fs.mkdirSync(old, { recursive: true });
  fs.writeFileSync(
    path.join(old, "env.json"),
    JSON.stringify({
      startedAt: "2026-11-01T00:00:00.000Z",
      machine: { cpu: "Old CPU", cores: 8, hostname: "old-host" },
      backend: { name: "onednn", threads: 1 },
      code: { codeHash: "g", commit: "0000000000ffff", dirty: true },
    }),
  );
  fs.writeFileSync(
    path.join(old, "summary.json"),
    JSON.stringify({ status: "completed", wallSeconds: 4 }),
  );
  const log: string[] = [];
  const progress = { stream: { write: (s: string) => log.push(s) }, tty: false };
  const fileMode = (f: string) => fs.statSync(f).mode & 0o777;
  const probe = path.join(tmp, "umask-probe");
  fs.writeFileSync(probe, "");
  const defaultMode = fileMode(probe);

  it("keeps a good result when a notebook fails, records both, and exits non-zero", {
    timeout: 180_000,
  }, async () => {
    const r = await reproduce({
      notebooksDir: nbDir,
      outDir: out,
      sweepsDir: sweeps,
      env: { FAIL_B: "1" },
      stderr: "pipe",
      progress,
    });
    expect(r.outcomes.map((o) => [o.name, o.status])).toEqual([
      ["a_train", "completed"],
      ["b_fail", "failed"],
    ]);
    expect(r.failed.map((f) => f.name)).toEqual(["b_fail"]);
    const f = r.failed[0]!;
    expect(f.firstErrorLine).toContain("b-broke-7 on purpose");
    expect(f.failedCopy).toBe(path.join(out, "b_fail.failed.ipynb"));
    expect(f.kept).toBe(path.join(out, "b_fail.ipynb"));
    // The committed result is untouched; the failed run is beside it.
    expect(fs.readFileSync(path.join(out, "b_fail.ipynb"), "utf8")).toBe(goodB);
    expect(fs.readFileSync(path.join(out, "b_fail.html"), "utf8")).toBe("GOOD B");
    expect(recordedStatus(path.join(out, "b_fail.failed.ipynb"))).toBe("failed");
    expect(fs.readdirSync(out).filter((n) => n.includes(".partial-"))).toEqual([]);
    // Outputs are ordinary files (umask), not mkstemp's 0600.
    for (const n of ["a_train.ipynb", "a_train.html", "b_fail.failed.ipynb"]) {
      expect(fileMode(path.join(out, n)), n).toBe(defaultMode);
    }
    const index = new Map(readIndex(out).map((e) => [e.name, e]));
    const b = index.get("b_fail")!;
    expect(b).toMatchObject({
      status: "failed",
      failedCopy: "b_fail.failed.ipynb",
      lastSuccess: { duration: 5 },
    });
    expect(b.error).toContain("b-broke-7");
    const a = index.get("a_train")!;
    expect(a.status).toBe("completed");
    expect(a.training).toMatchObject({
      mode: "mixed",
      preset: "smoke",
      runs: 2,
      trainedNow: 1,
      reused: 1,
      firstStartedAt: "2026-11-01T00:00:00.000Z",
      machines: [`${os.hostname()} (Test CPU, 2 cores)`, "old-host (Old CPU, 8 cores)"].sort(),
      backends: ["cpu, 1 thread", "onednn, 1 thread"],
      commits: ["0000000000+dirty", "abc1234567"],
    });
    // The run events reached reproduce through the progress file.
    expect(r.outcomes[0]!.runEvents).toEqual({ done: 1, trained: 1 });
    const html = fs.readFileSync(path.join(out, "index.html"), "utf8");
    expect(html).toContain("1 trained now, 1 reused (2 runs, preset smoke)");
    expect(html).toContain('href="b_fail.failed.ipynb"');
    const text = log.join("");
    expect(text).toContain("[reproduce] 1/2 a_train");
    expect(text).toContain("[reproduce] 2/2 b_fail");
    expect(text).toMatch(/b_fail: FAILED in [\d.]+ s: .*b-broke-7/);
  });

  it("--retrain trains every run in staging, then promotes it and keeps the old folder", {
    timeout: 180_000,
  }, async () => {
    const r = await reproduce({
      notebooksDir: nbDir,
      outDir: out,
      sweepsDir: sweeps,
      retrain: true,
      stderr: "pipe",
      progress,
    });
    expect(r.failed).toEqual([]);
    expect(r.retrain?.resumed).toBe(false);
    expect(r.retrain?.promoted?.map((m) => m.what).sort()).toEqual([
      "a_train.html",
      "a_train.ipynb",
      "a_train/smoke sweeps",
      "b_fail.html",
      "b_fail.ipynb",
    ]);
    const promoted = r.retrain!.promoted!.find((m) => m.what === "a_train/smoke sweeps")!;
    expect(promoted.to).toBe(path.join(sweeps, "a_train", "smoke"));
    // The old committed folder (with old-host's run) is kept, not deleted.
    expect(fs.existsSync(path.join(promoted.previous!, "s1", "seed=0", "env.json"))).toBe(true);
    const env = JSON.parse(
      fs.readFileSync(path.join(sweeps, "a_train", "smoke", "s1", "seed=0", "env.json"), "utf8"),
    );
    expect(env.machine.hostname).toBe(os.hostname());
    expect(fs.existsSync(path.join(out, ".retrain", "retrain.json"))).toBe(false);
    expect(fs.existsSync(path.join(out, ".retrain", "sweeps"))).toBe(false);
    // b completed: it replaces the old result, and the failed copy goes.
    expect(recordedStatus(path.join(out, "b_fail.ipynb"))).toBe("completed");
    expect(fs.existsSync(path.join(out, "b_fail.failed.ipynb"))).toBe(false);
    const index = new Map(readIndex(out).map((e) => [e.name, e]));
    expect(index.get("b_fail")).toMatchObject({
      status: "completed",
      retrained: true,
      training: { mode: "none" },
    });
    expect(index.get("b_fail")?.lastSuccess).toBeUndefined();
    expect(index.get("a_train")).toMatchObject({
      retrained: true,
      training: { mode: "trained", trainedNow: 2, reused: 0 },
    });
  });
});
