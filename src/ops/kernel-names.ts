/**
 * Our own tfjs kernels: their names, inputs and attributes, in one place shared by the ops that
 * run them (this folder) and the backends that implement them (src/backend). A backend that
 * registers a kernel under one of these names gets it used; on every other backend the op runs
 * the same arithmetic in tf ops. So train/, models/ and layers/ reach the native code only
 * through tfjs's kernel registry, as tfjs-core's own ops do.
 */

/** One SGD-with-momentum step of one weight: inputs {w, g, b?}, outputs [w', b'?]. */
export const SGD_UPDATE = "SenetSgdUpdate";
/** Attributes of SGD_UPDATE (torch.optim.SGD's update with dampening 0). */
export interface SgdUpdateAttrs {
  /** Learning rate of this step. */
  lr: number;
  /** Momentum μ (0: no buffer). */
  momentum: number;
  /** L2 weight decay of this weight (0 for weights that take none). */
  weightDecay: number;
  /** Nesterov momentum. */
  nesterov: boolean;
}

/**
 * Training-mode batch norm over every axis but the last: inputs {x, gamma, beta}, outputs
 * [y, mean, variance] (batch mean and biased variance, for the moving statistics).
 */
export const BATCH_NORM_TRAIN = "SenetBatchNormTrain";
/** Its gradient: inputs {dy, x, gamma, mean, variance}, outputs [dx, dgamma, dbeta]. */
export const BATCH_NORM_TRAIN_GRAD = "SenetBatchNormTrainGrad";
/** Attributes of BATCH_NORM_TRAIN and BATCH_NORM_TRAIN_GRAD. */
export interface BatchNormTrainAttrs {
  /** Added to the variance before the square root. */
  epsilon: number;
}

/**
 * The moving-statistic update of a batch-norm layer, as tfjs-layers writes it:
 * moving − (moving − batch)·(1 − momentum). Inputs {moving, batch}, output [moving'].
 */
export const MOVING_AVERAGE = "SenetMovingAverage";
/** Attributes of MOVING_AVERAGE. */
export interface MovingAverageAttrs {
  /** The layer's momentum (tfjs-layers' convention: the weight of the old value). */
  momentum: number;
}

/** Every kernel name above: a backend registers some or all of them. */
export const CUSTOM_KERNEL_NAMES = [
  SGD_UPDATE,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  MOVING_AVERAGE,
] as const;
/**
 * The Squeeze-and-Excitation block with average squeeze, ReLU hidden layer and sigmoid gate:
 * inputs {x [N,H,W,C], w1 [C,Cr], w2 [Cr,C], b1? [Cr], b2? [C]}, outputs [y, gate [N,C],
 * hidden [N,Cr] (after ReLU), pooled [N,C]] (the last three kept for the gradient).
 */
export const SQUEEZE_EXCITE = "SenetSqueezeExcite";
/** Its gradient: inputs {dy, x, w1, w2, gate, hidden, pooled}, outputs [dx, dw1, dw2, db1, db2]. */
export const SQUEEZE_EXCITE_GRAD = "SenetSqueezeExciteGrad";
/** Attributes of SQUEEZE_EXCITE and SQUEEZE_EXCITE_GRAD: which biases the block has. */
export interface SqueezeExciteAttrs {
  /** The hidden layer has a bias (input b1). */
  bias1: boolean;
  /** The gate layer has a bias (input b2). */
  bias2: boolean;
}
/**
 * Spatial Group-wise Enhance: inputs {x [N,H,W,C], gamma [G], beta [G]}, outputs [y, gate
 * [N,HW,G], t [N,HW,G] (centred similarity), avg [N,C] (per-channel mean), sigma [N,G]
 * (unbiased std of t)] (the last four kept for the gradient).
 */
export const SPATIAL_GROUP_ENHANCE = "SenetSpatialGroupEnhance";
/** Its gradient: inputs {dy, x, gamma, gate, t, avg, sigma}, outputs [dx, dgamma, dbeta]. */
export const SPATIAL_GROUP_ENHANCE_GRAD = "SenetSpatialGroupEnhanceGrad";
/** Attributes of SPATIAL_GROUP_ENHANCE and its gradient. */
export interface SpatialGroupEnhanceAttrs {
  /** Groups G (divides C). */
  groups: number;
  /** Added to the unbiased std before dividing. */
  epsilon: number;
}
