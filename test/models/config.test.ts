/** Model configs: defaults, JSON round-trips, and errors that name the bad value before any build. */
import { describe, expect, it } from "vitest";
import {
  createModel,
  listModels,
  MODEL_CONFIG_KEYS,
  presetConfig,
  resolveModelConfig,
} from "../../src/models/index.js";
import { configError as error } from "../util/config-error.js";

describe("resolveModelConfig", () => {
  it("resolves every preset to a JSON config that resolves to itself", () => {
    for (const name of listModels()) {
      const c = presetConfig(name);
      const again = resolveModelConfig(JSON.parse(JSON.stringify(c)));
      expect(again, name).toEqual(c);
      for (const key of Object.keys(c)) expect(MODEL_CONFIG_KEYS).toContain(key);
    }
  });

  it("fills arch-specific defaults", () => {
    expect(presetConfig("resnet50")).toMatchObject({
      strideIn: "1x1",
      width: 64,
      stages: [2, 3, 4, 5],
      inputShape: [224, 224, 3],
      numClasses: 1000,
      placement: "end",
    });
    expect(presetConfig("resnext50_32x4d")).toMatchObject({
      strideIn: "3x3",
      cardinality: 32,
      width: 4,
    });
    expect(presetConfig("resnet20")).toMatchObject({
      shortcut: "pad",
      width: 16,
      stages: [2, 3, 4],
      inputShape: [32, 32, 3],
      numClasses: 10,
    });
    expect(presetConfig("se_resnet20").reduction).toBe(8);
    expect(presetConfig("se_resnet50")).toMatchObject({ reduction: 16, attentionBias: false });
    const mobile = presetConfig("mobilenet_v1");
    expect(mobile.depth).toBeUndefined();
    expect(mobile.integration).toBeUndefined();
    expect(mobile.stages).toEqual([1, 2, 3, 4, 5]);
    // Basic-block ResNets have no strideIn/placement choice.
    expect(presetConfig("resnet18").strideIn).toBeUndefined();
  });

  it("sorts stages", () => {
    expect(presetConfig("se_resnet50", { stages: [5, 3] }).stages).toEqual([3, 5]);
  });

  it("rejects unknown keys, listing the allowed ones", () => {
    const e = error(() => presetConfig("resnet50", { reductio: 8 }));
    expect(e.message).toContain('"reductio"');
    expect(e.message).toContain("reduction");
  });

  it("rejects wrong types, quoting the value", () => {
    expect(error(() => presetConfig("se_resnet50", { reduction: "16" })).message).toMatch(
      /reduction.*"16"/,
    );
    expect(error(() => presetConfig("se_resnet50", { spatial: 1 })).message).toMatch(/spatial.*1/);
    expect(error(() => presetConfig("se_resnet50", { attention: "cbam" })).message).toMatch(
      /"none", "se", "sge".*"cbam"/,
    );
    expect(error(() => presetConfig("resnet50", { inputShape: [224, 224] })).message).toContain(
      "received: inputShape=[224,224]",
    );
  });

  it("reports bad stage lists keras-hub style (received: stages=...)", () => {
    const e = error(() => presetConfig("se_resnet50", { stages: [1, 6] }));
    expect(e.message).toContain("2–5");
    expect(e.message).toContain("received: stages=[1,6]");
    expect(error(() => presetConfig("se_resnet20", { stages: [5] })).message).toContain("2–4");
    expect(error(() => presetConfig("se_resnet50", { stages: [3, 3] })).message).toContain(
      "received: stages=[3,3]",
    );
    expect(error(() => presetConfig("se_resnet50", { stages: "3" })).message).toContain(
      'received: stages="3"',
    );
  });

  it("rejects keys that do not apply to the arch", () => {
    expect(error(() => presetConfig("resnet50", { shortcut: "pad" })).message).toMatch(
      /shortcut="pad".*"resnet"/,
    );
    expect(error(() => presetConfig("resnet20", { strideIn: "3x3" })).message).toMatch(
      /strideIn="3x3".*"resnet-cifar"/,
    );
    expect(error(() => presetConfig("mobilenet_v1", { depth: 28 })).message).toMatch(
      /depth=28.*"mobilenet-v1"/,
    );
    expect(error(() => presetConfig("resnet18", { strideIn: "1x1" })).message).toContain(
      "bottleneck",
    );
  });

  it("rejects impossible combinations", () => {
    expect(error(() => presetConfig("se_resnet20", { placement: "after3x3" })).message).toContain(
      "bottleneck",
    );
    expect(error(() => presetConfig("resnet34", { placement: "after3x3" })).message).toContain(
      "basic blocks",
    );
    expect(
      error(() => presetConfig("se_resnet50", { placement: "after3x3", integration: "post" }))
        .message,
    ).toContain('integration="post"');
    expect(
      error(() => presetConfig("se_resnet50", { spatial: true, squeeze: "max" })).message,
    ).toContain('squeeze="max"');
    expect(error(() => presetConfig("resnet20", { depth: 21 })).message).toMatch(/6n\+2.*21/);
    expect(error(() => presetConfig("resnet164", { depth: 164 + 1 })).message).toMatch(
      /9n\+2.*165/,
    );
    expect(error(() => presetConfig("resnet50", { depth: 60 })).message).toMatch(
      /18, 34, 50, 101, 152.*60/,
    );
    expect(error(() => presetConfig("resnet50", { inputShape: [16, 16, 3] })).message).toContain(
      "at least 32×32",
    );
    // SGE groups must divide each attended width (after clamping to min(G, C)).
    expect(error(() => presetConfig("sge_resnet50", { groups: 48 })).message).toMatch(
      /groups=48.*256/,
    );
    expect(presetConfig("sge_resnet50", { groups: 32 }).groups).toBe(32);
    // ... and its unbiased std needs 2 positions in the deepest attended stage.
    expect(error(() => presetConfig("sge_resnet50", { inputShape: [32, 32, 3] })).message).toMatch(
      /stage 5.*1×1/,
    );
    expect(
      presetConfig("sge_resnet50", { inputShape: [32, 32, 3], stages: [2, 3, 4] }).stages,
    ).toEqual([2, 3, 4]);
    expect(presetConfig("sge_resnet50", { inputShape: [64, 32, 3] }).inputShape).toEqual([
      64, 32, 3,
    ]);
  });

  it("rejects unknown presets, listing the available ones", () => {
    const e = error(() => createModel("resnet51"));
    expect(e.message).toContain('"resnet51"');
    expect(e.message).toContain("resnet50");
  });
});
