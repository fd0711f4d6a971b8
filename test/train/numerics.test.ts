/**
 * The optimizer, loss and schedules against PyTorch (test/fixtures/train/reference.json, made by
 * scripts/fixtures/gen_train_fixtures.py with torch 1.13): torch.optim.SGD with momentum,
 * Nesterov and per-group weight decay; F.cross_entropy with label smoothing; CosineAnnealingLR,
 * StepLR, MultiStepLR. Plus top-1/top-5 counting and the checkpoint byte format.
 */
import fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/train/checkpoint.js";
import { accumulate, crossEntropy, emptyTotals, finishEval } from "../../src/train/loss.js";
import { learningRate, type ScheduleParams } from "../../src/train/schedule.js";
import { Sgd } from "../../src/train/sgd.js";

const ref = JSON.parse(
  fs.readFileSync(new URL("../fixtures/train/reference.json", import.meta.url), "utf8"),
);

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

function expectClose(got: ArrayLike<number>, want: number[], tol: number) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
  }
}

describe("Sgd matches torch.optim.SGD", () => {
  for (const c of ref.sgd) {
    it(`momentum ${c.momentum}, nesterov ${c.nesterov}, weight decay ${c.weightDecay} on the kernel only`, () => {
      const kernel = tf.variable(tf.tensor(c.kernel0, [3, 2]));
      const bias = tf.variable(tf.tensor(c.bias0, [2]));
      const opt = new Sgd([kernel, bias], [true, false], {
        momentum: c.momentum,
        nesterov: c.nesterov,
        weightDecay: c.weightDecay,
      });
      c.grads.forEach((g: { kernel: number[]; bias: number[] }, step: number) => {
        const gs = [tf.tensor(g.kernel, [3, 2]), tf.tensor(g.bias, [2])];
        opt.apply(gs, c.lrs[step]);
        tf.dispose(gs);
        expectClose(kernel.dataSync(), c.after[step].kernel, 2e-6);
        expectClose(bias.dataSync(), c.after[step].bias, 2e-6);
      });
      opt.dispose();
      tf.dispose([kernel, bias]);
    });
  }
});

describe("cross-entropy matches F.cross_entropy", () => {
  const ce = ref.crossEntropy;
  for (const c of ce.cases) {
    it(`label smoothing ${c.smoothing}`, () => {
      const logits = tf.tensor2d(ce.logits, [ce.labels.length, ce.classes]);
      const labels = tf.tensor1d(ce.labels, "int32");
      const loss = crossEntropy(logits, labels, c.smoothing);
      expect(loss.dataSync()[0]).toBeCloseTo(c.loss, 5);
      // Evaluation's JS cross-entropy (no smoothing) agrees with torch's at ε = 0.
      if (c.smoothing === 0) {
        const t = emptyTotals();
        accumulate(t, Float32Array.from(ce.logits), Uint8Array.from(ce.labels), ce.classes);
        expect(finishEval(t).loss!).toBeCloseTo(c.loss, 5);
      }
      tf.dispose([logits, labels, loss]);
    });
  }
});

describe("schedules match torch's schedulers", () => {
  const base: ScheduleParams = {
    schedule: "constant",
    lr: 0.1,
    epochs: 12,
    stepSize: null,
    milestones: null,
    gamma: null,
    minLr: null,
    warmupEpochs: 0,
  };
  for (const s of ref.schedules) {
    it(s.config.schedule, () => {
      const p = { ...base, ...s.config } as ScheduleParams;
      const ours = s.rates.map((_: number, e: number) => learningRate(p, e, 0, 10));
      expectClose(ours, s.rates, 1e-12);
    });
  }

  it("linear warm-up ramps per step to the base rate, then the schedule takes over", () => {
    const p: ScheduleParams = {
      ...base,
      schedule: "cosine",
      minLr: 0,
      warmupEpochs: 2,
      epochs: 10,
    };
    expect(learningRate(p, 0, 0, 5)).toBeCloseTo(0.01, 12);
    expect(learningRate(p, 1, 4, 5)).toBeCloseTo(0.1, 12);
    expect(learningRate(p, 2, 0, 5)).toBeCloseTo(0.1, 12); // cosine starts after warm-up
    expect(learningRate(p, 6, 0, 5)).toBeCloseTo(0.05, 12); // half-way through the 8 cosine epochs
    expect(learningRate({ ...base, schedule: "constant" }, 7, 3, 5)).toBe(0.1);
  });
  it("warm-up then linear decay is the triangular one-cycle: peak at the end of warm-up, minLr at the end", () => {
    // One epoch of 100 steps, 20 of warm-up: the quick preset's shape.
    const p: ScheduleParams = {
      ...base,
      schedule: "linear",
      minLr: 0,
      warmupEpochs: 0.2,
      epochs: 1,
    };
    expect(learningRate(p, 0, 0, 100)).toBeCloseTo(0.005, 12);
    expect(learningRate(p, 0, 19, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate(p, 0, 20, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate(p, 0, 60, 100)).toBeCloseTo(0.05, 12); // half-way through the 80 decay steps
    expect(learningRate(p, 0, 99, 100)).toBeCloseTo(0.1 * (1 / 80), 12);
  });
});

describe("top-k counting", () => {
  it("counts top-1 and top-5, ties going to the lower class index", () => {
    const k = 7;
    // Row 0: label 2 is the max. Row 1: label 6 is 3rd. Row 2: label 0 is last. Row 3: a tie.
    const logits = Float32Array.from([
      0, 1, 9, 2, 3, 4, 5, 9, 8, 0, 0, 0, 0, 7, -5, 1, 2, 3, 4, 5, 6, 1, 1, 1, 1, 1, 1, 1,
    ]);
    const t = emptyTotals();
    accumulate(t, logits, Uint8Array.from([2, 6, 0, 1]), k);
    expect(t.top1).toBe(1); // row 3: class 0 wins the tie, so label 1 ranks 2nd
    expect(t.top5).toBe(3);
    expect(t.nonFinite).toBe(false);
    accumulate(t, Float32Array.from([Number.NaN, 0, 0, 0, 0, 0, 0]), Uint8Array.from([1]), k);
    expect(t.nonFinite).toBe(true);
  });
});

describe("checkpoint format", () => {
  it("round-trips state and tensors bit for bit and rejects truncation", () => {
    const c = {
      epoch: 3,
      state: { history: [{ epoch: 1 }], rngState: 123456789 },
      weights: [
        {
          name: "conv/kernel",
          shape: [2, 3],
          values: Float32Array.from([1.5, -2, 3e-38, 4, 5, Math.PI]),
        },
      ],
      buffers: [{ name: "momentum/conv/kernel", shape: [1], values: Float32Array.from([0.1]) }],
    };
    const bytes = encodeCheckpoint(c);
    const back = decodeCheckpoint<typeof c.state>(bytes, "x.ckpt");
    expect(back.epoch).toBe(3);
    expect(back.state).toEqual(c.state);
    expect([...back.weights[0]!.values]).toEqual([...c.weights[0]!.values]);
    expect(back.buffers[0]!.name).toBe("momentum/conv/kernel");
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), "x.ckpt")).toThrow(
      /x\.ckpt: not a valid checkpoint \(wrong length\)/,
    );
  });
});
