/**
 * The zoo's size against the papers' printed tables (../shared/reference/papers.md). Counts are
 * analytic (shape-only builds, no forward pass). "GFLOPs" in the SE paper are multiply-adds of
 * convolutions and FC layers; we compare `macs` (attention FCs included, the attention's
 * elementwise ops excluded: those are reported apart and no table says it counts them).
 * Tolerance 0.5% wherever the paper prints a rounded figure; exact equality where a figure is
 * exact (ResNet-50's 25,557,032) or follows from a formula (Eq. 5, SGE's 2·G per block).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { countComplexity } from "../../src/complexity/index.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

const count = (name: string, overrides: Record<string, unknown> = {}) =>
  countComplexity(name, overrides);

/** |measured − printed| ≤ 0.5% of printed. */
function within(measured: number, printed: number, rel = 0.005): void {
  expect(
    Math.abs(measured - printed) / printed,
    `measured ${measured} vs printed ${printed}`,
  ).toBeLessThanOrEqual(rel);
}

/** SE paper Eq. 5 (FCs without bias): (2/r) · Σ_s N_s · C_s² for ResNet-50 (N = 3,4,6,3; C = 256…2048). */
function eq5ResNet50(r: number, stages = [2, 3, 4, 5]): number {
  const layout: Record<number, [number, number]> = {
    2: [3, 256],
    3: [4, 512],
    4: [6, 1024],
    5: [3, 2048],
  };
  return stages.reduce((sum, s) => {
    const [n, c] = layout[s]!;
    return sum + n * 2 * c * Math.floor(c / r);
  }, 0);
}

describe("ResNet-50 exact size", () => {
  it("has exactly 25,557,032 trainable parameters (BN moving statistics excluded)", () => {
    expect(count("resnet50").params).toBe(25_557_032);
  });
});

describe("SE paper Table 2: GFLOPs (multiply-adds), 224×224, with and without SE (r = 16)", () => {
  // ResNets with strideIn "1x1" (the Caffe ResNet the SE paper counts: 3.86 for ResNet-50;
  // "3x3" would give 4.09). ResNeXt with its own layout, stride in the grouped 3×3: its "1x1"
  // variant counts 3.77 G for ResNeXt-50, 11% below the printed 4.24, so the paper's ResNeXt
  // figures are for the stride-in-3×3 network (as in the ResNeXt and SE-ResNeXt code).
  const rows: [string, number, string, number][] = [
    ["resnet50", 3.86, "se_resnet50", 3.87],
    ["resnet101", 7.58, "se_resnet101", 7.6],
    ["resnet152", 11.3, "se_resnet152", 11.32],
    ["resnext50_32x4d", 4.24, "se_resnext50_32x4d", 4.25],
    ["resnext101_32x4d", 7.99, "se_resnext101_32x4d", 8.0],
  ];
  it.each(rows)("%s %f / %s %f", (plain, gPlain, se, gSe) => {
    const a = count(plain);
    const b = count(se);
    within(a.macs / 1e9, gPlain);
    within(b.macs / 1e9, gSe);
    // SE adds only its two FCs' multiply-adds; the networks are otherwise the same.
    expect(b.macs - a.macs).toBe(b.attentionMacs);
    expect(b.params - a.params).toBe(b.attentionParams);
  });

  it("ResNets count their stride in the first 1×1; torchvision v1.5 (3×3) costs ~4.09 G", () => {
    expect(count("resnet50").config!.strideIn).toBe("1x1");
    within(count("resnet50", { strideIn: "3x3" }).macs / 1e9, 4.09);
  });
});

describe("SE paper Table 10: parameters vs reduction ratio r (ResNet-50, FCs without bias)", () => {
  // Printed: 45.7M, 35.7M, 30.7M, 28.1M, 26.9M. Eq. 5 gives 45.68M, 35.62M, 30.59M, 28.07M,
  // 26.81M: r = 2 and 16 round to the printed values; for r = 4, 8, 32 the paper prints
  // 0.04–0.11M more than its own Eq. 5 (FC biases would add only ~0.02M), so we assert Eq. 5
  // exactly and the printed figures within 0.5%.
  const printed: [number, number][] = [
    [2, 45.7e6],
    [4, 35.7e6],
    [8, 30.7e6],
    [16, 28.1e6],
    [32, 26.9e6],
  ];
  const base = 25_557_032;
  it.each(printed)("r = %i", (r, params) => {
    const c = count("se_resnet50", { reduction: r });
    expect(c.params - base).toBe(eq5ResNet50(r));
    within(c.params, params);
  });
});

