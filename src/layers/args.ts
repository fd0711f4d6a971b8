/**
 * Argument checking shared by the attention layers: each layer's own arguments are a valibot
 * object schema (the library of the config schemas, src/models/schema.ts), so unknown keys and
 * wrong types fail in the constructor (before any model is built; also when tfjs deserialises a
 * saved model), each error naming the layer, the key, the bad value and what is allowed.
 */
import type * as tf from "@tensorflow/tfjs";
import * as v from "valibot";
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

/** A layer's own arguments as a valibot object schema, each key with its default. */
export type LayerArgsSchema = v.ObjectSchema<v.ObjectEntries, undefined>;

/**
 * Parses a layer's own arguments with its schema: unknown keys first (naming the allowed ones),
 * then each value in the schema's key order. tfjs's own LayerArgs pass through untouched.
 */
export function parseLayerArgs<S extends LayerArgsSchema>(
  layer: string,
  args: unknown,
  schema: S,
): v.InferOutput<S> {
  const own = Object.keys(schema.entries);
  checkArgKeys(layer, args, own);
  const given: Record<string, unknown> = {};
  for (const k of own) {
    const value = (args as Record<string, unknown>)[k];
    if (value !== undefined) given[k] = value;
  }
  const r = v.safeParse(schema, given, { abortEarly: true });
  if (!r.success) throw new ConfigError(r.issues[0].message);
  return r.output;
}

/** An integer argument >= min ("<layer> <key> must be an integer >= <min>; got <value>"). */
export function intArg(layer: string, key: string, min = 1) {
  const m = (i: v.BaseIssue<unknown>) =>
    `${layer} ${key} must be an integer >= ${min}; got ${quote(i.input)}`;
  return v.pipe(v.number(m), v.integer(m), v.minValue(min, m));
}

/** A boolean argument ("<layer> <key> must be true or false; got <value>"). */
export function boolArg(layer: string, key: string) {
  return v.boolean((i) => `${layer} ${key} must be true or false; got ${quote(i.input)}`);
}

/** A string argument out of `allowed`, worded as errors.ts's oneOf. */
export function oneOfArg<const T extends readonly string[]>(what: string, allowed: T) {
  return v.picklist(
    allowed,
    (i) =>
      `${what} must be one of ${allowed.map((x) => JSON.stringify(x)).join(", ")}; got ${quote(i.input)}`,
  );
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
