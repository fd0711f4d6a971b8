/** The model config schema (a union keyed on arch) and the per-stage plan the builders, the validator and the counter share. */
import { describe, expect, it } from "vitest";
import { countComplexity } from "../../src/complexity/index.js";
import {
  ATTENTION_KEY_READERS,
  archKeys,
  buildModel,
  isResolvedModelConfig,
  MODEL_CONFIG_KEYS,
  networkPlan,
  presetConfig,
  resolveModelConfig,
  stageOfLayer,
} from "../../src/models/index.js";
import { configError as error } from "../util/config-error.js";

describe("model config schema", () => {
  it("names an unknown key and lists every allowed key", () => {
    const e = error(() => resolveModelConfig({ arch: "resnet", blocks: 3 }));
    expect(e.message).toContain('unknown model config key "blocks"; allowed keys: ');
    for (const k of MODEL_CONFIG_KEYS) expect(e.message).toContain(k);
  });

  it("quotes a value of the wrong type", () => {
    expect(error(() => resolveModelConfig({ arch: "resnet", depth: "50" })).message).toBe(
      'depth must be an integer >= 1; got "50"',
    );
    expect(error(() => resolveModelConfig({ arch: "resnet", attentionBias: "no" })).message).toBe(
      'attentionBias must be true or false; got "no"',
    );
    expect(error(() => resolveModelConfig({ arch: "mobilenet-v1", width: -1 })).message).toBe(
      "width (MobileNet multiplier α) must be a positive number; got -1",
    );
    expect(error(() => resolveModelConfig({ arch: "resnet", width: 1.5 })).message).toBe(
      'width (arch "resnet") must be an integer >= 1; got 1.5',
    );
    expect(error(() => resolveModelConfig({ arch: "vgg" })).message).toMatch(
      /arch must be one of "resnet-cifar", .*"mobilenet-v1"; got "vgg"/,
    );
  });

  it("refuses a key of another arch (the union on arch), listing the arch's keys", () => {
    const e = error(() => resolveModelConfig({ arch: "resnet-cifar", cardinality: 32 }));
    expect(e.message).toMatch(
      /^key cardinality=32 does not apply to arch "resnet-cifar"; its keys: /,
    );
    expect(e.message).toContain("shortcut");
    expect(e.message).not.toMatch(/its keys: .*cardinality/);
    expect(archKeys("mobilenet-v1")).not.toContain("depth");
    expect(archKeys("resnext")).toContain("cardinality");
  });

  it("derives the key lists from the schema", () => {
    const all = new Set(
      (
        ["resnet-cifar", "preact-resnet-cifar", "resnet", "resnext", "mobilenet-v1"] as const
      ).flatMap((a) => archKeys(a)),
    );
    expect(new Set(MODEL_CONFIG_KEYS)).toEqual(all);
    expect(MODEL_CONFIG_KEYS.length).toBe(all.size);
    expect(ATTENTION_KEY_READERS).toEqual({
      reduction: ["se"],
      squeeze: ["se"],
      excitation: ["se"],
      spatial: ["se"],
      attentionBias: ["se"],
      groups: ["sge"],
      stages: ["se", "sge"],
      integration: ["se", "sge"],
      placement: ["se", "sge"],
    });
  });

  it("keeps the resolved key order config.json has always had", () => {
    expect(Object.keys(presetConfig("se_resnext50_32x4d"))).toEqual([
      "arch",
      "attention",
      "reduction",
      "squeeze",
      "excitation",
      "spatial",
      "groups",
      "attentionBias",
      "stages",
      "width",
      "numClasses",
      "inputShape",
      "depth",
      "integration",
      "placement",
      "strideIn",
      "cardinality",
    ]);
  });

  it("marks what it resolved, and only that, as needing no second parse", () => {
    const c = presetConfig("resnet20");
    expect(isResolvedModelConfig(c)).toBe(true);
    expect(isResolvedModelConfig(JSON.parse(JSON.stringify(c)))).toBe(false);
  });
});

