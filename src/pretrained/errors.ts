/**
 * The typed errors of weight import and export: a file that is not a readable weight file, and
 * a weight file whose keys or shapes do not fit the network (one error listing every offending
 * key, grouped, so a user sees the whole mismatch at once instead of the first key only).
 */
import { SenetLabError } from "../errors.js";

/** A weight file cannot be read: missing, truncated, a malformed safetensors header, an unsupported dtype, or a .pth that PyTorch could not convert. */
export class WeightFileError extends SenetLabError {
  /** The file, as given. */
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${JSON.stringify(file)}: ${reason}`, options);
    this.file = file;
  }
}

/** A tensor whose stored shape differs from the one the network needs. */
export interface ShapeMismatch {
  /** The key in the file (the layout's name). */
  key: string;
  /** The shape stored in the file. */
  found: number[];
  /** The shape the network needs, in the file's layout (PyTorch's). */
  expected: number[];
}

/** How many keys of each group a message prints before "… and N more" (the fields keep all). */
const SHOWN = 40;

function listed(keys: readonly string[]): string {
  const head = keys.slice(0, SHOWN).join(", ");
  return keys.length > SHOWN ? `${head}, … and ${keys.length - SHOWN} more` : head;
}

/**
 * The weights of a file do not fit the network under the chosen layout: keys the network needs
 * that the file lacks (`missing`), keys of the file that no weight takes (`unexpected`), and keys
 * whose shapes differ (`shapes`). Raised once, with all three groups complete.
 */
export class WeightMismatchError extends SenetLabError {
  /** The file (or "<state dict>" for in-memory weights). */
  readonly file: string;
  /** The layout the keys were read under. */
  readonly layout: string;
  /** Keys the network needs that the file lacks, sorted. */
  readonly missing: string[];
  /** Keys of the file that no weight of the network takes, sorted. */
  readonly unexpected: string[];
  /** Keys present on both sides with different shapes. */
  readonly shapes: ShapeMismatch[];
  constructor(
    file: string,
    layout: string,
    groups: { missing: string[]; unexpected: string[]; shapes: ShapeMismatch[] },
    hint = "",
  ) {
    const parts: string[] = [];
    if (groups.missing.length > 0) {
      parts.push(`missing ${groups.missing.length}: ${listed(groups.missing)}`);
    }
    if (groups.unexpected.length > 0) {
      parts.push(`unexpected ${groups.unexpected.length}: ${listed(groups.unexpected)}`);
    }
    if (groups.shapes.length > 0) {
      const text = groups.shapes.map(
        (s) => `${s.key} is [${s.found.join(", ")}], needs [${s.expected.join(", ")}]`,
      );
      parts.push(`wrong shape ${groups.shapes.length}: ${listed(text)}`);
    }
    super(
      `${JSON.stringify(file)} does not fit the network under layout ${JSON.stringify(layout)}; ${parts.join("; ")}${hint ? `. ${hint}` : ""}`,
    );
    this.file = file;
    this.layout = layout;
    this.missing = groups.missing;
    this.unexpected = groups.unexpected;
    this.shapes = groups.shapes;
  }
}
