/**
 * One benchmark training step on a tfjs LayersModel: forward in training mode, softmax
 * cross-entropy on fixed random labels, backward, SGD-with-momentum update, and a read of the
 * loss (which waits for the backend to finish). The same step PyTorch runs in torch_bench.py.
 */
import * as tf from "@tensorflow/tfjs";
import { Sgd } from "../train/sgd.js";

/** Hyper-parameters of the benchmark's SGD step. */
export interface SgdStepOptions {
  /** Images per step. */
  batch: number;
  /** Learning rate. */
  lr: number;
  /** Momentum. */
  momentum: number;
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
 * Prepares a fixed random batch and the training loop's own SGD with momentum (src/train/sgd.ts,
 * the same update torch.optim.SGD makes) for `model`: the benchmark times what
 * `runExperiment` runs, not tfjs's optimizer.
 */
export function makeSgdStep(model: tf.LayersModel, options: SgdStepOptions): SgdStep {
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const classes = model.outputs[0]!.shape[1] as number;
  const seed = options.seed ?? 1;
  const x = tf.randomNormal([options.batch, ...inShape], 0, 1, "float32", seed);
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.randomUniform([options.batch], 0, classes, "int32", seed + 1) as tf.Tensor1D,
      classes,
    ),
  );
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const sgd = new Sgd(
    vars,
    vars.map(() => false),
    { momentum: options.momentum, nesterov: false, weightDecay: 0 },
  );
  return {
    async step() {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(
            y,
            model.apply(x, { training: true }) as tf.Tensor,
          ) as tf.Scalar,
        vars,
      );
      try {
        sgd.apply(
          vars.map((v) => grads[v.name]!),
          options.lr,
        );
        return (await value.data())[0]!;
      } finally {
        value.dispose();
        tf.dispose(grads);
      }
    },
    dispose() {
      tf.dispose([x, y]);
      sgd.dispose();
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
