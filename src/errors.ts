/**
 * Typed errors. Every error the library raises on bad input is a `SenetLabError` subclass so
 * callers (CLI, sweeps, notebooks) can tell a user mistake from a bug, and each carries the
 * offending value and the allowed ones in its message.
 */

/** Base class of every error senet-lab raises on purpose. */
export class SenetLabError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration value (layer argument, model key, sweep key, CLI flag) is invalid. */
export class ConfigError extends SenetLabError {}

/** A backend that was asked for by name cannot be loaded on this machine. */
export class BackendUnavailableError extends SenetLabError {}

/** A dataset is missing, truncated or in the wrong format. */
export class DatasetError extends SenetLabError {}

/** A notebook run failed; the message carries the failing cell's real error. */
export class NotebookError extends SenetLabError {}

/** Formats a value for an error message: strings quoted, objects as JSON, short. */
export function quote(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) {
    return String(value);
  }
  try {
    const s = JSON.stringify(value);
    return s.length > 200 ? `${s.slice(0, 197)}...` : s;
  } catch {
    return String(value);
  }
}

/** Throws a ConfigError naming `what`, the bad value and the allowed choices. */
export function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value))
    return value as T;
  throw new ConfigError(
    `${what} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}; got ${quote(value)}`,
  );
}
