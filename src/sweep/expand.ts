/**
 * Expanding a sweep into runs, each with a folder name built from its overrides. Names are
 * deterministic (grid keys sorted, seed last) so the same spec always finds the same folders,
 * however its keys are ordered, and a rerun skips what is done.
 */
import { createHash } from "node:crypto";
import { ConfigError, quote } from "../errors.js";
import type { SweepSpec } from "./spec.js";

/** One run of a sweep: a grid point with one seed. */
export interface SweepRun {
  /** Position in the expansion (seeds outermost, then grid keys in spec order); stable. */
  index: number;
  /** Folder name under the sweep's folder, e.g. `attention=se__reduction=4__seed=1`. */
  id: string;
  /** The grid values this run sets, in spec order. */
  overrides: Record<string, unknown>;
  /** The run's seed. */
  seed: number;
  /** The raw config handed to the training loop: base, then overrides, then seed. */
  config: Record<string, unknown>;
}

/** Separates `key=value` parts in a run folder name. */
export const ID_SEPARATOR = "__";
const PLAIN = /^[A-Za-z0-9+][A-Za-z0-9._+-]*$/;
const MAX_ID = 200;

function shortHash(text: string, n = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, n);
}

/**
 * One value as a folder-name token: numbers, booleans, null and plain strings as written;
 * anything else (spaces, slashes, objects, arrays) sanitised and suffixed with a hash of its JSON
 * so two values never share a name.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new ConfigError(`grid value ${quote(value)} is not finite`);
    return String(value);
  }
  if (typeof value === "boolean" || value === null) return String(value);
  if (typeof value === "string" && PLAIN.test(value) && !value.includes(ID_SEPARATOR)) {
    return value;
  }
  const json = JSON.stringify(value);
  const cleaned = (typeof value === "string" ? value : json)
    .replace(/[^A-Za-z0-9.+-]+/g, "_")
    .replace(/^[_.-]+|[_.-]+$/g, "")
    .slice(0, 40);
  return `${cleaned || "v"}~${shortHash(json)}`;
}

/** The folder name of a run from its overrides and seed (grid keys sorted by name, seed last). */
export function runId(overrides: Record<string, unknown>, seed: number): string {
  const parts = Object.keys(overrides)
    .sort()
    .map((k) => `${k}=${formatValue(overrides[k])}`);
  parts.push(`seed=${seed}`);
  const id = parts.join(ID_SEPARATOR);
  if (id.length <= MAX_ID) return id;
  return `${id.slice(0, MAX_ID - 10)}~${shortHash(id)}`;
}

/**
 * How many runs a spec expands to (grid sizes multiplied, times the seeds), computed without
 * expanding, so a mistyped huge grid is refused before it costs minutes and gigabytes.
 */
export function countRuns(spec: Pick<SweepSpec, "grid" | "seeds">): number {
  let n = spec.seeds.length;
  for (const vals of Object.values(spec.grid)) n *= vals.length;
  return n;
}

/** Expands without validating configs (used by resolveSweepSpec itself). */
export function expandRunsUnchecked(spec: SweepSpec): SweepRun[] {
  const keys = Object.keys(spec.grid);
  let points: Record<string, unknown>[] = [{}];
  for (const k of keys) {
    const next: Record<string, unknown>[] = [];
    for (const p of points) for (const v of spec.grid[k]!) next.push({ ...p, [k]: v });
    points = next;
  }
  const runs: SweepRun[] = [];
  for (const seed of spec.seeds) {
    for (const overrides of points) {
      runs.push({
        index: runs.length,
        id: runId(overrides, seed),
        overrides,
        seed,
        config: { ...spec.base, ...overrides, seed },
      });
    }
  }
  return runs;
}
