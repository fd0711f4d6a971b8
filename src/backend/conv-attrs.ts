/** Padding and rounding of tfjs's conv and pool kernels, taken from tfjs-core's own attribute types. */
import type { Conv2DAttrs } from "@tensorflow/tfjs";

/** A kernel's `pad` attribute: "valid", "same", a number, or explicit [[t, b], [l, r]]-style pads. */
export type Pad = Conv2DAttrs["pad"];
/** A kernel's `dimRoundingMode` attribute (undefined: tfjs's default). */
export type Rounding = Conv2DAttrs["dimRoundingMode"];
