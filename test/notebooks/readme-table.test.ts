/**
 * The README's quick-preset table is what the committed runs give: every row that
 * scripts/readme-quick-table.ts prints from results/sweeps appears in README.md verbatim. After
 * a retrain, rerun the script and paste its output.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/util/fs.js";

describe("README quick table", () => {
  it("matches the committed runs row for row", () => {
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", path.join(PROJECT_ROOT, "scripts/readme-quick-table.ts")],
      { cwd: PROJECT_ROOT, encoding: "utf8" },
    );
    const rows = out.trim().split("\n");
    expect(rows.length).toBeGreaterThan(10);
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const missing = rows.filter((r) => !readme.includes(r));
    expect(missing).toEqual([]);
  });
});
