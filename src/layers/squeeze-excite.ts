/**
 * Squeeze-and-Excitation (Hu et al., TPAMI 2019) as a tfjs layer on NHWC tensors, with every
 * variant the paper ablates:
 *
 *   z = squeeze(x)                       [N, C]   "avg" (paper), "max" (Table 11), or "avgmax"
 *   s = excite(W2 · relu(W1 · z + b1) + b2)       "sigmoid" (paper), "tanh", "relu" (Table 12),
 *                                                 "hardSigmoid"
 *   y = x · s                            one broadcast multiply of [N,H,W,C] by [N,1,1,C]
 *
 * "avgmax" passes the average-pooled AND the max-pooled vectors through the SAME two FC layers
 * and sums the two results before the excitation, as CBAM's channel gate does (with useBias
 * each path adds its biases). `spatial: true` is the paper's NoSqueeze (Table 16): no pooling,
 * the FCs become 1×1 convolutions applied at every position, and the gate is [N,H,W,C].
 * "hardSigmoid" is PyTorch's / MobileNetV3's relu6(x + 3) / 6, not Keras's 0.2x + 0.5.
 *
 * Hidden width: `hiddenChannels`, else max(1, floor(C / reduction)). Initialisation equals
 * torch.nn.Linear's default (the reference code's): kernels and biases U(±1/sqrt(fan_in)),
 * i.e. varianceScaling(scale 1/3, fanIn, uniform) for the kernels.
 */
import * as tf from "@tensorflow/tfjs";
import * as v from "valibot";
import { ConfigError, quote } from "../errors.js";
import { fusedSqueezeExcite } from "../ops/squeeze-excite.js";
import {
  type BaseLayerArgs,
  boolArg,
  intArg,
  nhwcShape,
  oneOfArg,
  parseLayerArgs,
  shapeText,
} from "./args.js";

/** A tfjs weight initializer. */
type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Squeeze operators: global average pool, global max pool, or both through one shared MLP. */
export const SQUEEZE_TYPES = ["avg", "max", "avgmax"] as const;
/** A squeeze operator name. */
export type SqueezeType = (typeof SQUEEZE_TYPES)[number];

/** Excitation (gate) non-linearities compared in the paper's Table 12, plus hard sigmoid. */
export const EXCITATION_TYPES = ["sigmoid", "tanh", "relu", "hardSigmoid"] as const;
/** An excitation operator name. */
export type ExcitationType = (typeof EXCITATION_TYPES)[number];

/** The gate non-linearity for each excitation name (one lookup table). */
const EXCITATIONS: Record<ExcitationType, (s: tf.Tensor) => tf.Tensor> = {
  sigmoid: (s) => tf.sigmoid(s),
  tanh: (s) => tf.tanh(s),
  relu: (s) => tf.relu(s),
  // torch.nn.Hardsigmoid: relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1).
  hardSigmoid: (s) => tf.clipByValue(tf.add(tf.mul(s, 1 / 6), 0.5), 0, 1),
};

/** SqueezeExcite's own arguments: types and defaults (reduction's 16 applies unless hiddenChannels is given). */
const SE_ARGS = (() => {
  const r = (i: v.BaseIssue<unknown>) =>
    `SqueezeExcite reduction must be a positive finite number (hidden width max(1, floor(C / r))); got ${quote(i.input)}`;
  return v.object({
    reduction: v.optional(v.pipe(v.number(r), v.finite(r), v.gtValue(0, r))),
    hiddenChannels: v.optional(intArg("SqueezeExcite", "hiddenChannels")),
    squeeze: v.optional(oneOfArg("SqueezeExcite squeeze", SQUEEZE_TYPES), "avg"),
    excitation: v.optional(oneOfArg("SqueezeExcite excitation", EXCITATION_TYPES), "sigmoid"),
    useBias: v.optional(boolArg("SqueezeExcite", "useBias"), false),
    spatial: v.optional(boolArg("SqueezeExcite", "spatial"), false),
  });
})();

/** The SE-specific argument names (besides tfjs's LayerArgs), from SE_ARGS. */
export const SE_ARG_KEYS = Object.keys(SE_ARGS.entries) as (keyof typeof SE_ARGS.entries)[];

