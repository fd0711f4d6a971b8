import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  ATTENTION_TYPES,
  type AttentionOptions,
  type AttentionType,
  createAttention,
  SpatialGroupEnhance,
  SqueezeExcite,
} from "../../src/layers/index.js";
import { thrown } from "./support.js";

describe("createAttention", () => {
  it("lists none, se, sge and returns null for none", () => {
    expect(ATTENTION_TYPES).toEqual(["none", "se", "sge"]);
    expect(createAttention("none")).toBeNull();
    expect(createAttention("none", { reduction: 4, groups: 8 })).toBeNull();
  });

  it("builds SE and SGE layers with their own fields, ignoring the other block's", () => {
    const shared: AttentionOptions = { reduction: 8, squeeze: "max", useBias: true, groups: 4 };
    const se = createAttention("se", { ...shared, name: "se_1" }) as SqueezeExcite;
    expect(se).toBeInstanceOf(SqueezeExcite);
    expect(se.name).toBe("se_1");
    expect(se.getConfig()).toMatchObject({ reduction: 8, squeeze: "max", useBias: true });
    expect(se.getConfig()).not.toHaveProperty("groups");
    const sge = createAttention("sge", { ...shared, epsilon: 1e-3 }) as SpatialGroupEnhance;
    expect(sge).toBeInstanceOf(SpatialGroupEnhance);
    expect(sge.groups).toBe(4);
    expect(sge.epsilon).toBe(1e-3);
  });

  it("uses the layers' defaults when options are empty", () => {
    const se = createAttention("se") as SqueezeExcite;
    expect([se.reduction, se.squeeze, se.excitation, se.useBias, se.spatial]).toEqual([
      16,
      "avg",
      "sigmoid",
      false,
      false,
    ]);
    expect((createAttention("sge") as SpatialGroupEnhance).groups).toBe(64);
  });

  it("rejects unknown types and unknown option keys, naming the allowed ones", () => {
    const e = thrown(() => createAttention("cbam" as AttentionType));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/attention type must be one of "none", "se", "sge"; got "cbam"/);
    const e2 = thrown(() => createAttention("se", { ratio: 4 } as AttentionOptions));
    expect(e2).toBeInstanceOf(ConfigError);
    expect(e2.message).toMatch(/unknown attention option "ratio"; allowed: reduction/);
  });

  it("passes bad values on to the layer's validation", () => {
    expect(thrown(() => createAttention("se", { excitation: "gelu" as never })).message).toMatch(
      /excitation must be one of/,
    );
    expect(thrown(() => createAttention("sge", { groups: 0 })).message).toMatch(
      /groups must be an integer >= 1; got 0/,
    );
  });
});
