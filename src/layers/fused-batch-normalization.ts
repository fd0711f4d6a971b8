/**
 * FusedBatchNormalization: tf.layers.batchNormalization with the same arguments, weights
 * (gamma, beta, moving_mean, moving_variance), config and inference path, whose training path
 * runs fusedBatchNorm (one kernel forward and one backward where the backend registers them:
 * onednn), then the moving statistics through the movingAverage op.
 * Only channels-last normalisation (axis -1 / last) is fused; other axes use tfjs's own path.
 */
import * as tf from "@tensorflow/tfjs";
import { fusedBatchNorm } from "../ops/batch-norm-train.js";
import { movingAverage } from "../ops/moving-average.js";

/** Arguments: exactly tf.layers.batchNormalization's (axis, momentum, epsilon, center, scale, initializers, regularizers, constraints) with the same defaults (-1, 0.99, 1e-3, true, true, zeros/ones/zeros/ones). */
export type FusedBatchNormalizationLayerArgs = NonNullable<
  Parameters<typeof tf.layers.batchNormalization>[0]
>;

type Kwargs = Record<string, unknown>;
type LayerVar = { read(): tf.Tensor; write(v: tf.Tensor): void };
/** The tfjs BatchNormalization fields the training path uses (public in JS, private in its types). */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: LayerVar | null;
  beta?: LayerVar | null;
  movingMean: LayerVar;
  movingVariance: LayerVar;
}

type BatchNormalizationClass = new (
  args?: FusedBatchNormalizationLayerArgs,
) => tf.layers.Layer & {
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[];
};

// tfjs-layers does not export the class itself; take it from an instance (an explicit name
// keeps the auto-naming counters of other layers untouched).
const BatchNormalizationBase = Object.getPrototypeOf(
  tf.layers.batchNormalization({ name: "senet_lab_bn_class_probe" }),
).constructor as BatchNormalizationClass;

/** Batch normalisation whose training step is fused (and native on the onednn backend). */
export class FusedBatchNormalization extends BatchNormalizationBase {
  /** Serialisation name. */
  static className = "FusedBatchNormalization";

  /** Training (channels-last): fused op, then tfjs's moving-average update; else tfjs's call. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const self = this as unknown as BatchNormInternals;
    const axis = self.axis < 0 ? self.axis + x.rank : self.axis;
    if (kwargs.training !== true || axis !== x.rank - 1 || x.rank < 2) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const c = x.shape[axis];
      const gamma = self.gamma ? self.gamma.read() : tf.ones([c]);
      const beta = self.beta ? self.beta.read() : tf.zeros([c]);
      const { y, mean, variance } = fusedBatchNorm(x, gamma, beta, self.epsilon);
      // tfjs's update: moving -= (moving - batch) * (1 - momentum), batch variance biased.
      for (const [v, batch] of [
        [self.movingMean, mean],
        [self.movingVariance, variance],
      ] as const) {
        tf.tidy(() => v.write(movingAverage(v.read(), batch, self.momentum)));
      }
      return y;
    });
  }
}
tf.serialization.registerClass(
  FusedBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
);

/** Factory in tf.layers style. */
export function fusedBatchNormalization(
  args?: FusedBatchNormalizationLayerArgs,
): FusedBatchNormalization {
  return new FusedBatchNormalization(args);
}
