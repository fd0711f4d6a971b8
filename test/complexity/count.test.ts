/** The counting rules on small hand-checkable graphs, and countComplexity's API contract. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { countComplexity } from "../../src/complexity/index.js";
import { ConfigError } from "../../src/errors.js";
import { createAttention } from "../../src/layers/index.js";
import { createModel, GroupedConv2D } from "../../src/models/index.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

type ST = tf.SymbolicTensor;

describe("layer rules", () => {
  it("counts conv, grouped conv, depthwise, dense, BN and SE by hand", () => {
    const input = tf.input({ shape: [8, 8, 6] });
    let x = tf.layers
      .conv2d({ filters: 10, kernelSize: 3, strides: 2, padding: "same", useBias: true, name: "c" })
      .apply(input) as ST; // 4×4×10
    x = tf.layers.batchNormalization({ name: "bn" }).apply(x) as ST;
    x = new GroupedConv2D({
      filters: 4,
      kernelSize: 3,
      groups: 2,
      padding: "same",
      name: "g",
    }).apply(x) as ST; // 4×4×4
    x = tf.layers
      .depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false, name: "dw" })
      .apply(x) as ST;
    x = createAttention("se", { reduction: 2, name: "se" })!.apply(x) as ST; // hidden 2
    x = createAttention("sge", { groups: 2, name: "sge" })!.apply(x) as ST;
    x = tf.layers.globalAveragePooling2d({ name: "gap" }).apply(x) as ST;
    const y = tf.layers.dense({ units: 3, name: "fc" }).apply(x) as ST;
    const r = countComplexity(tf.model({ inputs: input, outputs: y, name: "tiny" }));
    const by = Object.fromEntries(r.layers.map((l) => [l.name, l]));
    expect(by.c!.macs).toBe(9 * 6 * 10 * 16);
    expect(by.c!.params).toBe(9 * 6 * 10 + 10);
    expect(by.bn!.params).toBe(20); // gamma, beta; the moving mean/variance are not trainable
    expect(by.bn!.macs).toBe(0);
    expect(by.g!.macs).toBe(9 * 5 * 4 * 16);
    expect(by.g!.params).toBe(9 * 5 * 4);
    expect(by.dw!.macs).toBe(9 * 4 * 16);
    expect(by.se!.macs).toBe(2 * 4 * 2);
    expect(by.se!.params).toBe(2 * 4 * 2);
    // squeeze 16·4 adds + 4 divides, ReLU on 2 + sigmoid on 4, rescale 16·4.
    expect(by.se!.attentionOps).toBe(64 + 4 + 2 + 4 + 64);
    expect(by.sge!.params).toBe(4);
    expect(by.sge!.attentionOps).toBe(3 * 64 + 7 * 16 * 2);
    expect(by.fc!.macs).toBe(12);
    expect(r.params).toBe(r.layers.reduce((a, l) => a + l.params, 0));
    expect(r.macs).toBe(r.layers.reduce((a, l) => a + l.macs, 0));
    expect(r.attentionParams).toBe(16 + 4);
    expect(r.attentionMacs).toBe(16);
    expect(r.inputShape).toEqual([8, 8, 6]);
  });

  it("refuses a weighted layer it has no rule for", () => {
    const input = tf.input({ shape: [5, 3] });
    const y = tf.layers.conv1d({ filters: 2, kernelSize: 3, name: "c1d" }).apply(input) as ST;
    expect(() => countComplexity(tf.model({ inputs: input, outputs: y }))).toThrow(/Conv1D.*c1d/);
  });
});

describe("countComplexity", () => {
  it("counts a built model the same as its preset name (zero-init shape-only build)", () => {
    const built = createModel("se_resnet20");
    const a = countComplexity(built);
    const b = countComplexity("se_resnet20");
    expect(a.params).toBe(b.params);
    expect(a.macs).toBe(b.macs);
    expect(a.attentionOps).toBe(b.attentionOps);
    expect(a.layers).toEqual(b.layers);
    expect(b.config?.attention).toBe("se");
    built.dispose();
  });

  it("scales MACs with the input area and validates overrides first", () => {
    const full = countComplexity("resnet50");
    const big = countComplexity("resnet50", { inputShape: [448, 448, 3] });
    expect(big.params).toBe(full.params);
    // The FC (2048·1000) does not scale; every conv does, by exactly 4 (all sizes stay even).
    expect(big.macs - 2_048_000).toBe((full.macs - 2_048_000) * 4);
    expect(() => countComplexity("resnet50", { depth: 49 })).toThrow(ConfigError);
    const m = createModel("resnet20");
    expect(() => countComplexity(m, { depth: 32 })).toThrow(/preset names only/);
    m.dispose();
  });
});
