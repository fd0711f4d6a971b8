/**
 * The project's Jupyter notary: one secret, created once and kept, and notebooks signed
 * (checked with nbformat's own NotebookNotary, the code the server runs) without being rewritten.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { ensureNotarySecret, resultNotebooks, trustNotebooks } from "../../src/notebook/trust.js";
import { checkSystem } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

const hasJupyter = checkSystem().find((s) => s.piece.id === "jupyter")?.present ?? false;

/** A small executed-looking notebook (an output with a script, as a chart has). */
function writeNotebook(file: string, marker: string): void {
  const nb = {
    cells: [
      {
        cell_type: "code",
        execution_count: 1,
        id: "c1",
        metadata: {},
        outputs: [
          {
            output_type: "display_data",
            data: { "text/html": `<div id="x"></div><script>window.${marker} = 1;</script>` },
            metadata: {},
          },
        ],
        source: ["console.log(1);"],
      },
    ],
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(file, `${JSON.stringify(nb, null, 1)}\n`);
}

describe("notary secret", () => {
  it("is created once (0600, no temp files left) and then kept", () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "senet-notary-")), "notary");
    const files = Array.from({ length: 5 }, () => ensureNotarySecret(dir));
    expect(new Set(files).size).toBe(1);
    const secret = fs.readFileSync(files[0]!, "utf8");
    expect(secret.replace(/\s/g, "")).toMatch(/^[A-Za-z0-9+/]{1366}==$/); // base64 of 1024 bytes
    expect(fs.statSync(files[0]!).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(["notebook_secret"]); // no temp files left
  });
});

describe.skipIf(!hasJupyter)("trustNotebooks (nbformat's NotebookNotary)", () => {
  it("signs into the given notary without rewriting the files; another secret does not trust them", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-trust-"));
    const a = path.join(tmp, "a.ipynb");
    const b = path.join(tmp, "b.ipynb");
    writeNotebook(a, "a");
    writeNotebook(b, "b");
    const before = fs.readFileSync(a, "utf8");
    const notary = path.join(tmp, "notary");
    expect(await trustNotebooks([a, b], { notaryDir: notary, check: true })).toEqual([
      { path: a, trustedBefore: false, trusted: false },
      { path: b, trustedBefore: false, trusted: false },
    ]);
    expect(await trustNotebooks([a], { notaryDir: notary })).toEqual([
      { path: a, trustedBefore: false, trusted: true },
    ]);
    expect(fs.readFileSync(a, "utf8")).toBe(before);
    const again = await trustNotebooks([a, b], { notaryDir: notary, check: true });
    expect(again.map((r) => r.trusted)).toEqual([true, false]);
    // Any change to the content (an output edited by hand) voids the signature.
    fs.writeFileSync(a, before.replace("window.a = 1", "window.a = 2"));
    expect((await trustNotebooks([a], { notaryDir: notary, check: true }))[0]!.trusted).toBe(false);
    // A different machine (another secret) does not trust what this one signed.
    fs.writeFileSync(a, before);
    expect(
      (await trustNotebooks([a], { notaryDir: path.join(tmp, "other"), check: true }))[0]!.trusted,
    ).toBe(false);
  });

  it("refuses missing files and non-notebooks before starting Python", async () => {
    await expect(trustNotebooks(["/nonexistent/x.ipynb"])).rejects.toThrow(ConfigError);
    await expect(trustNotebooks([path.join(PROJECT_ROOT, "package.json")])).rejects.toThrow(
      /is not an existing .ipynb file/,
    );
  });

  it("lists the committed executed notebooks", () => {
    const list = resultNotebooks();
    expect(
      list.every((f) => f.startsWith(path.join(PROJECT_ROOT, "results")) && f.endsWith(".ipynb")),
    ).toBe(true);
    expect(resultNotebooks("/nonexistent")).toEqual([]);
  });
});
