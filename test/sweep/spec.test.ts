import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { expandRunsUnchecked, formatValue, runId } from "../../src/sweep/expand.js";
import { expandSweep, resolveSweepSpec } from "../../src/sweep/resolve.js";
import { checkSweepShape } from "../../src/sweep/spec.js";

const base = { model: "resnet20", dataset: "synthetic", epochs: 2 };

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("spec shape", () => {
  it("rejects unknown top-level keys, listing the valid ones", () => {
    const m = message(() => checkSweepShape({ name: "a", base, seeds: [1], grids: {} }));
    expect(m).toContain(
      'unknown key "grids"; valid keys: name, description, base, grid, seeds, paper',
    );
  });

  it("collects every shape problem at once", () => {
    const m = message(() =>
      checkSweepShape({ name: "../x", grid: { seed: [1], lr: [] }, seeds: [1, 1] }),
    );
    expect(m).toMatch(/\(4 problems\)/);
    expect(m).toContain('"name" must be a folder-safe string');
    expect(m).toContain('"grid" must not vary "seed"');
    expect(m).toContain('grid key "lr" must map to a non-empty array');
    expect(m).toContain('"seeds" lists a seed twice');
  });

  it("checks paper entries against the grid", () => {
    const m = message(() =>
      checkSweepShape({
        name: "a",
        grid: { attention: ["none", "se"] },
        seeds: [0],
        paper: [
          { where: { attention: "sge" }, metric: "testError", value: 7 },
          { where: { depth: 20 }, metric: "testError", value: "7" },
        ],
      }),
    );
    expect(m).toContain(
      'paper[0].where: attention="sge" is not a grid value; values: ["none","se"]',
    );
    expect(m).toContain('paper[1].where: "depth" is not a grid key; grid keys: attention');
    expect(m).toContain('paper[1].value must be a finite number; got "7"');
  });
});

describe("resolveSweepSpec", () => {
  it("validates every run's config before anything runs, naming the runs", () => {
    const m = message(() =>
      resolveSweepSpec({
        name: "bad",
        base,
        grid: { lr: [0.1, -1], attention: ["none", "se"] },
        seeds: [1, 2],
      }),
    );
    // Same message from four runs is said once, with the first run named.
    expect(m).toContain(
      "runs attention=none__lr=-1__seed=1 and 3 more: lr must be a positive number; got -1",
    );
    expect(m).not.toContain("lr=0.1");
  });

  it("passes the training loop's unknown-key error through, with the valid keys", () => {
    const m = message(() =>
      resolveSweepSpec({ name: "bad", base: { ...base, learningRate: 0.1 }, seeds: [1] }),
    );
    expect(m).toMatch(
      /run seed=1: unknown experiment config key "learningRate"; valid keys: model, /,
    );
  });

  it("accepts a good spec and expands it, seeds outermost", () => {
    const spec = resolveSweepSpec({
      name: "good",
      base,
      grid: { reduction: [4, 16], attention: ["se"] },
      seeds: [3, 1],
    });
    const runs = expandSweep(spec);
    expect(runs.map((r) => r.id)).toEqual([
      "attention=se__reduction=4__seed=3",
      "attention=se__reduction=16__seed=3",
      "attention=se__reduction=4__seed=1",
      "attention=se__reduction=16__seed=1",
    ]);
    expect(runs[1]!.config).toEqual({ ...base, reduction: 16, attention: "se", seed: 3 });
    expect(runs.map((r) => r.index)).toEqual([0, 1, 2, 3]);
  });
});

describe("run folder names", () => {
  it("do not depend on the order of the grid keys", () => {
    const a = checkSweepShape({ name: "a", grid: { x: [1], y: ["p"] }, seeds: [0] });
    const b = checkSweepShape({ name: "a", grid: { y: ["p"], x: [1] }, seeds: [0] });
    expect(expandRunsUnchecked(a)[0]!.id).toBe(expandRunsUnchecked(b)[0]!.id);
  });

  it("are filesystem-safe and distinct for awkward values", () => {
    const values = ["a b", "a/b", "a_b", [1, 2], { k: 1 }, null, true, 1e-4, "..", "x__y"];
    const tokens = values.map(formatValue);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9][A-Za-z0-9._+~-]*$/);
    expect(new Set(tokens).size).toBe(values.length);
    expect(formatValue(0.0001)).toBe("0.0001");
    expect(formatValue("se")).toBe("se");
    expect(formatValue([2, 3, 4])).toMatch(/^2_3_4~[0-9a-f]{8}$/);
    const long = runId({ k: "v".repeat(400) }, 1);
    expect(long.length).toBeLessThanOrEqual(200);
  });
});
