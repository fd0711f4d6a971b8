/**
 * Every research notebook (notebooks/*.ipynb except the smoke notebook) executed with its smoke
 * preset through the real tslab kernel: it must complete, show at least one table and one chart,
 * carry the Plotly bundle exactly once, print no NaN in its tables, compute its conclusions, and
 * stay well under the 6 MB limit. Sweeps train into a temp folder (SENET_LAB_SWEEP_DIR), so every
 * run of this test really trains.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runNotebook } from "../../src/notebook/run.js";
import { checkSystem } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

interface Output {
  output_type: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[] };
  outputs?: Output[];
}

const NOTEBOOK_DIR = path.join(PROJECT_ROOT, "notebooks");
const notebooks = fs
  .readdirSync(NOTEBOOK_DIR)
  .filter((f) => f.endsWith(".ipynb") && f !== "smoke.ipynb")
  .sort();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-notebooks-"));
const join = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join("") : (s ?? ""));
const htmlOf = (c: Cell) => (c.outputs ?? []).map((o) => join(o.data?.["text/html"])).join("");
const textOf = (c: Cell) => (c.outputs ?? []).map((o) => join(o.text)).join("");
const hasJupyter = checkSystem().find((s) => s.piece.id === "jupyter")?.present ?? false;

describe.skipIf(!hasJupyter)("research notebooks, smoke preset (real tslab kernel)", () => {
  it("finds the nine research notebooks, each with a smoke | quick | standard | paper parameters cell", () => {
    expect(notebooks.length).toBeGreaterThanOrEqual(9);
    for (const f of notebooks) {
      const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOK_DIR, f), "utf8")) as {
        cells: Cell[];
        metadata: { kernelspec: { name: string } };
      };
      expect(nb.metadata.kernelspec.name, f).toBe("tslab");
      const params = nb.cells.find((c) => c.metadata.tags?.includes("parameters"));
      expect(join(params?.source), f).toContain(
        'const preset: "smoke" | "quick" | "standard" | "paper" = "quick";',
      );
      expect(nb.cells[0]!.cell_type, f).toBe("markdown");
      expect(
        nb.cells.every((c) => (c.outputs ?? []).length === 0),
        `${f} is committed without outputs`,
      ).toBe(true);
    }
  });

  for (const file of notebooks) {
    it(`${file} runs with preset=smoke`, { timeout: 240_000 }, async () => {
      const name = path.basename(file, ".ipynb");
      const output = path.join(tmp, `${name}.ipynb`);
      const r = await runNotebook({
        input: path.join(NOTEBOOK_DIR, file),
        output,
        params: { preset: "smoke" },
        stderr: "pipe",
        env: { SENET_LAB_SWEEP_DIR: path.join(tmp, "sweeps") },
      });
      expect(r.error ?? "", `${file} failed in cell ${r.failedCell}`).toBe("");
      expect(r.status).toBe("completed");
      expect(r.parameters.preset).toBe("smoke");
      expect(fs.statSync(output).size).toBeLessThan(6 * 1024 * 1024);
      const cells = (JSON.parse(fs.readFileSync(output, "utf8")) as { cells: Cell[] }).cells.filter(
        (c) => c.cell_type === "code",
      );
      const html = cells.map(htmlOf).join("\n");
      // showTable's HTML (src/report): a <table> inside an element of class senet-lab-table.
      const tables = html.match(/<table[\s>][\s\S]*?<\/table>/g) ?? [];
      expect(html, "a table from src/report").toContain("senet-lab-table");
      expect(tables.length, "a danfojs table").toBeGreaterThan(0);
      for (const t of tables) expect(t).not.toMatch(/\bNaN\b|undefined/);
      expect(html.match(/class="senet-lab-plot"/g)?.length ?? 0, "a Plotly chart").toBeGreaterThan(
        0,
      );
      expect(html.match(/data-senet-lab-plotly=/g)?.length, "the Plotly bundle exactly once").toBe(
        1,
      );
      // The last code cell computes the conclusions: it prints something, and no NaN.
      const conclusions = textOf(cells[cells.length - 1]!);
      expect(conclusions.trim().length).toBeGreaterThan(0);
      expect(conclusions).not.toMatch(/\bNaN\b/);
    });
  }
});
