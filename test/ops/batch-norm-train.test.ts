/**
 * fusedBatchNorm (native on onednn, tf ops elsewhere) against tfjs's own batch norm built from
 * tf.moments + tf.batchNorm and differentiated by autodiff; FusedBatchNormalization against
 * tf.layers.batchNormalization (weights, config, outputs, moving statistics).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  FusedBatchNormalization,
  fusedBatchNormalization,
} from "../../src/layers/fused-batch-normalization.js";
import { fusedBatchNorm, fusedBatchNormStats } from "../../src/ops/batch-norm-train.js";
import {
  type Input,
  input,
  NATIVE,
  randomArray,
  relDiff,
  runOn,
  setupOnednn,
} from "../backend/onednn-support.js";

const EPS = 1e-3;

/** y, mean, variance and d(sum(y*r))/d(x, gamma, beta) by tfjs autodiff of moments+batchNorm. */
function reference(r: Float32Array) {
  return (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const axes = [...Array(x.rank - 1).keys()];
    const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
      const { mean, variance } = tf.moments(xx, axes);
      return tf.batchNorm(xx, mean, variance, bb, gg as tf.Tensor1D, EPS);
    };
    const rt = tf.tensor(r, x.shape);
    const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(f(xx, gg, bb), rt)),
    )([x, g, b]);
    const m = tf.moments(x, axes);
    const out = [f(x, g, b), m.mean, m.variance, ...grads];
    rt.dispose();
    return out;
  };
}

function fused(r: Float32Array) {
  return (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const rt = tf.tensor(r, x.shape);
    const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(fusedBatchNorm(xx, gg, bb, EPS).y, rt)),
    )([x, g, b]);
    const { y, mean, variance } = fusedBatchNorm(x, g, b, EPS);
    rt.dispose();
    return [y, mean, variance, ...grads];
  };
}

const SHAPES = [
  [4, 5, 5, 6],
  [1, 3, 7, 16],
  [8, 10],
];

async function compare(backend: string, shape: number[]) {
  const c = shape[shape.length - 1];
  const inputs: Input[] = [
    input(shape),
    { shape: [c], data: randomArray(c).map((v) => v + 1.5) },
    input([c]),
  ];
  // Shift and scale x so the statistics are not trivially 0/1.
  inputs[0].data = inputs[0].data.map((v, i) => 3 * v + (i % c));
  const r = randomArray(inputs[0].data.length);
  const ref = await runOn("cpu", inputs, reference(r));
  const got = await runOn(backend, inputs, fused(r));
  const names = ["y", "mean", "variance", "dx", "dgamma", "dbeta"];
  for (let k = 0; k < ref.length; k++) {
    expect(got[k].shape, names[k]).toEqual(ref[k].shape);
    const d = relDiff(got[k].values, ref[k].values);
    expect(d, `${names[k]} differs by ${d}`).toBeLessThan(5e-5);
  }
}

describe("fusedBatchNorm in tf ops (cpu)", () => {
  for (const shape of SHAPES) {
    it(`matches tfjs autodiff for x ${shape}`, async () => {
      const before = fusedBatchNormStats();
      await compare("cpu", shape);
      const after = fusedBatchNormStats();
      expect(after.opsForward).toBeGreaterThan(before.opsForward);
      expect(after.opsBackward).toBeGreaterThan(before.opsBackward);
    });
  }
  it("rejects bad shapes and epsilon before any work", () => {
    const x = tf.zeros([2, 3]);
    expect(() => fusedBatchNorm(x, tf.ones([4]), tf.zeros([3]))).toThrow(ConfigError);
    expect(() => fusedBatchNorm(tf.zeros([3]), tf.ones([3]), tf.zeros([3]))).toThrow(/rank >= 2/);
    expect(() => fusedBatchNorm(x, tf.ones([3]), tf.zeros([3]), 0)).toThrow(/epsilon/);
  });
});

describe.skipIf(!NATIVE.built)("fusedBatchNorm native (onednn)", () => {
  beforeAll(setupOnednn);
  for (const shape of SHAPES) {
    it(`matches tfjs autodiff on cpu for x ${shape}`, async () => {
      const before = fusedBatchNormStats();
      await compare("onednn", shape);
      const after = fusedBatchNormStats();
      expect(after.nativeForward).toBeGreaterThan(before.nativeForward);
      expect(after.nativeBackward).toBeGreaterThan(before.nativeBackward);
      expect(after.opsForward).toBe(before.opsForward);
      expect(after.opsBackward).toBe(before.opsBackward);
    });
  }
});

/** Runs the same BN layer config through tfjs's layer and ours; compares everything. */
async function compareLayers(backend: string) {
  await tf.setBackend(backend);
  const args = { epsilon: 1e-5, momentum: 0.9, gammaInitializer: "randomNormal" as const };
  const shape = [3, 4, 4, 5];
  const xData = input(shape).data.map((v, i) => 2 * v + (i % 5));
  const ours = fusedBatchNormalization({ ...args, name: "fbn" });
  const theirs = tf.layers.batchNormalization({ ...args, name: "bn" });
  ours.build(shape);
  theirs.build(shape);
  theirs.setWeights(ours.getWeights());
  expect(ours.weights.map((w) => w.originalName.split("/").pop())).toEqual(
    theirs.weights.map((w) => w.originalName.split("/").pop()),
  );
  const { name: _a, ...oc } = ours.getConfig();
  const { name: _b, ...tc } = theirs.getConfig();
  expect(oc).toEqual(tc);
  const x = tf.tensor(xData, shape);
  for (const training of [true, true, false]) {
    const yo = ours.apply(x, { training }) as tf.Tensor;
    const yt = theirs.apply(x, { training }) as tf.Tensor;
    expect(relDiff(yo.dataSync() as Float32Array, yt.dataSync() as Float32Array)).toBeLessThan(
      5e-5,
    );
    tf.dispose([yo, yt]);
  }
  const wo = ours.getWeights();
  const wt = theirs.getWeights();
  for (let k = 0; k < wo.length; k++) {
    expect(
      relDiff(wo[k].dataSync() as Float32Array, wt[k].dataSync() as Float32Array),
    ).toBeLessThan(5e-5);
  }
  // Moving statistics actually moved.
  expect(relDiff(wo[2].dataSync() as Float32Array, new Float32Array(5))).toBeGreaterThan(1e-3);
  x.dispose();
}

describe("FusedBatchNormalization layer", () => {
  it("has tf.layers.batchNormalization's weights, config and results (cpu)", async () => {
    await compareLayers("cpu");
  });
  it("round-trips through a saved model topology", async () => {
    await tf.setBackend("cpu");
    const layer = fusedBatchNormalization({
      inputShape: [4, 3],
      momentum: 0.8,
      epsilon: 1e-4,
      center: false,
    });
    const model = tf.sequential({ layers: [layer] });
    const topology = model.toJSON(undefined, false) as tf.io.ModelJSON["modelTopology"];
    const copy = await tf.models.modelFromJSON({ modelTopology: topology });
    expect(copy.layers[0].getClassName()).toBe("FusedBatchNormalization");
    expect(copy.layers[0]).toBeInstanceOf(FusedBatchNormalization);
    expect(copy.layers[0].getConfig()).toEqual(layer.getConfig());
  });
  it.skipIf(!NATIVE.built)("matches on the onednn backend too", async () => {
    await setupOnednn();
    await compareLayers("onednn");
  });
});
