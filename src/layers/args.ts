/**
 * Argument checking shared by the attention layers: layer args are plain validated objects, so
 * unknown keys and wrong types fail in the constructor (before any model is built), each error
 * naming the layer, the key, the bad value and what is allowed.
 */
import type * as tf from "@tensorflow/tfjs";
import { ConfigError, quote } from "../errors.js";

/** The constructor argument of every tfjs layer (name, trainable, inputShape, dtype, ...). */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Keys of tfjs's own LayerArgs, accepted by every layer besides its own keys. */
export const BASE_LAYER_KEYS: readonly string[] = [
  "inputShape",
  "batchInputShape",
  "batchSize",
  "dtype",
  "name",
  "trainable",
  "weights",
  "inputDType",
];

/** Keys tfjs's deserializer adds to a config it passes to fromConfig (not user arguments). */
const DESERIALIZER_KEYS: readonly string[] = ["customObjects"];

/** Throws unless `args` is a plain object whose keys are all in `own` or BASE_LAYER_KEYS. */
export function checkArgKeys(layer: string, args: unknown, own: readonly string[]): void {
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new ConfigError(`${layer} args must be an object; got ${quote(args)}`);
  }
  for (const key of Object.keys(args)) {
    if (!own.includes(key) && !BASE_LAYER_KEYS.includes(key) && !DESERIALIZER_KEYS.includes(key)) {
      throw new ConfigError(
        `${layer} has no argument ${quote(key)}; allowed: ${[...own, ...BASE_LAYER_KEYS].join(", ")}`,
      );
    }
  }
}

/** `value` if it is a boolean, `fallback` if undefined, else a ConfigError. */
export function boolArg(layer: string, key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new ConfigError(`${layer} ${key} must be true or false; got ${quote(value)}`);
  }
  return value;
}

/** `value` if it is an integer >= min, `fallback` if undefined, else a ConfigError. */
export function intArg<F extends number | undefined>(
  layer: string,
  key: string,
  value: unknown,
  fallback: F,
  min = 1,
): number | F {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new ConfigError(`${layer} ${key} must be an integer >= ${min}; got ${quote(value)}`);
  }
  return value;
}

/** Formats a shape for messages, with null (unknown) dimensions as "?". */
export function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d == null ? "?" : String(d))).join(", ")}]`;
}

/**
 * The single NHWC input shape a build() received, with a known channel count, or a ConfigError
 * naming the shape (several inputs, wrong rank, unknown C).
 */
export function nhwcShape(layer: string, inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  const nested = Array.isArray(inputShape[0]);
  if (nested) {
    throw new ConfigError(
      `${layer} takes one input; got ${inputShape.length} inputs with shapes ${quote(inputShape)}`,
    );
  }
  const shape = inputShape as tf.Shape;
  if (shape.length !== 4) {
    throw new ConfigError(
      `${layer} needs a 4-D NHWC input [batch, height, width, channels]; got rank ${shape.length}, shape ${shapeText(shape)}`,
    );
  }
  if (shape[3] == null) {
    throw new ConfigError(`${layer} needs a known channel count; got shape ${shapeText(shape)}`);
  }
  return shape;
}
