/**
 * Crash-safe file writes. Results must survive a SIGKILL at any instant: every file is written
 * to a temporary name in the same directory, fsynced, then renamed over the target, so a reader
 * sees either the old file or the new one, never half of one.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

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

/** Reads and parses a JSON file, or undefined when it does not exist. */
export function readJsonIfExists<T = unknown>(file: string): T | undefined {
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** The project root (the folder holding senet-lab's package.json). */
export const PROJECT_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
