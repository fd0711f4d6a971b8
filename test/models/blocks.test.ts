/**
 * Where the attention slot sits in a residual unit, read off the built graph: for each
 * integration variant (SE paper Table 14) and placement (Table 15), which layer feeds the
 * attention block and which consumes it. Also: every BN comes from the one batchNorm factory.
 */
import type * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { BN_EPSILON, BN_MOMENTUM, buildModel, presetConfig } from "../../src/models/index.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

type Graphish = tf.layers.Layer & { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] };

function producers(model: tf.LayersModel, name: string): string[] {
  return (model.getLayer(name) as Graphish).inboundNodes[0]!.inboundLayers.map((l) => l.name);
}

function consumers(model: tf.LayersModel, name: string): string[] {
  return model.layers
    .filter((l) =>
      (l as Graphish).inboundNodes.some((n) => n.inboundLayers.some((i) => i.name === name)),
    )
    .map((l) => l.name);
}

function shapeOnly(name: string, overrides: Record<string, unknown>): tf.LayersModel {
  return buildModel(presetConfig(name, overrides), { name, init: "zeros" });
}

describe("attention slot in a basic unit (se_resnet20, block conv3_1, which projects/pads)", () => {
  it.each([
    ["standard", ["conv3_1_3x3b_bn"], ["conv3_1_add"]],
    ["pre", ["conv2_3_relu"], ["conv3_1_3x3a_pad"]],
    ["post", ["conv3_1_relu"], ["conv3_2_3x3a", "conv3_2_add"]],
    ["identity", ["conv3_1_proj"], ["conv3_1_add"]],
  ])("%s", (integration, from, to) => {
    const m = shapeOnly("se_resnet20", { integration });
    expect(producers(m, "se_3_1")).toEqual(from);
    expect(consumers(m, "se_3_1").sort()).toEqual([...to].sort());
    m.dispose();
  });
});

describe("attention slot in a bottleneck (se_resnet50)", () => {
  it("standard: after the last BN, before the addition", () => {
    const m = shapeOnly("se_resnet50", { stages: [2] });
    expect(producers(m, "se_2_1")).toEqual(["conv2_1_1x1_increase_bn"]);
    expect(consumers(m, "se_2_1")).toEqual(["conv2_1_add"]);
    expect(producers(m, "conv2_1_add").sort()).toEqual(["conv2_1_1x1_proj_bn", "se_2_1"]);
    m.dispose();
  });

  it("after3x3: after the 3×3 conv's BN+ReLU, on the bottleneck width", () => {
    const m = shapeOnly("se_resnet50", { stages: [2], placement: "after3x3" });
    expect(producers(m, "se_2_1")).toEqual(["conv2_1_3x3_relu"]);
    expect(consumers(m, "se_2_1")).toEqual(["conv2_1_1x1_increase"]);
    expect(m.getLayer("se_2_1").outputShape).toEqual([null, 56, 56, 64]);
    m.dispose();
  });

  it("strideIn moves the stride between the 1×1 reduce and the 3×3", () => {
    const v1 = shapeOnly("resnet50", {});
    const v15 = shapeOnly("resnet50", { strideIn: "3x3" });
    expect(v1.getLayer("conv3_1_1x1_reduce").outputShape).toEqual([null, 28, 28, 128]);
    expect(v15.getLayer("conv3_1_1x1_reduce").outputShape).toEqual([null, 56, 56, 128]);
    expect(v15.getLayer("conv3_1_3x3").outputShape).toEqual([null, 28, 28, 128]);
    v1.dispose();
    v15.dispose();
  });
});

describe("the one batch-norm factory", () => {
  it("creates every BN layer of every architecture (PyTorch eps and momentum)", () => {
    for (const name of ["resnet20", "resnet164", "resnet18", "resnext50_32x4d", "mobilenet_v1"]) {
      const m = shapeOnly(name, {});
      const bns = m.layers.filter((l) => l.getClassName() === "FusedBatchNormalization");
      expect(bns.length, name).toBeGreaterThan(0);
      // No BN layer bypasses the factory (plain tfjs BN would miss the fused training step).
      expect(
        m.layers.filter((l) => l.getClassName() === "BatchNormalization"),
        name,
      ).toEqual([]);
      for (const bn of bns) {
        const cfg = bn.getConfig();
        expect(cfg.epsilon, bn.name).toBe(BN_EPSILON);
        expect(cfg.momentum, bn.name).toBe(BN_MOMENTUM);
      }
      m.dispose();
    }
  });
});

describe("architecture shapes", () => {
  it("ResNeXt-50 32×4d: grouped 3×3 of width 128 in conv2_x with 32 groups", () => {
    const m = shapeOnly("resnext50_32x4d", {});
    const g = m.getLayer("conv2_1_3x3");
    expect(g.getClassName()).toBe("GroupedConv2D");
    expect(g.getConfig().groups).toBe(32);
    expect(g.outputShape).toEqual([null, 56, 56, 128]);
    expect(m.getLayer("conv5_3_add").outputShape).toEqual([null, 7, 7, 2048]);
    m.dispose();
  });

  it("option A shortcut in CIFAR nets, projection on request", () => {
    const a = shapeOnly("resnet20", {});
    expect(a.getLayer("conv3_1_proj").getClassName()).toBe("PadShortcut");
    const b = shapeOnly("resnet20", { shortcut: "projection" });
    expect(b.getLayer("conv3_1_proj").getClassName()).toBe("Conv2D");
    a.dispose();
    b.dispose();
  });
});
