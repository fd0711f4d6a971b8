import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { ConfigError } from "../../src/errors.js";
import {
  attentionLayers,
  readGates,
  SpatialGroupEnhance,
  SqueezeExcite,
} from "../../src/layers/index.js";
import { maxAbsDiff, thrown } from "./support.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

/** conv → SE → conv → SGE → pool → dense, with a residual add around the SE. */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  const c1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same" }).apply(input);
  const se = new SqueezeExcite({ reduction: 4, name: "se_a" }).apply(c1);
  const sum = tf.layers.add().apply([c1, se] as tf.SymbolicTensor[]);
  const c2 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same" }).apply(sum);
  const sge = new SpatialGroupEnhance({ groups: 4, name: "sge_b" }).apply(c2);
  const pooled = tf.layers.globalAveragePooling2d({}).apply(sge);
  const out = tf.layers.dense({ units: 3 }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe("readGates", () => {
  it("returns each attention layer's gate for the batch, equal to what the layer applies", () => {
    const model = smallModel();
    const sgeLayer = model.getLayer("sge_b") as SpatialGroupEnhance;
    sgeLayer.setWeights([tf.tensor1d([0.5, -1, 2, 0.1]), tf.tensor1d([0, 1, -1, 0.3])]);
    expect(attentionLayers(model).map((l) => [l.name, l.type])).toEqual([
      ["se_a", "se"],
      ["sge_b", "sge"],
    ]);
    const x = tf.randomNormal([5, 6, 6, 3], 0, 1, "float32", 11);
    const before = tf.memory().numTensors;
    const gates = readGates(model, x, { batchSize: 2 });
    expect(Object.keys(gates)).toEqual(["se_a", "sge_b"]);
    expect(gates.se_a!.type).toBe("se");
    expect(gates.se_a!.gate.shape).toEqual([5, 1, 1, 8]);
    expect(gates.sge_b!.type).toBe("sge");
    expect(gates.sge_b!.gate.shape).toEqual([5, 6, 6, 4]);
    // only the returned gates stay allocated
    expect(tf.memory().numTensors).toBe(before + 2);

    // The SE layer's output = its input times the read gate.
    const seLayer = model.getLayer("se_a");
    const probe = tf.model({
      inputs: model.inputs,
      outputs: [seLayer.input as tf.SymbolicTensor, seLayer.output as tf.SymbolicTensor],
    });
    const [seIn, seOut] = probe.predict(x) as tf.Tensor[];
    expect(maxAbsDiff(tf.mul(seIn!, gates.se_a!.gate).dataSync(), seOut!.dataSync())).toBe(0);
    // SGE gates are sigmoids in (0, 1) and vary over positions once gamma != 0.
    const g = gates.sge_b!.gate.dataSync();
    expect(Math.min(...g)).toBeGreaterThan(0);
    expect(Math.max(...g)).toBeLessThan(1);
    expect(Math.max(...g) - Math.min(...g)).toBeGreaterThan(0.1);
    tf.dispose([x, seIn!, seOut!, gates.se_a!.gate, gates.sge_b!.gate]);
  });

  it("leaves the model's forward pass untouched (same kernels with or without read-out)", async () => {
    const model = smallModel();
    const x = tf.randomNormal([2, 6, 6, 3]);
    tf.dispose(model.predict(x) as tf.Tensor);
    const count = async () => {
      const info = await tf.profile(() => model.predict(x) as tf.Tensor);
      const n = info.kernels.length;
      tf.dispose(info.result as tf.Tensor);
      return n;
    };
    const n0 = await count();
    const gates = readGates(model, x);
    expect(await count()).toBe(n0);
    tf.dispose([x, ...Object.values(gates).map((g) => g.gate)]);
  });

  it("returns {} for a model without attention and refuses layers applied twice", () => {
    const input = tf.input({ shape: [4, 4, 2] });
    const plain = tf.model({
      inputs: input,
      outputs: tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor,
    });
    const x = tf.zeros([1, 4, 4, 2]);
    expect(readGates(plain, x)).toEqual({});

    const shared = new SqueezeExcite({ reduction: 1, name: "se_shared" });
    const twice = tf.model({
      inputs: input,
      outputs: shared.apply(shared.apply(input)) as tf.SymbolicTensor,
    });
    const e = thrown(() => readGates(twice, x));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/"se_shared" is used 2 times/);
    x.dispose();
  });
});
