/**
 * SGD with momentum and optional Nesterov, written out so its state (one momentum buffer per
 * trainable weight) can be checkpointed and restored bit for bit. Same update as
 * torch.optim.SGD (dampening 0): g ← ∇ + wd·w (decayed weights only); b ← μ·b + g;
 * d ← g + μ·b (Nesterov) or b; w ← w − lr·d. Buffers start at zero, which equals PyTorch's
 * "first step copies the gradient".
 */
import * as tf from "@tensorflow/tfjs";
import { sgdUpdate } from "../ops/sgd-update.js";

/** Hyper-parameters of SGD (the learning rate is passed per step by the schedule). */
export interface SgdOptions {
  /** Momentum μ (0: plain SGD). */
  momentum: number;
  /** Nesterov momentum (needs μ > 0). */
  nesterov: boolean;
  /** L2 weight decay coefficient, applied only where `decay[i]` is true. */
  weightDecay: number;
}

/** SGD over a fixed list of variables, holding its own momentum buffers. */
export class Sgd {
  /** The variables it updates, in a fixed order (checkpoints rely on it). */
  readonly vars: tf.Variable[];
  /** Whether each variable receives weight decay (conv/dense kernels only). */
  readonly decay: boolean[];
  /** One momentum buffer per variable (empty list when momentum is 0). */
  readonly buffers: tf.Variable[];
  /** Hyper-parameters. */
  readonly options: SgdOptions;

  /** Creates zero momentum buffers for `vars`. */
  constructor(vars: tf.Variable[], decay: boolean[], options: SgdOptions) {
    this.vars = vars;
    this.decay = decay;
    this.options = options;
    this.buffers =
      options.momentum > 0
        ? vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)))
        : [];
  }

  /**
   * Applies one update with learning rate `lr`; `grads[i]` belongs to `vars[i]`. Each weight
   * is one sgdUpdate op: one native pass on the onednn backend (the same arithmetic in
   * float32) instead of six tfjs kernels, about 480 kernel calls fewer per SE-ResNet-20 step.
   */
  apply(grads: tf.Tensor[], lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) {
        const v = this.vars[i]!;
        const b = momentum > 0 ? this.buffers[i]! : null;
        const out = sgdUpdate(v, grads[i]!, b, {
          lr,
          momentum,
          weightDecay: this.decay[i] ? weightDecay : 0,
          nesterov,
        });
        if (b && out.b) b.assign(out.b);
        v.assign(out.w);
      }
    });
  }

  /** Frees the momentum buffers. */
  dispose(): void {
    for (const b of this.buffers) b.dispose();
  }
}
