/**
 * Three SGD steps on the onednn backend give the same losses and weights as on tfjs's cpu
 * backend from the same initial weights: a small conv net (conv stride 2, pooling, 1x1 conv,
 * batch norm, depthwise conv, dense), the same net with FusedBatchNormalization, and
 * SE-ResNet-20 from the model zoo.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { nativeKernelCounts, resetNativeKernelCounts } from "../../src/backend/onednn.js";
import { fusedBatchNormalization } from "../../src/layers/fused-batch-normalization.js";
import { createModel } from "../../src/models/index.js";
import { fusedBatchNormStats } from "../../src/ops/batch-norm-train.js";
import { fusedSpatialGroupEnhanceStats } from "../../src/ops/spatial-group-enhance.js";
import { Sgd } from "../../src/train/sgd.js";
import { NATIVE, randomArray, relDiff, setupOnednn } from "./onednn-support.js";

type Builder = (fusedBn: boolean) => tf.LayersModel;

function smallNet(fusedBn: boolean): tf.LayersModel {
  const bn = (name: string) =>
    fusedBn
      ? fusedBatchNormalization({ name, momentum: 0.9 })
      : tf.layers.batchNormalization({ name, momentum: 0.9 });
  const input = tf.input({ shape: [13, 13, 3] });
  let y = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", activation: "relu" })
    .apply(input) as tf.SymbolicTensor;
  y = tf.layers
    .maxPooling2d({ poolSize: 3, strides: 2, padding: "same" })
    .apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .conv2d({ filters: 12, kernelSize: 1, useBias: false })
    .apply(y) as tf.SymbolicTensor;
  y = bn("bn1").apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: "relu" }).apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: "valid", depthMultiplier: 2 })
    .apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .averagePooling2d({ poolSize: 2, strides: 1, padding: "valid" })
    .apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 5, activation: "softmax" }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

const data = new Map<number, Float32Array>();
/** The same random inputs for every run of a given size. */
function inputData(n: number): Float32Array {
  let d = data.get(n);
  if (!d) {
    d = randomArray(n);
    data.set(n, d);
  }
  return d.slice();
}

interface Run {
  losses: number[];
  weights: { name: string; values: Float32Array }[];
}

/** Builds the net on `backend`, loads `init`, runs three SGD steps on fixed data. */
async function train(
  backend: string,
  build: () => tf.LayersModel,
  init: Float32Array[] | null,
  batch: number,
  nesterov = false,
): Promise<Run & { init: Float32Array[] }> {
  await tf.setBackend(backend);
  const model = build();
  if (init) {
    model.setWeights(model.weights.map((w, k) => tf.tensor(init[k], w.shape as number[])));
  }
  const start = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  const [, h, w, c] = model.inputs[0].shape as number[];
  const classes = model.outputs[0].shape[1] as number;
  const x = tf.tensor(inputData(batch * h * w * c), [batch, h, w, c]);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % classes),
      "int32",
    ),
    classes,
  );
  // The training loop's own optimizer (native on onednn), with momentum and weight decay on
  // every other weight so both branches of its update run.
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = new Sgd(
    vars,
    vars.map((_, i) => i % 2 === 0),
    { momentum: 0.9, nesterov, weightDecay: 5e-3 },
  );
  const losses: number[] = [];
  try {
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(
            labels,
            model.apply(x, { training: true }) as tf.Tensor,
          ) as tf.Scalar,
        vars,
      );
      opt.apply(
        vars.map((v) => grads[v.name]!),
        0.05,
      );
      losses.push(value.dataSync()[0]);
      tf.dispose([value, grads]);
    }
    return {
      losses,
      init: start,
      weights: model.weights.map((wt) => ({
        name: wt.name,
        values: wt.read().dataSync().slice() as Float32Array,
      })),
    };
  } finally {
    tf.dispose([x, labels]);
    opt.dispose();
    model.dispose();
  }
}

