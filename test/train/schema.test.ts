/** The experiment schema: nested { preset, model, train }, parsed once, flattened for config.json. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { isResolvedModelConfig } from "../../src/models/index.js";
import {
  experimentOf,
  parseExperiment,
  resolveExperimentConfig,
  TRAIN_CONFIG_KEYS,
} from "../../src/train/config.js";
import { TRAIN_SCHEMA } from "../../src/train/schema.js";

describe("experiment schema", () => {
  it("derives the training keys from the schema", () => {
    expect(TRAIN_CONFIG_KEYS).toEqual(Object.keys(TRAIN_SCHEMA.entries));
    expect(TRAIN_CONFIG_KEYS[0]).toBe("dataset");
    expect(TRAIN_CONFIG_KEYS).toContain("testFlip");
  });

  it("parses a flat config into { preset, model, train }, the model a variant keyed on arch", () => {
    const e = parseExperiment({
      model: "se_resnet20",
      dataset: "synthetic",
      epochs: 2,
      reduction: 4,
    });
    expect(e.preset).toBe("se_resnet20");
    expect(e.model).toMatchObject({
      arch: "resnet-cifar",
      attention: "se",
      reduction: 4,
      depth: 20,
    });
    expect(e.model.inputShape).toEqual([12, 12, 3]);
    expect(e.train).toMatchObject({
      dataset: "synthetic",
      epochs: 2,
      schedule: "cosine",
      minLr: 0,
    });
    expect(Object.keys(e.train)).toEqual(TRAIN_CONFIG_KEYS);
    expect(isResolvedModelConfig(e.model)).toBe(true);
  });

  it("flattens to the config.json form, and gives the nested form back without a second parse", () => {
    const flat = resolveExperimentConfig({ model: "resnet20", dataset: "synthetic" });
    expect(Object.keys(flat).slice(0, 2)).toEqual(["model", "arch"]);
    const nested = experimentOf(flat);
    expect(experimentOf(flat)).toBe(nested);
    expect({ model: nested.preset, ...nested.model, ...nested.train }).toEqual(flat);
    // A copy (read back from JSON) is parsed again, to the same thing.
    expect(experimentOf(JSON.parse(JSON.stringify(flat)))).toEqual(nested);
  });

  it("words a wrong type in the training half as before, quoting the value", () => {
    expect(() => parseExperiment({ seed: -1 })).toThrow(
      new ConfigError("seed must be an integer in [0, 2^32); got -1"),
    );
    expect(() => parseExperiment({ schedule: "cosine", minLr: 1 })).toThrow(
      "minLr must be a number in [0, lr=0.1); got 1",
    );
  });
});
