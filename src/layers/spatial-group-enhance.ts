/**
 * Spatial Group-wise Enhance (Li, Hu, Yang, arXiv 1905.09646) as a tfjs layer on NHWC tensors,
 * numerically the reference implus/PytorchInsight resnet_sge.py module:
 *
 *   split C into G groups of C/G consecutive channels (PyTorch's view(b*G, C/G, h, w))
 *   g   = mean over positions of the group's vectors          [N,1,1,G,C/G]
 *   c_i = <g, x_i> at each position i                          [N,H,W,G]
 *   ĉ   = (c − mean(c)) / (std(c) + ε), std unbiased (n − 1) over the H·W positions
 *   a   = γ·ĉ + β (one γ, β per group; γ = 0, β = 1 at init)
 *   y_i = x_i · sigmoid(a_i)
 *
 * The unbiased std needs at least two positions: H·W = 1 is a ConfigError (PyTorch gives NaN).
 */
import * as tf from "@tensorflow/tfjs";
import * as v from "valibot";
import { ConfigError, quote } from "../errors.js";
import { fusedSpatialGroupEnhance } from "../ops/spatial-group-enhance.js";
import { type BaseLayerArgs, intArg, nhwcShape, parseLayerArgs, shapeText } from "./args.js";

/** SpatialGroupEnhance's own arguments: types and defaults (groups against C waits for build). */
const SGE_ARGS = (() => {
  const e = (i: v.BaseIssue<unknown>) =>
    `SpatialGroupEnhance epsilon must be a finite number >= 0; got ${quote(i.input)}`;
  return v.object({
    groups: v.optional(intArg("SpatialGroupEnhance", "groups"), 64),
    epsilon: v.optional(v.pipe(v.number(e), v.finite(e), v.minValue(0, e)), 1e-5),
  });
})();

/** The SGE-specific argument names (besides tfjs's LayerArgs), from SGE_ARGS. */
export const SGE_ARG_KEYS = Object.keys(SGE_ARGS.entries) as (keyof typeof SGE_ARGS.entries)[];

/** Arguments of SpatialGroupEnhance. */
export interface SpatialGroupEnhanceArgs extends BaseLayerArgs {
  /** Number of groups G; must divide the channel count. Default 64 (the reference ResNets). */
  groups?: number;
  /** Added to the unbiased standard deviation before dividing. Default 1e-5 (reference). */
  epsilon?: number;
}

/** Divisors of n, for the "groups must divide channels" message. */
function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** Spatial Group-wise Enhance block: y = x · sigmoid(γ·normalise(<mean(x_g), x_g,i>) + β). */
export class SpatialGroupEnhance extends tf.layers.Layer {
  /** Name under which tfjs serialises this class. */
  static className = "SpatialGroupEnhance";
  /** Number of channel groups G. */
  readonly groups: number;
  /** Epsilon added to the standard deviation. */
  readonly epsilon: number;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: SpatialGroupEnhanceArgs = {}) {
    const { groups, epsilon } = parseLayerArgs("SpatialGroupEnhance", args, SGE_ARGS);
    super(args);
    this.groups = groups;
    this.epsilon = epsilon;
  }

  /** Creates gamma [G] (zeros) and beta [G] (ones), in that getWeights() order. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const label = `SpatialGroupEnhance ${quote(this.name)}`;
    const shape = nhwcShape(label, inputShape);
    const c = shape[3] as number;
    if (c % this.groups !== 0) {
      throw new ConfigError(
        `${label}: groups ${this.groups} does not divide the ${c} input channels; allowed groups for ${c} channels: ${divisors(c).join(", ")}`,
      );
    }
    const [, h, w] = shape;
    if (h != null && w != null && h * w < 2) {
      throw new ConfigError(
        `${label} needs at least 2 spatial positions (unbiased std over H·W); got shape ${shapeText(shape)}`,
      );
    }
    this.gamma = this.addWeight("gamma", [this.groups], "float32", tf.initializers.zeros());
    this.beta = this.addWeight("beta", [this.groups], "float32", tf.initializers.ones());
    this.inputSpec = [{ ndim: 4, axes: { [-1]: c } }];
    this.built = true;
  }

  /**
   * The attention map sigmoid(a) for input x, one value per position and group: [N,H,W,G].
   * call(x) multiplies each group's C/G channels by it. Public for gate read-out (gates.ts).
   */
  computeGate(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.built || this.gamma === null || this.beta === null) {
      throw new ConfigError(`SpatialGroupEnhance ${quote(this.name)}: computeGate before build`);
    }
    const g = this.groups;
    const [n, h, w, c] = x.shape;
    if (x.rank !== 4 || c % g !== 0 || h * w < 2) {
      throw new ConfigError(
        `SpatialGroupEnhance ${quote(this.name)} (groups ${g}) needs a 4-D NHWC input with channels divisible by ${g} and H·W >= 2; got shape ${shapeText(x.shape)}`,
      );
    }
    const gamma = this.gamma.read();
    const beta = this.beta.read();
    return tf.tidy(() => {
      const xg = tf.reshape(x, [n, h, w, g, c / g]);
      const global = tf.mean(xg, [1, 2], true);
      const sim = tf.sum(tf.mul(xg, global), 4); // [N,H,W,G]
      const t = tf.sub(sim, tf.mean(sim, [1, 2], true));
      // Unbiased std, then γ/(std + ε) folded on the small [N,1,1,G] tensor: one big multiply.
      const variance = tf.mul(tf.sum(tf.square(t), [1, 2], true), 1 / (h * w - 1));
      const scale = tf.div(gamma, tf.add(tf.sqrt(variance), this.epsilon));
      return tf.sigmoid(tf.add(tf.mul(t, scale), beta)) as tf.Tensor4D;
    });
  }

  /**
   * y = x · gate, the [N,H,W,G] gate broadcast over each group's channels: one fused kernel
   * where the backend has it (src/ops/spatial-group-enhance.ts: onednn), tf ops elsewhere.
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      if (
        this.gamma !== null &&
        this.beta !== null &&
        x.rank === 4 &&
        c % this.groups === 0 &&
        h * w >= 2
      ) {
        const fused = fusedSpatialGroupEnhance(
          x,
          this.gamma.read(),
          this.beta.read(),
          this.groups,
          this.epsilon,
        );
        if (fused) return fused;
      }
      const gate = tf.reshape(this.computeGate(x), [n, h, w, this.groups, 1]);
      return tf.reshape(tf.mul(tf.reshape(x, [n, h, w, this.groups, c / this.groups]), gate), [
        n,
        h,
        w,
        c,
      ]);
    });
  }

  /** The output has the input's shape. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  /** Config that reconstructs this layer (round-trips through fromConfig). */
  override getConfig(): tf.serialization.ConfigDict {
    return { groups: this.groups, epsilon: this.epsilon, ...super.getConfig() };
  }
}

tf.serialization.registerClass(SpatialGroupEnhance);
