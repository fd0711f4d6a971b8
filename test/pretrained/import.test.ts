/**
 * loadPretrained / applyStateDict / export: strictness (every missing, unexpected and misshapen
 * key listed in one WeightMismatchError), layout choice, the config a layout imposes, export →
 * import round trips, and that the parity measure does tell a wrong network apart.
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { ConfigError, SenetLabError } from "../../src/errors.js";
import { createModel, presetConfig } from "../../src/models/index.js";
import {
  applyStateDict,
  encodeSafetensors,
  exportPretrained,
  keyMap,
  LAYOUT_NAMES,
  LAYOUTS,
  loadPretrained,
  readStateDict,
  stateDictOf,
  WeightMismatchError,
} from "../../src/pretrained/index.js";
import { FIXTURES, readInput, readManifest, relativeError } from "./support.js";

const CASES = readManifest(FIXTURES);
const fixture = (name: string) => path.join(FIXTURES, CASES[name]!.file);

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

describe("strict import", () => {
  it("lists every missing, unexpected and misshapen key in one WeightMismatchError", async () => {
    const dict = await readStateDict(fixture("resnet50_w4"));
    const removed = ["layer1.0.conv1.weight", "layer3.2.bn2.running_var", "fc.bias"];
    for (const k of removed) dict.delete(k);
    dict.set("layer5.0.conv1.weight", { dtype: "F32", shape: [1], data: new Float32Array(1) });
    dict.set("extra", { dtype: "F32", shape: [1], data: new Float32Array(1) });
    const bad = dict.get("layer2.0.conv2.weight")!;
    dict.set("layer2.0.conv2.weight", { ...bad, shape: [bad.shape[0]!, bad.shape[1]!, 9] });
    const model = createModel("resnet50", {
      width: 4,
      numClasses: 10,
      inputShape: [64, 64, 3],
      strideIn: "3x3",
    });
    const before = model.getWeights().map((w) => w.dataSync().slice());
    let error: unknown;
    try {
      applyStateDict(model, dict, "torchvision", "w.safetensors");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WeightMismatchError);
    expect(error).toBeInstanceOf(SenetLabError);
    const e = error as WeightMismatchError;
    expect(e.missing).toEqual([...removed].sort());
    expect(e.unexpected).toEqual(["extra", "layer5.0.conv1.weight"]);
    expect(e.shapes).toEqual([
      { key: "layer2.0.conv2.weight", found: [8, 8, 9], expected: [8, 8, 3, 3] },
    ]);
    expect(e.message).toContain(
      '"w.safetensors" does not fit the network under layout "torchvision"',
    );
    expect(e.message).toContain(
      "missing 3: fc.bias, layer1.0.conv1.weight, layer3.2.bn2.running_var",
    );
    expect(e.message).toContain(
      "wrong shape 1: layer2.0.conv2.weight is [8, 8, 9], needs [8, 8, 3, 3]",
    );
    // Nothing was set.
    for (const [i, w] of model.getWeights().entries()) expect(w.dataSync()).toEqual(before[i]);
    model.dispose();
  });

  it("a file of another layout is refused with a hint naming the layout its keys look like", async () => {
    const c = CASES.se_resnet50_legacy_w4!;
    const err = await loadPretrained(c.model, fixture("se_resnet50_legacy_w4"), {
      layout: "timm",
      overrides: c.overrides,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightMismatchError);
    expect((err as WeightMismatchError).missing).toContain("conv1.weight");
    expect((err as WeightMismatchError).unexpected).toContain("layer0.conv1.weight");
    expect((err as Error).message).toContain('Its keys look like layout "legacy-senet"');
  });

  it("ignores num_batches_tracked and a DataParallel `module.` prefix", async () => {
    const dict = await readStateDict(fixture("resnet18_w8"));
    expect([...dict.keys()].some((k) => k.endsWith("num_batches_tracked"))).toBe(true);
    const prefixed = new Map([...dict].map(([k, v]) => [`module.${k}`, v]));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-"));
    const file = path.join(dir, "m.safetensors");
    fs.writeFileSync(
      file,
      encodeSafetensors(
        new Map([...prefixed].map(([k, v]) => [k, { shape: v.shape, data: v.data }])),
      ),
    );
    const { model } = await loadPretrained("resnet18", file, { overrides: { width: 8 } });
    model.dispose();
    fs.rmSync(dir, { recursive: true });
  });
});

describe("layout choice and config", () => {
  it.each([
    ["resnet18_w8", "torchvision"],
    ["se_resnet50_timm_w4", "timm"],
    ["se_resnet50_legacy_w4", "legacy-senet"],
    ["sge_resnet50_w4", "pytorchinsight"],
  ])("%s: the layout follows from the model name or the file's keys (%s)", async (name, layout) => {
    const c = CASES[name]!;
    const r = await loadPretrained(c.model, fixture(name), {
      overrides: c.overrides,
      inputShape: c.inputShape,
    });
    expect(r.layout).toBe(layout);
    expect(r.config!.numClasses).toBe(10); // read from the file's classifier
    const needed = LAYOUTS[r.layout].config(r.config!);
    for (const [k, v] of Object.entries(needed))
      expect((r.config as unknown as Record<string, unknown>)[k]).toEqual(v);
    r.model.dispose();
  });

  it("the Caffe SENet strides in the 1×1 for SE-ResNet and in the 3×3 for SE-ResNeXt and pools in ceil mode; timm always in the 3×3, with SE biases", () => {
    const cfg = (model: string) => presetConfig(model);
    expect(LAYOUTS["legacy-senet"].config(cfg("se_resnet50"))).toEqual({
      strideIn: "1x1",
      attentionBias: true,
      stemPool: "ceil",
    });
    expect(LAYOUTS["legacy-senet"].config(cfg("se_resnext50_32x4d"))).toEqual({
      strideIn: "3x3",
      attentionBias: true,
      stemPool: "ceil",
    });
    expect(LAYOUTS.timm.config(cfg("se_resnet50"))).toEqual({
      strideIn: "3x3",
      attentionBias: true,
    });
    expect(LAYOUTS.torchvision.config(cfg("resnet18"))).toEqual({});
  });

  it("refuses an override the layout contradicts, an unknown layout and a model with no layout, quoting them", async () => {
    await expect(
      loadPretrained("resnet50", fixture("resnet50_w4"), {
        overrides: { width: 4, strideIn: "1x1" },
      }),
    ).rejects.toThrowError(
      /layout "torchvision" needs strideIn="3x3".*got override strideIn="1x1"/,
    );
    await expect(
      loadPretrained("resnet50", fixture("resnet50_w4"), { layout: "caffe" as never }),
    ).rejects.toThrowError(
      new RegExp(`unknown weight layout "caffe"; layouts: ${LAYOUT_NAMES.join(", ")}`),
    );
    await expect(loadPretrained("resnet20", fixture("resnet50_w4"))).rejects.toThrowError(
      /no weight layout is known for model "resnet20"/,
    );
    const model = createModel("resnet18", { width: 8, numClasses: 10 });
    await expect(loadPretrained(model, fixture("resnet18_w8"))).rejects.toThrowError(ConfigError);
    const r = await loadPretrained(model, fixture("resnet18_w8"), { layout: "torchvision" });
    expect(r.config).toBeNull();
    expect(r.normalization).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    model.dispose();
    const mobilenet = createModel("mobilenet_v1", {
      width: 0.25,
      inputShape: [32, 32, 3],
      numClasses: 10,
    });
    expect(() => keyMap(mobilenet, "torchvision")).toThrowError(
      /has weights but no name in layout "torchvision"; the layouts cover the ImageNet ResNet\/ResNeXt zoo only/,
    );
    mobilenet.dispose();
  });
});

describe("export", () => {
  it.each(Object.keys(CASES))(
    "%s: export → import gives identical weights, and the file's keys",
    async (name) => {
      const c = CASES[name]!;
      const { model, layout } = await loadPretrained(c.model, fixture(name), {
        overrides: c.overrides,
      });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "export-"));
      const out = path.join(dir, "out.safetensors");
      await exportPretrained(model, out, { layout, metadata: { model: c.model } });
      const original = await readStateDict(fixture(name));
      const exported = await readStateDict(out);
      expect([...exported.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [k, t] of exported) {
        expect(t.shape, k).toEqual(original.get(k)!.shape);
        if (t.dtype !== "I64") expect(t.data, k).toEqual(original.get(k)!.data);
      }
      const again = await loadPretrained(c.model, out, { overrides: c.overrides });
      const a = model.getWeights();
      for (const [i, w] of again.model.getWeights().entries()) {
        expect(w.dataSync()).toEqual(a[i]!.dataSync());
      }
      expect(stateDictOf(model, layout).size).toBe(
        keyMap(model, layout).entries.length + keyMap(model, layout).ignored.size,
      );
      model.dispose();
      again.model.dispose();
      fs.rmSync(dir, { recursive: true });
    },
  );
});

describe("the parity measure discriminates", () => {
  it("torchvision weights in a network striding in the 1×1 give logits far from PyTorch's", async () => {
    const c = CASES.resnet50_w4!;
    const model = createModel("resnet50", {
      ...c.overrides,
      numClasses: 10,
      inputShape: c.inputShape,
      strideIn: "1x1",
    });
    applyStateDict(model, await readStateDict(fixture("resnet50_w4")), "torchvision");
    const x = await readInput(path.join(FIXTURES, c.input));
    const y = model.predict(x) as tf.Tensor;
    const err = relativeError(await y.data(), c.logits);
    tf.dispose([x, y]);
    model.dispose();
    expect(err).toBeGreaterThan(1e-2);
  });
});
