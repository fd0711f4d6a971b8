/**
 * senet-lab: Squeeze-and-Excitation and Spatial Group-wise Enhance for TensorFlow.js.
 * The package root re-exports the public API so notebooks write `import ... from "senet-lab"`.
 */
import * as tf from "@tensorflow/tfjs";

export * from "./backend/index.js";
export * from "./backend/onednn-api.js";
export * from "./bench/index.js";
export * from "./complexity/index.js";
export * from "./data/index.js";
export * from "./errors.js";
export * from "./experiments/index.js";
export * from "./io/index.js";
export * from "./layers/index.js";
export * from "./models/index.js";
export * from "./report/index.js";
export * from "./sweep/index.js";
export * from "./train/index.js";
/** The single @tensorflow/tfjs instance the library uses; import it from here in notebooks. */
export { tf };