describe("SE paper Table 13: SE in one stage only (ResNet-50, r = 16)", () => {
  // Printed GFLOPs 3.86 for each single stage, 3.87 for all; params 25.6M, 25.7M, 26.4M, 28.1M.
  // Stage 4 by Eq. 5 is 26.34M (26.35M with FC biases): the printed 26.4M is 0.2% above.
  const rows: [number[], number, number][] = [
    [[2], 25.6e6, 3.86],
    [[3], 25.7e6, 3.86],
    [[4], 26.4e6, 3.86],
    [[2, 3, 4, 5], 28.1e6, 3.87],
  ];
  it.each(rows)("stages %j", (stages, params, gflops) => {
    const c = count("se_resnet50", { stages });
    expect(c.params - 25_557_032).toBe(eq5ResNet50(16, stages));
    within(c.params, params);
    within(c.macs / 1e9, gflops);
    // The attention layers sit only in the chosen stages, named se_<stage>_<block>.
    const seLayers = c.layers
      .filter((l) => l.className === "SqueezeExcite")
      .map((l) => Number(l.name.split("_")[1]));
    expect(new Set(seLayers)).toEqual(new Set(stages));
  });
});

describe("SE paper Table 15: SE after the 3×3 conv (ResNet-50, r = 16)", () => {
  it("3.86 GFLOPs, 25.8M params (Eq. 5 over the bottleneck widths C/4)", () => {
    const c = count("se_resnet50", { placement: "after3x3" });
    // Eq. 5 with C/4 channels: 1/16 of the standard placement's 2.51M = 0.157M -> 25.71M;
    // the paper prints 25.8M (0.3% above), same pattern as Table 10.
    expect(c.params - 25_557_032).toBe(eq5ResNet50(16) / 16);
    within(c.params, 25.8e6);
    within(c.macs / 1e9, 3.86);
  });
});

describe("SE paper Table 16: NoSqueeze (ResNet-50, r = 16)", () => {
  it("4.27 GFLOPs (the FCs become 1×1 convs over every position), 28.1M params", () => {
    const c = count("se_resnet50", { spatial: true });
    within(c.macs / 1e9, 4.27);
    within(c.params, 28.1e6);
    // Same parameters as SE; the extra work is exactly the FCs applied at every position.
    expect(c.params).toBe(count("se_resnet50").params);
  });
});

describe("SGE: parameters = ResNet's + 2·G per block", () => {
  it.each([
    ["sge_resnet50", "resnet50", 16],
    ["sge_resnet101", "resnet101", 33],
  ] as const)("%s", (sge, plain, blocks) => {
    const a = count(plain);
    const b = count(sge);
    expect(b.params - a.params).toBe(2 * 64 * blocks);
    expect(b.macs).toBe(a.macs);
    // PytorchInsight README: 25.56M / 44.55M.
    within(b.params, sge === "sge_resnet50" ? 25.56e6 : 44.55e6, 0.001);
  });

  it("clamps G to the channel count on CIFAR widths (16, 32, 64 groups in stages 2–4)", () => {
    const a = count("resnet20");
    const b = count("sge_resnet20");
    expect(b.params - a.params).toBe(3 * 2 * (16 + 32 + 64));
  });
});

describe("other printed sizes", () => {
  it("MobileNet v1 (SE Table 3): 569 MFLOPs, 4.2M params; SE-MobileNet 4.7M params", () => {
    const m = count("mobilenet_v1");
    within(m.macs / 1e6, 569);
    expect(m.params).toBe(4_231_976); // Keras MobileNet(alpha=1) trainable parameters
    const s = count("se_mobilenet_v1");
    within(s.params, 4.7e6, 0.01); // printed to 0.1M: 4.71M
  });

  it("CIFAR ResNets (He et al. Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M) and ResNet-164 (1.7M)", () => {
    // Exact counts of option-A CIFAR ResNets with 10 classes (also printed by
    // akamaster/pytorch_resnet_cifar10): 269,722 / 464,154 / 658,586 / 853,018 / 1,727,962.
    const exact: [string, number][] = [
      ["resnet20", 269_722],
      ["resnet32", 464_154],
      ["resnet44", 658_586],
      ["resnet56", 853_018],
      ["resnet110", 1_727_962],
    ];
    for (const [name, params] of exact) expect(count(name).params, name).toBe(params);
    within(count("resnet164").params, 1.7e6, 0.01);
  });

  it("PytorchInsight's v1.5 SE-ResNet-101 (FC biases): 49.33M", () => {
    within(count("se_resnet101", { attentionBias: true, strideIn: "3x3" }).params, 49.33e6, 0.0002);
  });
});
