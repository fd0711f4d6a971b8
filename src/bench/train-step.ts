/**
 * One benchmark training step on a tfjs LayersModel: forward in training mode, softmax
 * cross-entropy on fixed random labels, backward, SGD-with-momentum update, and a read of the
 * loss (which waits for the backend to finish). The same step PyTorch runs in torch_bench.py.
 */
import * as tf from "@tensorflow/tfjs";

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

/** Prepares a fixed random batch and an SGD-with-momentum optimizer for `model`. */
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
  const opt = tf.train.momentum(options.lr, options.momentum);
  return {
    async step() {
      const loss = opt.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(
            y,
            model.apply(x, { training: true }) as tf.Tensor,
          ) as tf.Scalar,
        true,
      );
      if (!loss) throw new Error("optimizer returned no loss");
      try {
        return (await loss.data())[0]!;
      } finally {
        loss.dispose();
      }
    },
    dispose() {
      tf.dispose([x, y]);
      opt.dispose();
      // MomentumOptimizer.dispose (tfjs 4.22) skips SGDOptimizer's, leaking its learning-rate
      // scalar `c`; free it so a workload leaves no tensor behind.
      const c = (opt as unknown as { c?: tf.Tensor }).c;
      if (c && !c.isDisposed) c.dispose();
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
