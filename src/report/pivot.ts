/**
 * pivot: danfojs has none. Spreads one column's values into columns (e.g. attention none / se /
 * sge across, depth down), keeping the order in which values first appear.
 */
import type * as dfd from "danfojs-node";
import { ConfigError, quote } from "../errors.js";
import { frameFromRows } from "./load.js";
import { frameRows } from "./summarize.js";

/** Options for pivot. */
export interface PivotOptions {
  /** Column(s) whose values become the rows. */
  index: string | string[];
  /** Column whose values become the new columns. */
  columns: string;
  /** Column(s) spread into the cells; with several, new columns are named `<value> <column value>`. */
  values: string | string[];
}

/**
 * Reshapes long to wide. Each (index, columns) pair must occur at most once (summarize first);
 * absent cells are NaN for numeric values and "" otherwise.
 */
export function pivot(df: dfd.DataFrame, options: PivotOptions): dfd.DataFrame {
  const index = Array.isArray(options.index) ? options.index : [options.index];
  const values = Array.isArray(options.values) ? options.values : [options.values];
  for (const c of [...index, options.columns, ...values]) {
    if (!df.columns.includes(c)) {
      throw new ConfigError(
        `pivot: ${quote(c)} is not a column; columns: ${df.columns.join(", ")}`,
      );
    }
  }
  const rows = frameRows(df);
  const colValues: unknown[] = [];
  const out = new Map<string, Record<string, unknown>>();
  const isNumeric = new Map(values.map((v) => [v, rows.every((r) => typeof r[v] === "number")]));
  const name = (v: string, cv: unknown) =>
    values.length === 1 ? String(cv) : `${v} ${String(cv)}`;
  for (const r of rows) {
    const cv = r[options.columns];
    if (!colValues.some((x) => String(x) === String(cv))) colValues.push(cv);
    const key = JSON.stringify(index.map((k) => String(r[k])));
    let o = out.get(key);
    if (!o) {
      o = Object.fromEntries(index.map((k) => [k, r[k]]));
      out.set(key, o);
    }
    for (const v of values) {
      const col = name(v, cv);
      if (col in o) {
        throw new ConfigError(
          `pivot: more than one row for ${index.map((k) => `${k}=${quote(r[k])}`).join(", ")} and ${options.columns}=${quote(cv)}; summarize before pivoting`,
        );
      }
      o[col] = r[v];
    }
  }
  const newCols = values.flatMap((v) => colValues.map((cv) => name(v, cv)));
  const clash = newCols.find((c) => index.includes(c));
  if (clash)
    throw new ConfigError(`pivot: new column ${quote(clash)} clashes with an index column`);
  for (const o of out.values()) {
    for (const v of values) {
      for (const cv of colValues) {
        const col = name(v, cv);
        if (!(col in o)) o[col] = isNumeric.get(v) ? Number.NaN : "";
      }
    }
  }
  return frameFromRows([...out.values()], [...index, ...newCols]);
}
