/** One parse per sweep run: the spec's validation hands its parses on to everything after it. */
import { describe, expect, it } from "vitest";
import { runConfig } from "../../src/sweep/experiment.js";
import { resolveSweep } from "../../src/sweep/resolve.js";
import { ensureResolved, experimentOf } from "../../src/train/config.js";

describe("runConfig", () => {
  const spec = {
    name: "one-parse",
    base: { model: "resnet20", dataset: "synthetic", epochs: 1 },
    grid: { attention: ["se", "sge"] },
    seeds: [1, 2],
  };

  it("gives each run of resolveSweep the config its validation parsed, the same object every time", () => {
    const { runs } = resolveSweep(spec);
    expect(runs).toHaveLength(4);
    for (const run of runs) {
      const c = runConfig(run);
      expect(runConfig(run)).toBe(c);
      expect(c).toMatchObject({
        model: "resnet20",
        attention: run.overrides.attention,
        seed: run.seed,
      });
      // The training loop takes it as it is, and its model half is the parsed one.
      expect(ensureResolved(c)).toBe(c);
      expect(experimentOf(c).model.attention).toBe(run.overrides.attention);
    }
  });

  it("parses a run expanded again (a new edge) to an equal config", () => {
    const a = resolveSweep(spec).runs[0]!;
    const b = resolveSweep(spec).runs[0]!;
    expect(runConfig(b)).not.toBe(runConfig(a));
    expect(runConfig(b)).toEqual(runConfig(a));
  });
});
