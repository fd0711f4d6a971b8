/**
 * The optimizer's native update on onednn (one pass per weight) gives the same weights and
 * momentum buffers as its tfjs-op update on the cpu backend, with weight decay, momentum and
 * Nesterov; and it matches torch.optim.SGD's formula on a hand-checked step.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Sgd } from "../../src/train/sgd.js";
import { NATIVE, randomArray, relDiff, setupOnednn } from "../backend/onednn-support.js";

// Fixed weights and three steps' gradients, the same for both backends.
const shapes = [[3, 3, 8, 16], [16], [5000]];
const w0 = shapes.map((s) => randomArray(s.reduce((a, b) => a * b, 1)));
const gs = [0, 1, 2].map(() => shapes.map((s) => randomArray(s.reduce((a, b) => a * b, 1))));

/** Three steps of Sgd on `backend` from fixed weights and gradients; returns weights and buffers. */
async function threeSteps(backend: string, nesterov: boolean, momentum: number) {
  await tf.setBackend(backend);
  const vars = shapes.map((s, i) => tf.variable(tf.tensor(w0[i]!.slice(), s)));
  const sgd = new Sgd(vars, [true, false, true], { momentum, nesterov, weightDecay: 1e-2 });
  for (const [step, g] of gs.entries()) {
    const grads = g.map((v, i) => tf.tensor(v, shapes[i]!));
    sgd.apply(grads, 0.1 / (step + 1));
    tf.dispose(grads);
  }
  const out = {
    weights: vars.map((v) => v.dataSync().slice() as Float32Array),
    buffers: sgd.buffers.map((b) => b.dataSync().slice() as Float32Array),
    w0,
  };
  sgd.dispose();
  tf.dispose(vars);
  return out;
}

describe("Sgd", () => {
  it("makes torch.optim.SGD's step: b = μb + g + wd·w, w -= lr·b", async () => {
    await tf.setBackend("cpu");
    const w = tf.variable(tf.tensor1d([1, -2]));
    const sgd = new Sgd([w], [true], { momentum: 0.9, nesterov: false, weightDecay: 0.1 });
    sgd.apply([tf.tensor1d([0.5, 0.5])], 0.1);
    // g' = g + 0.1·w = [0.6, 0.3]; b = g'; w = w − 0.1·b = [0.94, −2.03]
    expect(Array.from(w.dataSync())).toEqual([Math.fround(0.94), Math.fround(-2.03)]);
    sgd.apply([tf.tensor1d([0, 0])], 0.1);
    // g' = 0.1·w = [0.094, −0.203]; b = 0.9·[0.6, 0.3] + g' = [0.634, 0.067]; w −= 0.1·b
    const got = Array.from(w.dataSync());
    expect(got[0]).toBeCloseTo(0.94 - 0.0634, 6);
    expect(got[1]).toBeCloseTo(-2.03 - 0.0067, 6);
    sgd.dispose();
    w.dispose();
  });
});

describe.skipIf(!NATIVE.built)("Sgd on onednn (native update) equals Sgd on cpu", () => {
  beforeAll(setupOnednn);
  for (const [nesterov, momentum] of [
    [false, 0.9],
    [true, 0.9],
    [false, 0],
  ] as const) {
    it(`momentum ${momentum}${nesterov ? ", Nesterov" : ""}: same weights and buffers after 3 steps`, async () => {
      const ref = await threeSteps("cpu", nesterov, momentum);
      const got = await threeSteps("onednn", nesterov, momentum);
      expect(relDiff(ref.weights[0]!, ref.w0[0]!)).toBeGreaterThan(1e-3); // the weights moved
      for (let i = 0; i < ref.weights.length; i++) {
        expect(relDiff(got.weights[i]!, ref.weights[i]!), `weight ${i}`).toBeLessThan(1e-6);
      }
      expect(got.buffers.length).toBe(momentum > 0 ? 3 : 0);
      for (let i = 0; i < ref.buffers.length; i++) {
        expect(relDiff(got.buffers[i]!, ref.buffers[i]!), `buffer ${i}`).toBeLessThan(1e-6);
      }
    });
  }
});
