/**
 * The clean-clone situation for every notebook that reads sweep artifacts: only the files git
 * tracks under results/sweeps are copied into a temp sweep root, and each notebook runs with its
 * default preset and SENET_LAB_REUSE_ONLY=1, so it must find every run it needs (its own
 * committed runs, identical runs of other notebooks, 07's committed final weights) and may train
 * none. A notebook that needs an uncommitted file fails here instead of in a newcomer's
 * `npm run reproduce`.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runNotebook } from "../../src/notebook/run.js";
import { checkSystem } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

function trackedSweepFiles(): string[] | null {
  try {
    const out = execFileSync("git", ["-C", PROJECT_ROOT, "ls-files", "-z", "results/sweeps"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out.split("\0").filter((f) => f !== "");
  } catch {
    return null; // not a git checkout
  }
}

const files = trackedSweepFiles();
const system = checkSystem();
const ready = ["jupyter", "fashion-mnist"].every(
  (id) => system.find((s) => s.piece.id === id)?.present ?? false,
);
const NOTEBOOKS = fs
  .readdirSync(path.join(PROJECT_ROOT, "notebooks"))
  .filter((f) => /^0[2-9]_.*\.ipynb$/.test(f))
  .sort();

describe.skipIf(files === null || !ready)(
  "committed results suffice (clean clone, no training)",
  () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-clean-clone-"));
    const sweeps = path.join(root, "sweeps");
    for (const f of files ?? []) {
      const to = path.join(sweeps, path.relative("results/sweeps", f));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(PROJECT_ROOT, f), to);
    }

    it("commits no checkpoints, and 07's trained networks with their final weights", () => {
      expect(files!.some((f) => f.includes("/checkpoint/"))).toBe(false);
      const weights = files!.filter((f) =>
        /07_role_of_excitation\/quick\/.*\/model\/weights\.bin$/.test(f),
      );
      expect(weights.length, "07's SE and SGE networks").toBe(2);
    });

    for (const file of NOTEBOOKS) {
      it(`${file} runs from the committed files alone`, { timeout: 300_000 }, async () => {
        const r = await runNotebook({
          input: path.join(PROJECT_ROOT, "notebooks", file),
          output: path.join(root, file),
          stderr: "pipe",
          env: { SENET_LAB_SWEEP_DIR: sweeps, SENET_LAB_REUSE_ONLY: "1" },
        });
        expect(r.error ?? "", `${file} failed in cell ${r.failedCell}`).toBe("");
        expect(r.status).toBe("completed");
      });
    }
  },
);
