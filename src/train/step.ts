/**
 * One training step, the only one: forward in training mode, label-smoothed cross-entropy,
 * backward, and the SGD update (skipped when the loss is not finite, so a diverged run keeps
 * its last finite weights). runExperiment runs it for every batch and the benchmark times it,
 * so the benchmark measures exactly what training runs.
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../data/rng.js";
import { crossEntropy } from "./loss.js";
import { withSeededRandom } from "./seed.js";
import { Sgd } from "./sgd.js";

/** What a step works on: the network, its trainable variables and their optimiser. */
export interface TrainStepState {
  /** The network (applied with training: true). */
  model: tf.LayersModel;
  /** Its trainable variables, in the optimiser's order. */
  vars: tf.Variable[];
  /** The optimiser over `vars`. */
  sgd: Sgd;
  /** Label smoothing of the loss (0: plain cross-entropy). */
  labelSmoothing: number;
  /** Seeds Math.random during the step (dropout, stochastic layers); none: left alone. */
  rng?: Rng;
}

/** The outcome of one step. */
export interface StepResult {
  /** The batch's mean loss (NaN or ±Inf when the step diverged; no update was made then). */
  loss: number;
  /** Correct top-1 predictions in the batch. */
  correct: number;
}

/** True for weights that get weight decay: conv/dense kernels (names ending in "kernel"). */
export function isDecayed(originalName: string): boolean {
  return /kernel$/.test(originalName);
}

/**
 * The step state for `model`: its trainable variables and an Sgd over them that decays only
 * conv/dense kernels (isDecayed), as training does.
 */
export function trainStepState(
  model: tf.LayersModel,
  options: { momentum: number; nesterov: boolean; weightDecay: number; labelSmoothing: number },
  rng?: Rng,
): TrainStepState {
  const trainable = model.trainableWeights;
  const vars = trainable.map((w) => w.read() as tf.Variable);
  const sgd = new Sgd(
    vars,
    trainable.map((w) => isDecayed(w.originalName)),
    { momentum: options.momentum, nesterov: options.nesterov, weightDecay: options.weightDecay },
  );
  return { model, vars, sgd, labelSmoothing: options.labelSmoothing, ...(rng ? { rng } : {}) };
}

/**
 * One step on images `x` with integer labels `y` at learning rate `lr`. Reads the loss and the
 * correct count back (which waits for the backend). The caller keeps x and y.
 */
export async function trainStep(
  s: TrainStepState,
  x: tf.Tensor,
  y: tf.Tensor1D,
  lr: number,
): Promise<StepResult> {
  let correctT: tf.Tensor | undefined;
  const forward = () =>
    tf.variableGrads(() => {
      const logits = s.model.apply(x, { training: true }) as tf.Tensor;
      correctT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "int32")));
      return crossEntropy(logits, y, s.labelSmoothing);
    }, s.vars);
  const { value, grads } = s.rng ? withSeededRandom(s.rng, forward) : forward();
  try {
    const loss = (await value.data())[0]!;
    const correct = (await correctT!.data())[0]!;
    if (Number.isFinite(loss)) {
      s.sgd.apply(
        s.vars.map((v) => grads[v.name]!),
        lr,
      );
    }
    return { loss, correct };
  } finally {
    value.dispose();
    correctT?.dispose();
    tf.dispose(grads);
  }
}