describe("networkPlan", () => {
  const widths = (name: string, overrides = {}) =>
    networkPlan(presetConfig(name, overrides)).stages.map((s) => [
      s.stage,
      s.units.length,
      s.inChannels,
      s.inner,
      s.out,
      s.outputStride,
    ]);

  it("plans the CIFAR ResNets: 3 stages of (depth − 2) / 6 units, widths w·2^k", () => {
    expect(widths("resnet20")).toEqual([
      [2, 3, 16, 16, 16, 1],
      [3, 3, 16, 32, 32, 2],
      [4, 3, 32, 64, 64, 4],
    ]);
    const units = networkPlan(presetConfig("resnet20")).stages[1]!.units;
    expect(units.map((u) => [u.name, u.strides])).toEqual([
      ["conv3_1", 2],
      ["conv3_2", 1],
      ["conv3_3", 1],
    ]);
    expect(widths("resnet164")[2]).toEqual([4, 18, 128, 64, 256, 4]);
  });

  it("plans bottleneck ResNets and ResNeXt (inner floor(64·2^k·d/64)·C)", () => {
    const r50 = networkPlan(presetConfig("resnet50"));
    expect(r50.bottleneck).toBe(true);
    expect(r50.stem).toBe(64);
    expect(widths("resnet50")).toEqual([
      [2, 3, 64, 64, 256, 4],
      [3, 4, 256, 128, 512, 8],
      [4, 6, 512, 256, 1024, 16],
      [5, 3, 1024, 512, 2048, 32],
    ]);
    expect(networkPlan(presetConfig("resnet18")).bottleneck).toBe(false);
    expect(widths("resnext50_32x4d").map((s) => s[3])).toEqual([128, 256, 512, 1024]);
  });

  it("plans MobileNet v1 from its unit table at multiplier α", () => {
    const plan = networkPlan(presetConfig("mobilenet_v1", { width: 0.5 }));
    expect(plan.stem).toBe(16);
    expect(plan.stages.map((s) => [s.stage, s.units.length, s.out, s.outputStride])).toEqual([
      [1, 1, 32, 2],
      [2, 2, 64, 4],
      [3, 2, 128, 8],
      [4, 6, 256, 16],
      [5, 2, 512, 32],
    ]);
    expect(plan.stages[3]!.units.map((u) => u.name)[0]).toBe("conv_dw_6");
    const stageOf = stageOfLayer(plan);
    expect(["conv_pw_6_bn", "se_4_1", "conv_dw_13_pad", "conv1_bn"].map(stageOf)).toEqual([
      4,
      4,
      5,
      undefined,
    ]);
  });

  it("is computed once per resolved config: the validator's plan is the one the builder and the counter read", () => {
    const c = presetConfig("se_resnet20");
    expect(networkPlan(c)).toBe(networkPlan(c));
  });

  it("is what the validator reads: SGE groups against each stage's widths, the input against the total stride", () => {
    expect(error(() => presetConfig("sge_resnet50", { groups: 48 })).message).toMatch(
      /groups=48.*256/,
    );
    expect(error(() => presetConfig("resnet20", { inputShape: [3, 3, 3] })).message).toContain(
      "at least 4×4",
    );
  });

  it("is what the complexity counter sums per stage", () => {
    const r = countComplexity("se_resnet20");
    const stages = r.stages!;
    expect(stages.map((s) => [s.stage, s.units, s.outChannels])).toEqual([
      [2, 3, 16],
      [3, 3, 32],
      [4, 3, 64],
    ]);
    expect(stages.reduce((a, s) => a + s.attentionParams, 0)).toBe(r.attentionParams);
    const stemAndHead = r.layers
      .filter((l) => l.name.startsWith("conv1") || l.name === "fc")
      .reduce((a, l) => a + l.params, 0);
    expect(stages.reduce((a, s) => a + s.params, 0) + stemAndHead).toBe(r.params);
  });
});

describe("stemPool (the ImageNet stem's max pool)", () => {
  it("builds PyTorch's pool output sizes in both modes (equal at 224, one less in ceil mode at odd sizes), and refuses other values", () => {
    for (const side of [224, 225, 65]) {
      const size = (stemPool: "pad" | "ceil") => {
        const m = buildModel(
          {
            arch: "resnet",
            depth: 18,
            width: 8,
            numClasses: 3,
            inputShape: [side, side, 3],
            stemPool,
          },
          { init: "zeros" },
        );
        const out = m.getLayer("pool1").outputShape as number[];
        m.dispose();
        return out[1];
      };
      const conv = Math.floor((side + 6 - 7) / 2) + 1; // conv1 7×7/2, padding 3
      // PyTorch MaxPool2d(3, 2, 1): floor((n + 2 - 3) / 2) + 1; MaxPool2d(3, 2, ceil_mode=True): ceil((n - 3) / 2) + 1.
      expect(size("pad"), `pad at ${side}`).toBe(Math.floor((conv - 1) / 2) + 1);
      expect(size("ceil"), `ceil at ${side}`).toBe(Math.ceil((conv - 3) / 2) + 1);
    }
    expect(error(() => resolveModelConfig({ arch: "resnet", stemPool: "floor" })).message).toBe(
      'stemPool must be one of "pad", "ceil"; got "floor"',
    );
    expect(error(() => presetConfig("resnet20", { stemPool: "ceil" })).message).toContain(
      'key stemPool="ceil" does not apply to arch "resnet-cifar"',
    );
  });
});
