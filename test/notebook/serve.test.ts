import { describe, expect, it } from "vitest";
import { serveNotebooks } from "../../src/notebook/serve.js";
import { notebookCells, openSession } from "../../src/notebook/server-client.js";
import { checkSystem } from "../../src/setup/system.js";

const hasServer = checkSystem().find((s) => s.piece.id === "notebook-server")?.present ?? false;

describe.skipIf(!hasServer)("npm run notebook: the interactive server", () => {
  it("serves notebooks/ on loopback and runs the smoke notebook's cells on the tslab kernel", async () => {
    const server = await serveNotebooks({ port: 0 });
    try {
      expect(server.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      // Without the token the server refuses the API.
      expect((await fetch(`${server.base}api/sessions`)).status).toBe(403);
      const cells = await notebookCells(server, "smoke.ipynb");
      expect(cells.length).toBeGreaterThanOrEqual(4);
      const session = await openSession(server, "smoke.ipynb");
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
});