/** Arguments of SqueezeExcite. */
export interface SqueezeExciteArgs extends BaseLayerArgs {
  /** Reduction ratio r, a positive number; hidden width max(1, floor(C / r)). Default 16. */
  reduction?: number;
  /** Hidden width, a positive integer, instead of `reduction` (give one of the two). */
  hiddenChannels?: number;
  /** Squeeze operator: "avg" (default), "max", or "avgmax" (both through one MLP, summed). */
  squeeze?: SqueezeType;
  /** Gate non-linearity: "sigmoid" (default), "tanh", "relu" or "hardSigmoid". */
  excitation?: ExcitationType;
  /** Add a bias to both FC layers. Default false, as in the paper's ablations. */
  useBias?: boolean;
  /** NoSqueeze: no pooling, 1×1-conv FCs at each position, [N,H,W,C] gate. Default false. */
  spatial?: boolean;
}

/** Validates SqueezeExcite args (names and types through SE_ARGS; shape checks wait for build). */
function parseArgs(args: SqueezeExciteArgs) {
  const a = parseLayerArgs("SqueezeExcite", args, SE_ARGS);
  if (a.hiddenChannels !== undefined && a.reduction !== undefined) {
    throw new ConfigError(
      `SqueezeExcite takes reduction or hiddenChannels, not both; got reduction ${quote(a.reduction)} and hiddenChannels ${quote(a.hiddenChannels)}`,
    );
  }
  if (a.spatial && a.squeeze !== "avg") {
    throw new ConfigError(
      `SqueezeExcite spatial (NoSqueeze) does no pooling, so squeeze must stay "avg" (the default); got squeeze ${quote(a.squeeze)}`,
    );
  }
  return { ...a, reduction: a.reduction ?? 16 };
}

/** torch.nn.Linear's default init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
function torchLinearInit(fanIn: number): Initializer {
  const limit = 1 / Math.sqrt(fanIn);
  return tf.initializers.randomUniform({ minval: -limit, maxval: limit });
}

/** Squeeze-and-Excitation block: y = x · gate(x), gate per channel (or per position). */
export class SqueezeExcite extends tf.layers.Layer {
  /** Name under which tfjs serialises this class. */
  static className = "SqueezeExcite";
  /** Reduction ratio r (used when hiddenChannels is not given). */
  readonly reduction: number;
  /** Explicit hidden width, if given instead of reduction. */
  readonly hiddenChannels: number | undefined;
  /** Squeeze operator. */
  readonly squeeze: SqueezeType;
  /** Excitation operator. */
  readonly excitation: ExcitationType;
  /** Whether both FC layers carry a bias. */
  readonly useBias: boolean;
  /** NoSqueeze variant: gate keeps H×W. */
  readonly spatial: boolean;
  private reduceKernel: tf.LayerVariable | null = null;
  private reduceBias: tf.LayerVariable | null = null;
  private expandKernel: tf.LayerVariable | null = null;
  private expandBias: tf.LayerVariable | null = null;

  constructor(args: SqueezeExciteArgs = {}) {
    const parsed = parseArgs(args);
    super(args);
    this.reduction = parsed.reduction;
    this.hiddenChannels = parsed.hiddenChannels;
    this.squeeze = parsed.squeeze;
    this.excitation = parsed.excitation;
    this.useBias = parsed.useBias;
    this.spatial = parsed.spatial;
  }

  /** Hidden width for `channels` input channels. */
  hiddenFor(channels: number): number {
    return this.hiddenChannels ?? Math.max(1, Math.floor(channels / this.reduction));
  }

