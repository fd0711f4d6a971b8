/**
 * He et al.'s CIFAR shortcut "option A": when a residual unit halves the resolution and widens
 * the channels, the identity path subsamples every `stride`-th pixel and appends zero channels,
 * adding no parameters. tfjs-layers has no Lambda layer, so this is a small serialisable layer.
 * Zero channels are appended after the input's (as in the original Torch ResNet code); where
 * they go changes nothing learnable.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";
import { registerStridedSliceGradient } from "../ops/strided-slice-grad.js";

/** Arguments of PadShortcut. */
export interface PadShortcutLayerArgs {
  /** Channels of the output (>= input channels); the extra ones are zeros. Required. */
  filters: number;
  /** Spatial subsampling step (1 or 2 in a ResNet). Default 1. */
  stride?: number;
  /** Layer name. */
  name?: string;
}

/** Parameter-free shortcut: subsample by `stride`, zero-pad channels up to `filters`. */
export class PadShortcut extends tf.layers.Layer {
  /** Registered class name (serialisation). */
  static className = "PadShortcut";
  /** Output channels. */
  readonly filters: number;
  /** Spatial step. */
  readonly stride: number;

  constructor(args: PadShortcutLayerArgs) {
    super(args.name === undefined ? {} : { name: args.name });
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new ConfigError(
        `PadShortcut filters must be a positive integer; got ${quote(args.filters)}`,
      );
    }
    const stride = args.stride ?? 1;
    if (!Number.isInteger(stride) || stride < 1) {
      throw new ConfigError(`PadShortcut stride must be a positive integer; got ${quote(stride)}`);
    }
    this.filters = args.filters;
    this.stride = stride;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = s[3];
    if (c != null && c > this.filters) {
      throw new ConfigError(`PadShortcut cannot shrink ${c} channels to filters=${this.filters}`);
    }
    const down = (d: number | null | undefined) => (d == null ? null : Math.ceil(d / this.stride));
    return [s[0] ?? null, down(s[1]), down(s[2]), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // tfjs has no StridedSlice gradient: the layer that needs ours makes sure it is there,
    // whichever backend (or none of ours) was set up.
    registerStridedSliceGradient();
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [b, h, w, c] = x.shape;
      const sub =
        this.stride === 1
          ? x
          : tf.stridedSlice(x, [0, 0, 0, 0], [b, h, w, c], [1, this.stride, this.stride, 1]);
      const extra = this.filters - c;
      return extra === 0
        ? sub
        : tf.pad(sub as tf.Tensor4D, [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, extra],
          ]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, stride: this.stride };
  }
}
tf.serialization.registerClass(PadShortcut);
