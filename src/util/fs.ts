/**
 * Crash-safe file writes. Results must survive a SIGKILL at any instant: every file is written
 * to a temporary name in the same directory, fsynced, then renamed over the target, so a reader
 * sees either the old file or the new one, never half of one.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CorruptFileError, OutputPathError } from "../errors.js";
import { pidAlive } from "./process.js";

/**
 * Names of the temp files writeFileAtomic makes: `.<name>.<pid>.<8 hex>.tmp` (group 1: the pid).
 * removeTempFiles is the one place that recognises them.
 */
export const TEMP_FILE_PATTERN = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Writes `data` to `file` atomically (temp file + fsync + rename), creating parent folders. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  // Persist the rename itself; best effort (some filesystems refuse fsync on directories).
  try {
    const dfd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* directory fsync unsupported */
  }
}

/** Writes a value as pretty JSON atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Appends one JSON record as a line. A kill mid-append can leave a partial last line, which
 * readJsonl drops, so an appended log never needs a rewrite to stay readable.
 */
export function appendJsonl(file: string, record: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "a");
  try {
    fs.writeSync(fd, `${JSON.stringify(record)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a JSONL file, skipping a truncated final line left by a crash; [] if absent. */
export function readJsonl<T = unknown>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, "utf8");
  const out: T[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch (err) {
      // Only the last line may be partial; anything earlier is real corruption.
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== "")) throw err;
    }
  }
  return out;
}

/**
 * Reads and parses a JSON file, or undefined when it does not exist. A file that is empty or not
 * valid JSON (e.g. truncated by a full disk or a copy cut short) throws CorruptFileError naming
 * it, so callers can treat that one file's owner as damaged rather than crash on a SyntaxError.
 */
export function readJsonIfExists<T = unknown>(file: string): T | undefined {
  if (!fs.existsSync(file)) return undefined;
  const text = fs.readFileSync(file, "utf8");
  if (text.trim() === "") throw new CorruptFileError(file, "the file is empty");
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CorruptFileError(
      file,
      `not valid JSON (${(err as Error).message.split("\n")[0]}; ${text.length} bytes)`,
      { cause: err },
    );
  }
}

/** Errno codes as words a user understands, for OutputPathError messages. */
function errnoWords(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only filesystem";
    case "ENOSPC":
      return "no space left on the device";
    case "EDQUOT":
      return "disk quota exceeded";
    default:
      return e.code ? `${e.code}: ${e.message}` : String(err);
  }
}

/**
 * Checks, before any work starts, that `dir` is (or can be created as) a folder this process can
 * write into: throws OutputPathError naming `what` (e.g. "--out"), the path and the cause when it
 * is a file, lies under a file, or its nearest existing folder refuses a probe file. Writes
 * nothing that stays (the probe is created and removed; no folder is created).
 */
export function checkWritableDir(dir: string, what: string, shown: string = dir): void {
  const abs = path.resolve(dir);
  const say = (cause: string) =>
    new OutputPathError(`${what} ${JSON.stringify(shown)} cannot be written: ${cause}`);
  // The nearest existing ancestor: writes land there first (mkdir -p from it).
  let existing = abs;
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(existing);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR") {
        // Some component above is a file: find it to name it.
        existing = path.dirname(existing);
        continue;
      }
      if (code !== "ENOENT") throw say(errnoWords(err));
    }
    if (st) {
      if (!st.isDirectory()) {
        throw say(
          existing === abs && shown === dir
            ? "it is a file, not a folder"
            : `${JSON.stringify(existing)} is a file, not a folder`,
        );
      }
      break;
    }
    const up = path.dirname(existing);
    if (up === existing) throw say("no part of the path exists");
    existing = up;
  }
  // Permission bits do not tell (root ignores them; a read-only mount keeps them): try it.
  const probe = path.join(
    existing,
    `.senet-lab-write-probe.${process.pid}.${randomBytes(4).toString("hex")}`,
  );
  try {
    fs.writeFileSync(probe, "", { flag: "wx" });
  } catch (err) {
    const where =
      existing === abs && shown === dir
        ? ""
        : ` (in ${JSON.stringify(existing)}, its nearest existing folder)`;
    throw say(`${errnoWords(err)}${where}`);
  }
  fs.rmSync(probe, { force: true });
}

/** The same check for an output file: its folder must be writable and the path not a folder. */
export function checkWritableFile(file: string, what: string): void {
  const abs = path.resolve(file);
  let isDir = false;
  try {
    isDir = fs.statSync(abs).isDirectory();
  } catch {
    /* absent or under a file: checkWritableDir below names it */
  }
  if (isDir) {
    throw new OutputPathError(
      `${what} ${JSON.stringify(file)} cannot be written: it is a folder, not a file`,
    );
  }
  checkWritableDir(path.dirname(abs), what, file);
}

/** The project root (the folder holding senet-lab's package.json). */
export const PROJECT_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

/**
 * Deletes the temp files killed writers left in `dir` (TEMP_FILE_PATTERN), in its sub-folders
 * too with `recursive`. With `keepLive`, a file whose writer pid is alive is kept (folders that
 * no claim protects); without it, the caller guarantees no one writes there (it holds the
 * claim). Returns how many it removed.
 */
export function removeTempFiles(
  dir: string,
  options: { recursive?: boolean; keepLive?: boolean } = {},
): number {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let removed = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (options.recursive) removed += removeTempFiles(p, options);
      continue;
    }
    const m = TEMP_FILE_PATTERN.exec(e.name);
    if (!m || (options.keepLive && pidAlive(Number(m[1])))) continue;
    fs.rmSync(p, { force: true });
    removed++;
  }
  return removed;
}
