/**
 * Notebook 09 with weights and a validation set present: a ResNet-50 checkpoint generated here
 * (random weights, 3 classes, torchvision key names) in a weights folder and generated JPEGs in
 * class folders, the quick preset with a small limit. The notebook must find the file by its
 * model name, load it strictly, evaluate it on the images, show its row as evaluated with an
 * interval, and leave every other checkpoint "weights absent". The smoke run of every notebook
 * (notebooks.test.ts) covers the path without files.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { createModel } from "../../src/models/index.js";
import { runNotebook } from "../../src/notebook/run.js";
import { exportPretrained } from "../../src/pretrained/index.js";
import { checkSystem } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-nb09-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const hasJupyter = checkSystem().find((s) => s.piece.id === "jupyter")?.present ?? false;
const join = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join("") : (s ?? ""));

describe.skipIf(!hasJupyter)("09_pretrained with a checkpoint and images present", () => {
  it("evaluates the checkpoint it finds and says what is absent for the others", async () => {
    await initBackend("cpu", { quiet: true });
    const weights = path.join(root, "weights");
    fs.mkdirSync(weights);
    const model = createModel("resnet50", { numClasses: 3, strideIn: "3x3" });
    await exportPretrained(model, path.join(weights, "resnet50.safetensors"), {
      layout: "torchvision",
    });
    model.dispose();
    const val = path.join(root, "val");
    for (const [k, name] of ["n01", "n02", "n03"].entries()) {
      fs.mkdirSync(path.join(val, name), { recursive: true });
      for (let i = 0; i < 2; i++) {
        await sharp({
          create: {
            width: 300 + 40 * i,
            height: 260,
            channels: 3,
            background: { r: 80 * k, g: 120, b: 40 },
          },
        })
          .jpeg()
          .toFile(path.join(val, name, `${i}.jpg`));
      }
    }
    const output = path.join(root, "09.ipynb");
    const r = await runNotebook({
      input: path.join(PROJECT_ROOT, "notebooks", "09_pretrained.ipynb"),
      output,
      params: { preset: "quick", weightsDir: weights, imagenetVal: val, limit: 6, batchSize: 4 },
      stderr: "pipe",
    });
    expect(r.error ?? "", `failed in cell ${r.failedCell}`).toBe("");
    const cells = (
      JSON.parse(fs.readFileSync(output, "utf8")) as {
        cells: {
          cell_type: string;
          outputs?: { text?: string[]; data?: Record<string, string[]> }[];
        }[];
      }
    ).cells.filter((c) => c.cell_type === "code");
    const text = cells.flatMap((c) => (c.outputs ?? []).map((o) => join(o.text))).join("\n");
    const html = cells
      .flatMap((c) => (c.outputs ?? []).map((o) => join(o.data?.["text/html"])))
      .join("\n");
    expect(text).toContain("max |logit difference| after the round trip: 0");
    expect(html).toContain("evaluated resnet50.safetensors");
    expect(html).toMatch(/\d+\.\d\d \[\d+\.\d\d, \d+\.\d\d\] \/ \d+\.\d\d/); // ours top-1 [CI] / top-5
    expect(html).toContain("weights absent: put se_resnet50-ce0d4300.pth in");
    expect(text).toMatch(
      /resnet50 \(torchvision resnet50 IMAGENET1K_V1\): ours [\d.]+ % \[[\d.]+, [\d.]+\] on 6 images/,
    );
    expect(text).not.toMatch(/No checkpoint was evaluated/);
  }, 240_000);
});