/** cpu run with `cpuBuild`, onednn run with `nativeBuild` from the same initial weights. */
async function compare(
  cpuBuild: () => tf.LayersModel,
  nativeBuild: () => tf.LayersModel,
  batch: number,
  tol: number,
) {
  const ref = await train("cpu", cpuBuild, null, batch);
  resetNativeKernelCounts();
  const got = await train("onednn", nativeBuild, ref.init, batch);
  for (let s = 0; s < 3; s++) {
    expect(
      Math.abs(got.losses[s] - ref.losses[s]),
      `loss at step ${s}: ${got.losses[s]} vs ${ref.losses[s]}`,
    ).toBeLessThan(tol * Math.max(1, Math.abs(ref.losses[s])));
  }
  // Training moved the weights, so equality below is not the initial weights compared twice.
  expect(relDiff(ref.weights[0].values, ref.init[0])).toBeGreaterThan(1e-4);
  expect(got.weights.length).toBe(ref.weights.length);
  for (let k = 0; k < ref.weights.length; k++) {
    const d = relDiff(got.weights[k].values, ref.weights[k].values);
    expect(d, `weight ${ref.weights[k].name} differs by ${d}`).toBeLessThan(tol);
  }
  return nativeKernelCounts();
}

describe.skipIf(!NATIVE.built)("onednn training equals cpu training", () => {
  beforeAll(setupOnednn);

  it("small conv net: 3 SGD steps, same losses and weights", async () => {
    const build: Builder = smallNet;
    const counts = await compare(
      () => build(false),
      () => build(false),
      4,
      1e-4,
    );
    for (const k of [
      "Conv2D",
      "Conv2DBackpropFilter",
      "Conv2DBackpropInput",
      "MaxPool",
      "MaxPoolGrad",
      "AvgPool",
      "AvgPoolGrad",
      "DepthwiseConv2dNative",
      "DepthwiseConv2dNativeBackpropFilter",
      "DepthwiseConv2dNativeBackpropInput",
      // BatchMatMul: this net's dense layer is below MIN_NATIVE_MACS and runs the cpu kernel.
    ]) {
      expect(counts[k].native, k).toBeGreaterThan(0);
      expect(counts[k].fallback, k).toBe(0);
    }
  });

  it("the same net with FusedBatchNormalization on onednn equals tfjs's BN on cpu", async () => {
    const before = fusedBatchNormStats();
    await compare(
      () => smallNet(false),
      () => smallNet(true),
      4,
      1e-4,
    );
    const after = fusedBatchNormStats();
    expect(after.nativeForward - before.nativeForward).toBe(3);
    expect(after.nativeBackward - before.nativeBackward).toBe(3);
  });

  it("SE-ResNet-20: 3 SGD steps, same losses and weights", async () => {
    // 8x8 inputs and batch 2 keep the cpu reference under a minute here. The default option-A
    // shortcut needs a StridedSlice gradient, which registerOnednnBackend installs (tfjs has none).
    const build = () => createModel("se_resnet20", { inputShape: [8, 8, 3] });
    const counts = await compare(build, build, 2, 2e-4);
    expect(counts.Conv2DBackpropFilter.native).toBeGreaterThan(0);
    expect(counts.Conv2DBackpropFilter.fallback).toBe(0);
  });

  it("SGE-ResNet-20 (the fused SGE kernel on onednn, tf ops on cpu): 3 SGD steps, same losses and weights", async () => {
    const build = () => createModel("sge_resnet20", { inputShape: [8, 8, 3] });
    const before = fusedSpatialGroupEnhanceStats().native;
    // 1e-3, not SE's 2e-4: at 8×8 inputs the last stage's SGE normalises over 2×2 = 4 positions,
    // so summation-order differences are divided by a 4-sample std and grow; a brand-new-clone
    // run saw 2.6e-4 on one BN beta (6 local runs passed 2e-4). A wrong gradient is off by O(1);
    // the kernel itself is held to PyTorch at 1e-5 (test/layers/backends.test.ts).
    await compare(build, build, 2, 1e-3);
    // 9 SGE blocks, 3 steps, on onednn only.
    expect(fusedSpatialGroupEnhanceStats().native - before).toBe(27);
  });
});