  /** Creates the weights, in getWeights() order: reduce kernel/bias, expand kernel/bias. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = nhwcShape(`SqueezeExcite ${quote(this.name)}`, inputShape);
    const c = shape[3] as number;
    const hidden = this.hiddenFor(c);
    this.reduceKernel = this.addWeight("reduce_kernel", [c, hidden], "float32", kernelInit());
    if (this.useBias) {
      this.reduceBias = this.addWeight("reduce_bias", [hidden], "float32", torchLinearInit(c));
    }
    this.expandKernel = this.addWeight("expand_kernel", [hidden, c], "float32", kernelInit());
    if (this.useBias) {
      this.expandBias = this.addWeight("expand_bias", [c], "float32", torchLinearInit(hidden));
    }
    this.inputSpec = [{ ndim: 4, axes: { [-1]: c } }];
    this.built = true;
  }

  /**
   * The gate s for input x: [N,1,1,C] (or [N,H,W,C] when spatial), so that call(x) = x · s.
   * Public so gate read-out (gates.ts) can show what the layer does; call() uses it too.
   */
  computeGate(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.built || this.reduceKernel === null || this.expandKernel === null) {
      throw new ConfigError(`SqueezeExcite ${quote(this.name)}: computeGate before build`);
    }
    const c = this.reduceKernel.shape[0] as number;
    if (x.rank !== 4 || x.shape[3] !== c) {
      throw new ConfigError(
        `SqueezeExcite ${quote(this.name)} needs a 4-D NHWC input with ${c} channels; got shape ${shapeText(x.shape)}`,
      );
    }
    const k1 = this.reduceKernel.read();
    const k2 = this.expandKernel.read();
    const b1 = this.reduceBias?.read();
    const b2 = this.expandBias?.read();
    const excite = EXCITATIONS[this.excitation];
    const [n, h, w] = x.shape;
    return tf.tidy(() => {
      const mlp = (z: tf.Tensor): tf.Tensor => {
        let hid: tf.Tensor = tf.matMul(z as tf.Tensor2D, k1 as tf.Tensor2D);
        if (b1) hid = tf.add(hid, b1);
        let s: tf.Tensor = tf.matMul(tf.relu(hid) as tf.Tensor2D, k2 as tf.Tensor2D);
        if (b2) s = tf.add(s, b2);
        return s;
      };
      if (this.spatial) {
        const s = mlp(tf.reshape(x, [n * h * w, c]));
        return tf.reshape(excite(s), [n, h, w, c]);
      }
      let s: tf.Tensor;
      if (this.squeeze === "avg") s = mlp(tf.mean(x, [1, 2]));
      else if (this.squeeze === "max") s = mlp(tf.max(x, [1, 2]));
      else {
        // Both descriptors through the same MLP in one pass ([2N, C]), then summed.
        const both = mlp(tf.concat([tf.mean(x, [1, 2]), tf.max(x, [1, 2])], 0));
        s = tf.add(tf.slice(both, [0, 0], [n, c]), tf.slice(both, [n, 0], [n, c]));
      }
      return tf.reshape(excite(s), [n, 1, 1, c]);
    });
  }

  /**
   * y = x · computeGate(x). The standard block (average squeeze, sigmoid gate, channel-wise)
   * runs as one fused kernel where the backend has it (src/ops/squeeze-excite.ts: onednn), the
   * same formula in fewer passes; every other case, and other backends, run the tf ops.
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (
        this.squeeze === "avg" &&
        this.excitation === "sigmoid" &&
        !this.spatial &&
        this.reduceKernel !== null &&
        this.expandKernel !== null &&
        x.rank === 4 &&
        x.shape[3] === this.reduceKernel.shape[0]
      ) {
        const fused = fusedSqueezeExcite(
          x,
          this.reduceKernel.read(),
          this.expandKernel.read(),
          this.reduceBias?.read(),
          this.expandBias?.read(),
        );
        if (fused) return fused;
      }
      return tf.mul(x, this.computeGate(x));
    });
  }

  /** The output has the input's shape. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  /** Config that reconstructs this layer (round-trips through fromConfig). */
  override getConfig(): tf.serialization.ConfigDict {
    const own: tf.serialization.ConfigDict =
      this.hiddenChannels === undefined
        ? { reduction: this.reduction }
        : { hiddenChannels: this.hiddenChannels };
    return {
      ...own,
      squeeze: this.squeeze,
      excitation: this.excitation,
      useBias: this.useBias,
      spatial: this.spatial,
      ...super.getConfig(),
    };
  }
}

/** Kernel init equal to torch.nn.Linear's kaiming_uniform(a=sqrt(5)): U(±1/sqrt(fanIn)). */
function kernelInit(): Initializer {
  return tf.initializers.varianceScaling({ scale: 1 / 3, mode: "fanIn", distribution: "uniform" });
}

tf.serialization.registerClass(SqueezeExcite);
