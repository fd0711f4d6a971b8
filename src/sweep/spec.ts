/**
 * Sweep specs: an ablation described as data. A spec is plain JSON
 * (`{"name", "base", "grid", "seeds", "description"?, "paper"?}`); `resolveSweepSpec` checks its
 * shape and then every run config it expands to through the training loop's own validator, so a
 * typo in the last grid value fails before the first run trains.
 */
import { ConfigError, quote } from "../errors.js";

/** A published number to show beside ours for one grid point (e.g. SE paper Table 10). */
export interface PaperValue {
  /** Grid keys and values that select the runs this number belongs to (a subset of the grid). */
  where: Record<string, unknown>;
  /** Our metric it compares with (a numeric field of summary.json, e.g. "testError"). */
  metric: string;
  /** The paper's number, in the same units as our metric. */
  value: number;
  /** Where it comes from, e.g. "SE paper, Table 10". */
  source?: string;
}

/** A validated sweep spec. */
export interface SweepSpec {
  /** Folder-safe name; results go to results/<name>/ by default. */
  name: string;
  /** Free text for people reading the manifest. */
  description?: string;
  /** Config keys shared by every run (model and training keys, without `seed`). */
  base: Record<string, unknown>;
  /** Config key → the values it takes; the sweep is the cartesian product (empty: one point). */
  grid: Record<string, unknown[]>;
  /** Seeds every grid point runs with (set as the config's `seed`). */
  seeds: number[];
  /** Published numbers for the paper column of tables; [] when none. */
  paper: PaperValue[];
}

/** Top-level keys a spec may have. */
export const SWEEP_SPEC_KEYS = ["name", "description", "base", "grid", "seeds", "paper"] as const;
const PAPER_KEYS = ["where", "metric", "value", "source"] as const;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Compares two JSON values structurally (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Checks the spec's shape only (no config validation); throws ConfigError listing every problem. */
export function checkSweepShape(raw: unknown): SweepSpec {
  if (!isPlainObject(raw))
    throw new ConfigError(`a sweep spec must be a JSON object; got ${quote(raw)}`);
  const errors: string[] = [];
  for (const k of Object.keys(raw)) {
    if (!(SWEEP_SPEC_KEYS as readonly string[]).includes(k)) {
      errors.push(`unknown key ${quote(k)}; valid keys: ${SWEEP_SPEC_KEYS.join(", ")}`);
    }
  }
  const { name, description, base, grid, seeds, paper } = raw;
  if (typeof name !== "string" || !SAFE_NAME.test(name)) {
    errors.push(
      `"name" must be a folder-safe string (letters, digits, . _ + -, not starting with . or -); got ${quote(name)}`,
    );
  }
  if (description !== undefined && typeof description !== "string") {
    errors.push(`"description" must be a string; got ${quote(description)}`);
  }
  if (base !== undefined && !isPlainObject(base)) {
    errors.push(`"base" must be an object of config keys; got ${quote(base)}`);
  } else if (base && "seed" in base) {
    errors.push(`"base" must not set "seed"; list seeds in "seeds"`);
  }
  const outGrid: Record<string, unknown[]> = {};
  if (grid !== undefined && !isPlainObject(grid)) {
    errors.push(`"grid" must be an object {key: [values]}; got ${quote(grid)}`);
  } else if (grid) {
    for (const [k, vals] of Object.entries(grid)) {
      if (k === "seed") {
        errors.push(`"grid" must not vary "seed"; list seeds in "seeds"`);
      } else if (!SAFE_NAME.test(k)) {
        errors.push(`grid key ${quote(k)} is not a config key name`);
      } else if (!Array.isArray(vals) || vals.length === 0) {
        errors.push(
          `grid key ${quote(k)} must map to a non-empty array of values; got ${quote(vals)}`,
        );
      } else {
        const dup = vals.find((v, i) => vals.findIndex((w) => jsonEqual(v, w)) !== i);
        if (dup !== undefined) errors.push(`grid key ${quote(k)} lists ${quote(dup)} twice`);
        else outGrid[k] = vals;
      }
    }
  }
  if (
    !Array.isArray(seeds) ||
    seeds.length === 0 ||
    !seeds.every((s) => Number.isSafeInteger(s) && s >= 0)
  ) {
    errors.push(`"seeds" must be a non-empty array of integers >= 0; got ${quote(seeds)}`);
  } else if (new Set(seeds).size !== seeds.length) {
    errors.push(`"seeds" lists a seed twice: ${quote(seeds)}`);
  }
  const outPaper: PaperValue[] = [];
  if (paper !== undefined && !Array.isArray(paper)) {
    errors.push(`"paper" must be an array of {where, metric, value, source?}; got ${quote(paper)}`);
  } else if (paper) {
    paper.forEach((p, i) => {
      const at = `paper[${i}]`;
      if (!isPlainObject(p)) {
        errors.push(`${at} must be an object; got ${quote(p)}`);
        return;
      }
      for (const k of Object.keys(p)) {
        if (!(PAPER_KEYS as readonly string[]).includes(k)) {
          errors.push(`${at}: unknown key ${quote(k)}; valid keys: ${PAPER_KEYS.join(", ")}`);
        }
      }
      if (!isPlainObject(p.where)) {
        errors.push(`${at}.where must be an object of grid keys; got ${quote(p.where)}`);
      } else {
        for (const [k, v] of Object.entries(p.where)) {
          const vals = outGrid[k];
          if (!vals) {
            errors.push(
              `${at}.where: ${quote(k)} is not a grid key; grid keys: ${Object.keys(outGrid).join(", ") || "(none)"}`,
            );
          } else if (!vals.some((w) => jsonEqual(v, w))) {
            errors.push(
              `${at}.where: ${k}=${quote(v)} is not a grid value; values: ${quote(vals)}`,
            );
          }
        }
      }
      if (typeof p.metric !== "string" || p.metric === "") {
        errors.push(`${at}.metric must be a metric name; got ${quote(p.metric)}`);
      }
      if (typeof p.value !== "number" || !Number.isFinite(p.value)) {
        errors.push(`${at}.value must be a finite number; got ${quote(p.value)}`);
      }
      if (p.source !== undefined && typeof p.source !== "string") {
        errors.push(`${at}.source must be a string; got ${quote(p.source)}`);
      }
      outPaper.push({
        where: p.where as Record<string, unknown>,
        metric: p.metric as string,
        value: p.value as number,
        ...(typeof p.source === "string" ? { source: p.source } : {}),
      });
    });
  }
  if (errors.length > 0) throw new ConfigError(formatErrors("invalid sweep spec", errors));
  return {
    name: name as string,
    ...(typeof description === "string" ? { description } : {}),
    base: { ...((base as Record<string, unknown> | undefined) ?? {}) },
    grid: outGrid,
    seeds: [...(seeds as number[])],
    paper: outPaper,
  };
}

/** Joins many problems into one message, capped so a huge sweep's errors stay readable. */
export function formatErrors(title: string, errors: string[], max = 25): string {
  const shown = errors.slice(0, max).map((e) => `  - ${e}`);
  if (errors.length > max) shown.push(`  ... and ${errors.length - max} more`);
  return `${title} (${errors.length} problem${errors.length === 1 ? "" : "s"}):\n${shown.join("\n")}`;
}
