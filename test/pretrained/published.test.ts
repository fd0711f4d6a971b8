/** The published-checkpoint table notebook 09 reads, and how it finds a user's files. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { presetConfig } from "../../src/models/index.js";
import { LAYOUTS } from "../../src/pretrained/key-maps.js";
import {
  defaultWeightsDir,
  findCheckpointFile,
  PUBLISHED_CHECKPOINTS,
} from "../../src/pretrained/published.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-published-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const entry = (model: string) => PUBLISHED_CHECKPOINTS.find((c) => c.model === model)!;

describe("PUBLISHED_CHECKPOINTS", () => {
  it("names zoo models each under a layout that loads them, with accuracies that are percentages", () => {
    expect(PUBLISHED_CHECKPOINTS.length).toBe(11);
    for (const c of PUBLISHED_CHECKPOINTS) {
      expect(() => presetConfig(c.model)).not.toThrow();
      expect(LAYOUTS[c.layout].models, `${c.model} under ${c.layout}`).toContain(c.model);
      for (const v of [c.publishedTop1, c.publishedTop5, c.paperTop1, c.paperTop5]) {
        expect(v).toBeGreaterThan(70);
        expect(v).toBeLessThan(100);
      }
      expect(c.publishedTop5).toBeGreaterThan(c.publishedTop1);
    }
    // SE Table 2 prints error: SE-ResNet-50 23.29 / 6.62 is 76.71 / 93.38 accuracy.
    expect(entry("se_resnet50")).toMatchObject({ paperTop1: 76.71, paperTop5: 93.38 });
  });
});

describe("findCheckpointFile", () => {
  it("prefers the published file name, matches <model>[-_.]… only, and needs a checkpoint suffix", () => {
    const dir = path.join(root, "w");
    fs.mkdirSync(dir);
    expect(findCheckpointFile(path.join(root, "absent"), entry("resnet50"))).toBeNull();
    for (const f of ["se_resnet50-ce0d4300.pth", "resnet50.txt", "resnet500.pth"]) {
      fs.writeFileSync(path.join(dir, f), "");
    }
    // "se_resnet50…" is not ResNet-50's, a .txt is no checkpoint, "resnet500" is another name.
    expect(findCheckpointFile(dir, entry("resnet50"))).toBeNull();
    expect(findCheckpointFile(dir, entry("se_resnet50"))).toBe(
      path.join(dir, "se_resnet50-ce0d4300.pth"),
    );
    fs.writeFileSync(path.join(dir, "resnet50.safetensors"), "");
    expect(findCheckpointFile(dir, entry("resnet50"))).toBe(path.join(dir, "resnet50.safetensors"));
    fs.writeFileSync(path.join(dir, "resnet50-0676ba61.pth"), "");
    expect(findCheckpointFile(dir, entry("resnet50"))).toBe(
      path.join(dir, "resnet50-0676ba61.pth"),
    );
  });

  it("looks in $SENET_LAB_WEIGHTS_DIR, else beside the datasets' cache", () => {
    expect(defaultWeightsDir({ SENET_LAB_WEIGHTS_DIR: "/w" })).toBe("/w");
    expect(defaultWeightsDir({ XDG_CACHE_HOME: "/c" })).toBe("/c/senet-lab/weights");
  });
});
