import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderedDom } from "../../src/notebook/browser.js";
import { runNotebook } from "../../src/notebook/run.js";
import { serveNotebooks } from "../../src/notebook/serve.js";
import { notebookCells, openSession } from "../../src/notebook/server-client.js";
import { checkSystem } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

const hasServer = checkSystem().find((s) => s.piece.id === "notebook-server")?.present ?? false;

describe.skipIf(!hasServer)("npm run notebook: the interactive server", () => {
  it("serves the project (notebooks/, results/) on loopback and runs the smoke notebook's cells on the tslab kernel", async () => {
    const server = await serveNotebooks({ port: 0 });
    try {
      expect(server.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      // Without the token the server refuses the API.
      expect((await fetch(`${server.base}api/sessions`)).status).toBe(403);
      const cells = await notebookCells(server, "notebooks/smoke.ipynb");
      expect(cells.length).toBeGreaterThanOrEqual(4);
      const session = await openSession(server, "notebooks/smoke.ipynb");
      try {
        const all: string[] = [];
        for (const code of cells) {
          const r = await session.execute(code);
          expect(r.ok, r.outputs.map((o) => o.text).join("\n")).toBe(true);
          all.push(...r.outputs.map((o) => o.text));
        }
        const text = all.join("\n");
        expect(text).toContain("norm(I_16) = 4.0000");
        expect(text).toContain('<div class="senet-lab-table">');
        expect(text).toContain('class="senet-lab-plot"');
      } finally {
        await session.close();
      }
    } finally {
      await server.close();
    }
    // Closed cleanly: the port no longer answers.
    await expect(fetch(`${server.base}api/status`)).rejects.toThrow();
  });

  it("trusts the notebooks the runner wrote and those it signed at start: cells trusted, chart drawn in Chromium", async () => {
    const t0 = performance.now();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-trust-server-"));
    const executed = path.join(dir, "executed.ipynb");
    const run = await runNotebook({
      input: path.join(PROJECT_ROOT, "notebooks", "smoke.ipynb"),
      output: executed,
      params: { size: 8 },
      stderr: "pipe",
    });
    expect(run.status, run.error).toBe("completed");
    // Two copies with other content (so other signatures): one signed when the server starts
    // (as results/*.ipynb are), one never signed: the negative control.
    const nb = JSON.parse(fs.readFileSync(executed, "utf8")) as {
      metadata: Record<string, unknown>;
    };
    const copy = (name: string) => {
      const file = path.join(dir, `${name}.ipynb`);
      fs.writeFileSync(
        file,
        `${JSON.stringify({ ...nb, metadata: { ...nb.metadata, copy: name } }, null, 1)}\n`,
      );
      return file;
    };
    const atStart = copy("at-start");
    copy("unsigned");
    const server = await serveNotebooks({ port: 0, notebookDir: dir, trust: [atStart] });
    try {
      // Jupyter Notebook 6 reports trust per cell: metadata.trusted in the contents API.
      const trustOf = async (name: string) => {
        const r = await fetch(`${server.base}api/contents/${name}?content=1`, {
          headers: { Authorization: `token ${server.token}` },
        });
        const model = (await r.json()) as {
          content: { cells: { cell_type: string; metadata: { trusted?: boolean } }[] };
        };
        return [
          ...new Set(
            model.content.cells
              .filter((c) => c.cell_type === "code")
              .map((c) => c.metadata.trusted),
          ),
        ];
      };
      expect(await trustOf("executed.ipynb")).toEqual([true]);
      expect(await trustOf("at-start.ipynb")).toEqual([true]);
      expect(await trustOf("unsigned.ipynb")).toEqual([false]);
      // What a person sees: the notebook page of the server, its outputs' scripts run, Plotly's SVG.
      const page = (name: string) =>
        renderedDom(`${server.base}notebooks/${name}?token=${server.token}`);
      const trusted = page("executed.ipynb");
      expect(trusted).toContain("smoke-plot");
      expect(trusted).toMatch(/<svg[^>]*class="main-svg"/);
      const untrusted = page("unsigned.ipynb");
      expect(untrusted).toContain("smoke-table"); // the page did render its outputs
      expect(untrusted).not.toMatch(/<svg[^>]*class="main-svg"/);
    } finally {
      await server.close();
    }
    console.log(
      `trust round trip (run, serve, two Chromium pages): ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }, 180_000);
});
