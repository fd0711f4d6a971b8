/**
 * The addon's operation codes, read from native/src/op_codes.h, the one table C++ compiles its
 * enums from (X-macro lines `X(name, code)`), so the two sides cannot drift. The names are
 * spelled here too, for the types; loading checks that the header has exactly these names.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { InternalError } from "../errors.js";

/** The header the codes come from. */
export const OP_CODES_HEADER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../native/src/op_codes.h",
);

const TABLES = {
  SENET_ACTIVATIONS: ["linear", "relu", "relu6", "leakyrelu", "elu", "sigmoid"],
  SENET_BINARY_OPS: ["add", "sub", "mul", "div", "max", "min"],
  SENET_ELTWISE_OPS: ["relu", "sigmoid", "tanh", "exp", "square"],
  SENET_REDUCE_OPS: ["sum", "mean", "max", "min"],
} as const;
type Table = keyof typeof TABLES;
type Codes<T extends Table> = Readonly<Record<(typeof TABLES)[T][number], number>>;

/** Parses every `#define NAME(X) X(a, 0) X(b, 1) ...` table of the header. */
export function parseOpCodes(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const joined = text.replace(/\\\r?\n/g, " ");
  for (const m of joined.matchAll(/#define\s+(SENET_[A-Z_]+)\(X\)([^\n]*)/g)) {
    const entries: Record<string, number> = {};
    for (const e of m[2]!.matchAll(/X\(\s*(\w+)\s*,\s*(\d+)\s*\)/g)) entries[e[1]!] = Number(e[2]);
    out[m[1]!] = entries;
  }
  return out;
}

const parsed = parseOpCodes(readFileSync(OP_CODES_HEADER, "utf8"));

function table<T extends Table>(name: T): Codes<T> {
  const got = parsed[name];
  const want = [...TABLES[name]].sort();
  if (!got || JSON.stringify(Object.keys(got).sort()) !== JSON.stringify(want)) {
    throw new InternalError(
      `${OP_CODES_HEADER}: table ${name} has ${got ? Object.keys(got).join(", ") : "no entries"}; src/backend/op-codes.ts expects ${want.join(", ")}`,
    );
  }
  return Object.freeze(got) as Codes<T>;
}

/** Activation codes of conv and matmul post-ops. */
export const ACTIVATION_CODES = table("SENET_ACTIVATIONS");
/** Operation codes of the addon's binary(). */
export const BINARY_OPS = table("SENET_BINARY_OPS");
/** Unary ops of eltwise(). */
export const ELTWISE_OPS = table("SENET_ELTWISE_OPS");
/** Reductions of reduce(). */
export const REDUCE_OPS = table("SENET_REDUCE_OPS");
