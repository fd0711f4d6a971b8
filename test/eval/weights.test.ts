/** loadEvalModel: model folders and run folders load, random-init builds, other files are refused. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { ConfigError } from "../../src/errors.js";
import { loadEvalModel } from "../../src/eval/weights.js";
import { saveModel } from "../../src/io/index.js";
import { createModel } from "../../src/models/index.js";

let tmp: string;

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-weights-"));
  const model = createModel("resnet20", { numClasses: 4, inputShape: [16, 16, 3], depth: 8 });
  await saveModel(model, path.join(tmp, "run", "model"));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("loadEvalModel", () => {
  it("reads a PyTorch-layout safetensors file through loadPretrained, with its normalisation", async () => {
    const file = path.join(
      import.meta.dirname,
      "..",
      "fixtures",
      "pretrained",
      "resnet18_w8.safetensors",
    );
    const r = await loadEvalModel("resnet18", file, {
      overrides: { width: 8 },
      inputShape: [64, 64, 3],
    });
    expect(r.layout).toBe("torchvision");
    expect(r.normalization).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(r.model.inputs[0]!.shape).toEqual([null, 64, 64, 3]);
    expect(r.model.outputs[0]!.shape).toEqual([null, 10]);
    r.model.dispose();
  });

  it("reads a model folder, and a run folder through its model/", async () => {
    const a = await loadEvalModel("resnet20", path.join(tmp, "run", "model"));
    const b = await loadEvalModel("resnet20", path.join(tmp, "run"));
    expect(a.source).toBe(path.join(tmp, "run", "model"));
    expect(b.source).toBe(a.source);
    expect(a.model.outputs[0]!.shape).toEqual([null, 4]);
    expect(a.notes).toEqual([]);
  });

  it("notes a saved name other than the one asked for", async () => {
    const r = await loadEvalModel("se_resnet20", path.join(tmp, "run"));
    expect(r.notes[0]).toMatch(/saved as "resnet20", not "se_resnet20"/);
  });

  it("random-init builds the preset with the data's classes and crop, and says so", async () => {
    const r = await loadEvalModel("resnet20", null, {
      randomInit: true,
      numClasses: 7,
      inputShape: [24, 24, 3],
    });
    expect(r.source).toBe("random-init");
    expect(r.model.inputs[0]!.shape).toEqual([null, 24, 24, 3]);
    expect(r.model.outputs[0]!.shape).toEqual([null, 7]);
    expect(r.notes[0]).toMatch(/chance/);
  });

  it("refuses foreign files, missing paths, unknown models and both sources at once", async () => {
    const st = path.join(tmp, "w.onnx");
    fs.writeFileSync(st, "{}");
    await expect(loadEvalModel("resnet20", st)).rejects.toThrow(
      /".*w\.onnx" is an ONNX model; accepted: a senet-lab model folder .*\.safetensors, \.pth/,
    );
    await expect(
      loadEvalModel("resnet20", path.join(tmp, "run"), { layout: "timm" }),
    ).rejects.toThrow(/layout applies to random-init or a PyTorch \/ safetensors file/);
    await expect(loadEvalModel("resnet20", path.join(tmp, "nope"))).rejects.toThrow(
      /weights ".*nope" do not exist/,
    );
    await expect(loadEvalModel("resnet21", path.join(tmp, "run"))).rejects.toThrow(
      /unknown model "resnet21"/,
    );
    await expect(
      loadEvalModel("resnet20", path.join(tmp, "run"), { randomInit: true }),
    ).rejects.toThrow(ConfigError);
    await expect(loadEvalModel("resnet20", null)).rejects.toThrow(/needs weights/);
  });
});
