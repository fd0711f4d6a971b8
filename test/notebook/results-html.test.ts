import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CHROMIUM, renderedDom } from "../../src/notebook/browser.js";
import type { IndexEntry } from "../../src/notebook/reproduce.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

// The executed notebooks committed in results/ are what people read without running anything:
// open each HTML export in a real browser and check every chart was drawn and every table shows.
const results = path.join(PROJECT_ROOT, "results");
const indexFile = path.join(results, "index.json");
const entries: IndexEntry[] = fs.existsSync(indexFile)
  ? (JSON.parse(fs.readFileSync(indexFile, "utf8")) as IndexEntry[])
  : [];

describe.skipIf(!fs.existsSync(CHROMIUM) || entries.length === 0)(
  "committed results in headless Chromium",
  () => {
    it("the index links every executed notebook with its date and duration", () => {
      const html = fs.readFileSync(path.join(results, "index.html"), "utf8");
      for (const e of entries) {
        expect(html).toContain(`href="${encodeURI(e.name)}.html"`);
        expect(fs.existsSync(path.join(results, `${e.name}.html`))).toBe(true);
        expect(fs.statSync(path.join(results, `${e.name}.ipynb`)).size).toBeLessThan(6 * 2 ** 20);
      }
    });

    // A failed latest run leaves the last completed one's files in place (lastSuccess): check those.
    it.each(entries.filter((e) => e.status === "completed" || e.lastSuccess).map((e) => e.name))(
      "%s.html draws all its charts",
      (name) => {
        const file = path.join(results, `${name}.html`);
        const source = fs.readFileSync(file, "utf8");
        const charts = source.match(/class="senet-lab-plot"/g)?.length ?? 0;
        const dom = renderedDom(file);
        // Each chart div holds Plotly's SVG only if the bundle loaded and newPlot ran.
        const drawn = dom
          .split(/class="senet-lab-plot[^"]*"/)
          .slice(1)
          .filter((part) => {
            const next = part.search(/class="senet-lab-plot/);
            return (next < 0 ? part : part.slice(0, next)).includes('class="main-svg"');
          }).length;
        expect(drawn).toBe(charts);
        // (the messages also sit in the inline script; only as element text do they mean failure)
        expect(dom).not.toContain(">Plotly is not loaded on this page");
        expect(dom).not.toContain(">chart failed:");
      },
      120_000,
    );
  },
);
