/**
 * One benchmark training step on a tfjs LayersModel: the training loop's own step
 * (src/train/step.ts: forward in training mode, cross-entropy, backward, the loop's SGD with its
 * weight-decay mask, and the loss read, which waits for the backend) on a fixed random batch with
 * fixed random labels. The same step PyTorch runs in torch_bench.py.
 */
import * as tf from "@tensorflow/tfjs";
import { trainStep, trainStepState } from "../train/step.js";

/** Hyper-parameters of the benchmark's SGD step. */
export interface SgdStepOptions {
  /** Images per step. */
  batch: number;
  /** Learning rate. */
  lr: number;
  /** Momentum. */
  momentum: number;
  /** Nesterov momentum (default false, as torch_bench.py's SGD). */
  nesterov?: boolean;
  /** Weight decay of conv/dense kernels (default 0, as torch_bench.py). */
  weightDecay?: number;
  /** Label smoothing of the loss (default 0: plain cross-entropy, as torch_bench.py). */
  labelSmoothing?: number;
  /** Seed of the random batch and labels. */
  seed?: number;
}

/** A prepared training step: `step()` returns the loss; `dispose()` frees the batch and optimizer. */
export interface SgdStep {
  /** Runs one step and returns its loss (already read back from the backend). */
  step(): Promise<number>;
  /** Frees the batch, labels and optimizer state (not the model). */
  dispose(): void;
}

/**
 * Prepares a fixed random batch and the training loop's step state (src/train/step.ts) for
 * `model`: the benchmark times what `runExperiment` runs, not a copy of it.
 */
export function makeSgdStep(model: tf.LayersModel, options: SgdStepOptions): SgdStep {
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const classes = model.outputs[0]!.shape[1] as number;
  const seed = options.seed ?? 1;
  const x = tf.randomNormal([options.batch, ...inShape], 0, 1, "float32", seed);
  const y = tf.randomUniform([options.batch], 0, classes, "int32", seed + 1) as tf.Tensor1D;
  const st = trainStepState(model, {
    momentum: options.momentum,
    nesterov: options.nesterov ?? false,
    weightDecay: options.weightDecay ?? 0,
    labelSmoothing: options.labelSmoothing ?? 0,
  });
  return {
    async step() {
      return (await trainStep(st, x, y, options.lr)).loss;
    },
    dispose() {
      tf.dispose([x, y]);
      st.sgd.dispose();
    },
  };
}

/** Batch-`batch` inference of `model` on a fixed random input; returns a function timing one call. */
export function makeInference(
  model: tf.LayersModel,
  batch: number,
): { run(): Promise<void>; dispose(): void } {
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const x = tf.randomNormal([batch, ...inShape], 0, 1, "float32", 3);
  return {
    async run() {
      const out = model.predict(x) as tf.Tensor;
      try {
        await out.data();
      } finally {
        out.dispose();
      }
    },
    dispose() {
      x.dispose();
    },
  };
}
