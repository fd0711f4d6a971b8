/** Number formatting for the notebooks' printed conclusions: a fixed number of digits, "—" for NaN. */

/** `x` with `digits` decimals, or "—" when it is not finite (no value, no spread). */
export function fmtFixed(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

/** Like fmtFixed with an explicit "+" on non-negative values (differences), "—" when not finite. */
export function fmtSigned(x: number, digits = 2): string {
  return Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${x.toFixed(digits)}` : "—";
}
