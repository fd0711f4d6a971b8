/**
 * A clean clone runs 07_role_of_excitation from committed files alone. The smoke runs are
 * trained once into a temp root, every file the project's .gitignore keeps out of a commit is
 * deleted (checkpoint/, .locks/, …: what a clone would not have), the result is placed into a
 * copy of exactly the git-tracked results/sweeps, and the notebook runs again against that copy:
 * it must complete without training anything (the final weights come from each run's model/
 * folder, which is committed for this notebook) and compute the same conclusions.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runNotebook } from "../../src/notebook/run.js";
import { checkSystem } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";
import { cloneTrackedSweeps, pruneUncommittable } from "./clean-clone.js";

interface Cell {
  cell_type: string;
  outputs?: { text?: string | string[]; data?: Record<string, string | string[]> }[];
}
const hasJupyter = checkSystem().find((s) => s.piece.id === "jupyter")?.present ?? false;
const NAME = "07_role_of_excitation";
const join = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join("") : (s ?? ""));
const textOf = (file: string) =>
  (JSON.parse(fs.readFileSync(file, "utf8")) as { cells: Cell[] }).cells
    .filter((c) => c.cell_type === "code")
    .map((c) => (c.outputs ?? []).map((o) => join(o.text)).join(""));

/** env.json startedAt of every run under a root, by run folder: a retrained run changes it. */
function starts(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "env.json") {
        out[path.relative(root, dir)] = (
          JSON.parse(fs.readFileSync(p, "utf8")) as { startedAt: string }
        ).startedAt;
      }
    }
  };
  walk(root);
  return out;
}

describe.skipIf(!hasJupyter)("clean clone (git-tracked results only)", () => {
  it(`${NAME} (smoke) runs from committed files, training nothing`, {
    timeout: 240_000,
  }, async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-clone-"));
    const input = path.join(PROJECT_ROOT, "notebooks", `${NAME}.ipynb`);
    const trained = path.join(tmp, "trained");
    const first = await runNotebook({
      input,
      output: path.join(tmp, "first.ipynb"),
      params: { preset: "smoke" },
      stderr: "pipe",
      env: { SENET_LAB_SWEEP_DIR: trained },
    });
    expect(first.error ?? "", `first run failed in cell ${first.failedCell}`).toBe("");

    const removed = pruneUncommittable(trained);
    expect(
      removed.some((f) => f.includes("/checkpoint/")),
      "checkpoints are not committed",
    ).toBe(true);
    expect(
      removed.filter((f) => /\/model\//.test(f)),
      "07's final weights are committed",
    ).toEqual([]);
    const before = starts(path.join(trained, NAME, "smoke"));
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(2);

    const clone = path.join(tmp, "clone");
    const { env } = cloneTrackedSweeps(clone);
    fs.cpSync(path.join(trained, NAME, "smoke"), path.join(clone, NAME, "smoke"), {
      recursive: true,
    });
    const second = await runNotebook({
      input,
      output: path.join(tmp, "second.ipynb"),
      params: { preset: "smoke" },
      stderr: "pipe",
      // The notebook library refuses to train under SENET_LAB_REUSE_ONLY=1, naming the runs.
      env: { ...env, SENET_LAB_REUSE_ONLY: "1" },
    });
    expect(second.error ?? "", `clean-clone run failed in cell ${second.failedCell}`).toBe("");
    expect(second.status).toBe("completed");
    const root = path.join(clone, NAME, "smoke");
    // Nothing trained again: the same run folders with the same start times, and no checkpoints.
    expect(starts(root)).toEqual(before);
    expect(fs.existsSync(path.join(root, "models", ".no-weights")), "no run set aside").toBe(false);
    expect(pruneUncommittable(root).filter((f) => f.includes("/checkpoint/"))).toEqual([]);
    const runsFile = path.join(root, "runs.json");
    if (fs.existsSync(runsFile)) {
      const runs = (JSON.parse(fs.readFileSync(runsFile, "utf8")) as { runs: { status: string }[] })
        .runs;
      expect(runs.map((r) => r.status).filter((s) => s === "trained")).toEqual([]);
    }
    // Same weights, same numbers: the reload check and the conclusions read as in the first run.
    const a = textOf(path.join(tmp, "first.ipynb"));
    const b = textOf(path.join(tmp, "second.ipynb"));
    expect(b.join("\n")).not.toContain("DIFFERENT");
    expect(b[b.length - 1]).toBe(a[a.length - 1]);
  });
});
