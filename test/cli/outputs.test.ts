/**
 * Issue 14, items 4 and 5: an output that cannot be written (a file, a path under a file, a
 * read-only folder) is one line naming it and the cause, exit 2, before anything starts, for every
 * command that writes; a file that is not a notebook is one line, exit 2, no Python traceback.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkSystem } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";
import { HAS_SETPRIV, IS_ROOT, NOBODY } from "../util/nobody.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-outputs-"));
fs.chmodSync(root, 0o755);
afterAll(() => {
  fs.chmodSync(path.join(root, "read-only"), 0o755);
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI; `unprivileged` drops root to nobody (setpriv) so permission bits apply. */
function cli(args: string[], unprivileged = false) {
  const argv = [path.join(PROJECT_ROOT, "bin", "senet-lab.js"), ...args];
  const [cmd, full] =
    unprivileged && IS_ROOT
      ? ["setpriv", [...NOBODY, process.execPath, ...argv]]
      : [process.execPath, argv];
  const r = spawnSync(cmd, full, {
    encoding: "utf8",
    cwd: root,
    env: {
      ...process.env,
      HOME: IS_ROOT && unprivileged ? "/tmp" : process.env.HOME,
      SENET_LAB_QUIET: "1",
    },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const specFile = path.join(root, "spec.json");
fs.writeFileSync(
  specFile,
  JSON.stringify({
    name: "out-check",
    base: { model: "resnet20", dataset: "synthetic" },
    seeds: [1],
  }),
);
fs.chmodSync(specFile, 0o644);
const aFile = path.join(root, "a-file");
fs.writeFileSync(aFile, "not a folder");
const readOnly = path.join(root, "read-only");
fs.mkdirSync(readOnly);
fs.chmodSync(readOnly, 0o555);

/** Each writing command with --out set to `out`. */
const COMMANDS: [string, (out: string) => string[], string][] = [
  ["sweep run", (out) => ["sweep", "run", specFile, "--out", out], "dir"],
  ["sweep submit", (out) => ["sweep", "submit", "--slurm", specFile, "--out", out], "dir"],
  [
    "notebook run",
    (out) => ["notebook", "run", path.join(root, "x.ipynb"), "--out", `${out}/x.ipynb`],
    "file",
  ],
  ["reproduce", (out) => ["reproduce", "--out", out], "dir"],
];

describe("--out that cannot be written", () => {
  for (const [name, args, kind] of COMMANDS) {
    it(`${name}: a file, or a path under a file: one line, exit 2`, () => {
      const under = path.join(aFile, "sub");
      const cases: [string, string][] =
        kind === "dir"
          ? [
              [aFile, `"${aFile}" cannot be written: it is a file, not a folder`],
              [under, `"${under}" cannot be written: "${aFile}" is a file, not a folder`],
            ]
          : [[aFile, `"${aFile}/x.ipynb" cannot be written: "${aFile}" is a file, not a folder`]];
      for (const [out, want] of cases) {
        const r = cli(args(out));
        expect(r.code, r.err).toBe(2);
        expect(r.err).toBe(`senet-lab: --out ${want}\n`);
        expect(r.out).toBe("");
      }
    });

    // As root the CLI runs as nobody (setpriv); without setpriv root cannot simulate it.
    it.skipIf(IS_ROOT && !HAS_SETPRIV)(
      `${name}: a read-only folder (chmod 0555): one line, exit 2`,
      () => {
        const out = path.join(readOnly, "out");
        const r = cli(args(out), true);
        expect(r.code, r.err).toBe(2);
        const shown = kind === "dir" ? out : `${out}/x.ipynb`;
        expect(r.err).toBe(
          `senet-lab: --out "${shown}" cannot be written: permission denied (in "${readOnly}", its nearest existing folder)\n`,
        );
      },
    );
  }
});

describe.skipIf(!checkSystem().find((s) => s.piece.id === "jupyter")?.present)(
  "notebook run on a file that is not a notebook",
  () => {
    it("says so in one line, exit 2, without a Python traceback", () => {
      const bad = path.join(root, "bad.ipynb");
      fs.writeFileSync(bad, "this is not JSON\n");
      const r = cli(["notebook", "run", bad, "--out", path.join(root, "bad-out.ipynb")]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        new RegExp(
          `^senet-lab: ${bad.replace(/[.]/g, "\\.")} is not a Jupyter notebook: Notebook does not appear to be JSON.*\n$`,
        ),
      );
      expect(r.err).not.toContain("Traceback");
      const empty = path.join(root, "empty-object.ipynb");
      fs.writeFileSync(empty, "{}");
      const r2 = cli(["notebook", "run", empty, "--out", path.join(root, "e-out.ipynb")]);
      expect(r2.code).toBe(2);
      expect(r2.err.split("\n").filter(Boolean)).toHaveLength(1);
      expect(r2.err).toContain("is not a Jupyter notebook: ");
    });

    it("nbformat warnings do not leak into a parameter error", () => {
      // Code cells without an "id" make nbformat warn (MissingIDFieldWarning).
      const nb = path.join(root, "no-ids.ipynb");
      fs.writeFileSync(
        nb,
        JSON.stringify({
          cells: [
            { cell_type: "code", source: "1", metadata: {}, outputs: [], execution_count: null },
          ],
          metadata: {},
          nbformat: 4,
          nbformat_minor: 5,
        }),
      );
      const r = cli([
        "notebook",
        "run",
        nb,
        "--out",
        path.join(root, "n-out.ipynb"),
        "-p",
        "nope=1",
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toBe(
        'senet-lab: unknown parameter "nope"; this notebook declares: (none: the notebook has no parameters cell)\n',
      );
    });
  },
);
