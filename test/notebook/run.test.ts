import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { CHROMIUM, renderedDom } from "../../src/notebook/browser.js";
import { recordedStatus, runNotebook } from "../../src/notebook/run.js";
import { checkSystem } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

interface Output {
  output_type: string;
  text?: string;
  name?: string;
  data?: Record<string, string>;
}
interface Cell {
  cell_type: string;
  source: string;
  execution_count: number | null;
  outputs?: Output[];
  metadata: { tags?: string[]; papermill?: { duration?: number; status?: string } };
}
interface Notebook {
  cells: Cell[];
  metadata: { papermill: Record<string, unknown> };
}

let smokeHtml = "";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-nb-test-"));
const read = (f: string) => JSON.parse(fs.readFileSync(f, "utf8")) as Notebook;
const text = (c: Cell) =>
  (c.outputs ?? []).map((o) => o.text ?? Object.values(o.data ?? {}).join("")).join("");

function notebook(cells: { source: string; tags?: string[] }[]): string {
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
  const file = path.join(tmp, `nb-${Math.random().toString(36).slice(2)}.ipynb`);
  fs.writeFileSync(file, JSON.stringify(nb));
  return file;
}

describe.skipIf(!checkSystem().find((s) => s.piece.id === "jupyter")?.present)(
  "notebook runner (real tslab kernel)",
  () => {
    beforeAll(() => {
      fs.mkdirSync(tmp, { recursive: true });
    });

    it("executes the smoke notebook with injected parameters, counts, timings and outputs", async () => {
      const out = path.join(tmp, "smoke.ipynb");
      const r = await runNotebook({
        input: path.join(PROJECT_ROOT, "notebooks", "smoke.ipynb"),
        output: out,
        params: { size: 9 },
        html: true,
        stderr: "pipe",
      });
      expect(r.status).toBe("completed");
      expect(r.parameters).toEqual({ size: 9 });
      const nb = read(out);
      expect(nb.metadata.papermill.status).toBe("completed");
      expect(nb.metadata.papermill.injected).toEqual({ size: 9 });
      expect(typeof nb.metadata.papermill.duration).toBe("number");
      const code = nb.cells.filter((c) => c.cell_type === "code");
      expect(code.map((c) => c.execution_count)).toEqual(code.map((_, i) => i + 1));
      const injected = code.findIndex((c) => c.metadata.tags?.includes("injected-parameters"));
      expect(injected).toBe(code.findIndex((c) => c.metadata.tags?.includes("parameters")) + 1);
      expect(code[injected]!.source).toContain("const size = 9;");
      for (const c of code) expect(c.metadata.papermill?.status).toBe("completed");
      const all = code.map(text).join("\n");
      expect(all).toContain("norm(I_9) = 3.0000");
      expect(all).toMatch(/backend: (tensorflow|onednn|wasm|cpu)/);
      const table = all.match(/<div class="senet-lab-table">.*?<\/table><\/div>/s)?.[0] ?? "";
      expect(table).toContain("smoke-table");
      expect(table.match(/<tr>/g)?.length).toBe(5);
      expect(table).toMatch(/>2\.828\d*</);
      expect(all).toContain('class="senet-lab-plot"');
      expect(all).toContain('"text":"smoke-plot"');
      // The Plotly bundle is inlined once, compressed: the whole notebook stays small.
      expect(fs.statSync(out).size).toBeLessThan(3_000_000);
      expect(fs.readFileSync(r.html!, "utf8")).toContain("senet-lab-plot");
      smokeHtml = r.html!;
    });

    it.skipIf(!fs.existsSync(CHROMIUM))(
      "the HTML export renders the chart in headless Chromium",
      () => {
        expect(smokeHtml, "the smoke test above must run first").toBeTruthy();
        const dom = renderedDom(smokeHtml);
        const plot = dom.slice(dom.search(/class="senet-lab-plot/));
        expect(dom.search(/class="senet-lab-plot/)).toBeGreaterThan(0);
        // Plotly draws SVG into the div only if its bundle loaded and ran in the page.
        expect(plot).toMatch(/class="main-svg"/);
        expect(dom).toContain("smoke-table");
      },
    );

    it("saves the notebook when a cell fails, reports the real error and stops there", async () => {
      const input = notebook([
        { source: 'const a: number = 1;\nconsole.log("a=" + a);' },
        { source: 'throw new Error("boom-42 from cell two");' },
        { source: 'console.log("never");' },
      ]);
      const out = path.join(tmp, "failed.ipynb");
      const r = await runNotebook({ input, output: out, stderr: "pipe" });
      expect(r.status).toBe("failed");
      expect(r.failedCell).toBe(2);
      expect(r.error).toContain("boom-42 from cell two");
      const nb = read(out);
      expect(nb.metadata.papermill.status).toBe("failed");
      expect(nb.cells[0]!.cell_type).toBe("markdown");
      const code = nb.cells.filter((c) => c.cell_type === "code");
      expect(text(code[0]!)).toContain("a=1");
      expect(code[1]!.metadata.papermill?.status).toBe("failed");
      expect(code[2]!.execution_count).toBeNull();
    });

    it("a failed run does not replace a completed output: it goes to <out>.failed.ipynb", async () => {
      const input = notebook([{ source: 'throw new Error("boom-43 keep the good one");' }]);
      const out = path.join(tmp, "good.ipynb");
      const good = JSON.stringify({ cells: [], metadata: { papermill: { status: "completed" } } });
      fs.writeFileSync(out, good);
      fs.writeFileSync(path.join(tmp, "good.html"), "GOOD");
      const r = await runNotebook({ input, output: out, html: true, stderr: "pipe" });
      expect(r.status).toBe("failed");
      expect(r.kept).toBe(out);
      expect(r.output).toBe(path.join(tmp, "good.failed.ipynb"));
      expect(r.html).toBeUndefined();
      expect(fs.readFileSync(out, "utf8")).toBe(good);
      expect(fs.readFileSync(path.join(tmp, "good.html"), "utf8")).toBe("GOOD");
      expect(recordedStatus(r.output)).toBe("failed");
      // An ordinary file under the umask (the runner's mkstemp would make it 0600).
      const probe = path.join(tmp, "probe");
      fs.writeFileSync(probe, "");
      expect(fs.statSync(r.output).mode & 0o777).toBe(fs.statSync(probe).mode & 0o777);
      expect(fs.readdirSync(tmp).filter((f) => f.includes(".partial-"))).toEqual([]);
    });

    it("rejects an unknown or mistyped parameter before starting a kernel", async () => {
      const input = path.join(PROJECT_ROOT, "notebooks", "smoke.ipynb");
      const output = path.join(tmp, "never-written.ipynb");
      await expect(
        runNotebook({ input, output, params: { nope: 1 }, stderr: "pipe" }),
      ).rejects.toThrow(/unknown parameter "nope"; this notebook declares: size/);
      await expect(
        runNotebook({ input, output, params: { size: "big" }, stderr: "pipe" }),
      ).rejects.toThrow(ConfigError);
      // Refused before any kernel ran: nothing was executed or written.
      expect(fs.existsSync(output)).toBe(false);
      expect(fs.readdirSync(tmp).filter((f) => f.includes("never-written"))).toEqual([]);
    });
  },
);
