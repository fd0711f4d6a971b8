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

/**
 * A dataset download failed (unreachable host, HTTP error, cut-short transfer, checksum mismatch,
 * full disk, another download holding the folder). A DatasetError, so callers that treat "the data
 * is not there" alike still catch it; `url` and `kind` let a caller tell the cases apart.
 */
export class DownloadError extends DatasetError {
  /** The URL being fetched (or the file, for a local failure such as a full disk). */
  readonly url: string;
  /** What went wrong, one word. */
  readonly kind: "network" | "http" | "truncated" | "checksum" | "disk" | "busy" | "archive";
  constructor(
    message: string,
    url: string,
    kind: DownloadError["kind"],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.url = url;
    this.kind = kind;
  }
}

/** A notebook run failed; the message carries the failing cell's real error. */
export class NotebookError extends SenetLabError {}

/**
 * A file that should hold JSON is unreadable (truncated, empty, not JSON): raised instead of a
 * bare SyntaxError so a caller can name the file, mark what it belongs to as damaged and go on.
 */
export class CorruptFileError extends SenetLabError {
  /** The damaged file (absolute or as given). */
  readonly file: string;
  /** What is wrong with it, one line (e.g. "not valid JSON: Unexpected end of JSON input"). */
  readonly reason: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${JSON.stringify(file)} is damaged: ${reason}`, options);
    this.file = file;
    this.reason = reason;
  }
}

/**
 * An output path cannot be written (it is a file, lies under a file, or its folder is not
 * writable): raised before any work starts, so nothing runs for an hour and then fails to save.
 */
export class OutputPathError extends SenetLabError {}

/**
 * Training stopped on a signal (SIGTERM from SLURM's time-limit warning or scancel, SIGINT from
 * Ctrl-C) after writing a checkpoint at the current step: not a failure, the run resumes from
 * there. Callers exit with EXIT_PREEMPTED so a sweep records the run as "preempted".
 */
export class PreemptedError extends SenetLabError {
  /** The signal that stopped it. */
  readonly signal: string;
  /** Epochs completed when it stopped. */
  readonly epoch: number;
  /** Steps of the next epoch taken when it stopped (0: at an epoch boundary). */
  readonly step: number;
  constructor(signal: string, epoch: number, step: number, runDir: string) {
    super(
      `${JSON.stringify(runDir)}: stopped by ${signal} after ${epoch} epoch${epoch === 1 ? "" : "s"}${step ? ` and ${step} step${step === 1 ? "" : "s"}` : ""}; checkpoint written, it resumes there`,
    );
    this.signal = signal;
    this.epoch = epoch;
    this.step = step;
  }
}

/**
 * An invariant of senet-lab or of tfjs's registries broke (a kernel input missing, a gradient
 * to wrap absent): a bug to report, not a user mistake; the message names what was expected.
 */
export class InternalError extends SenetLabError {}

/** Exit status of a process whose run was preempted (PreemptedError): checkpointed, to resume. */
export const EXIT_PREEMPTED = 4;

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
