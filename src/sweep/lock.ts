/**
 * Run claims: one lock file per run, created with O_EXCL so exactly one process wins, holding the
 * owner's pid, host and process start time. A lock whose owner is gone (SIGKILL leaves it behind)
 * is stale and is taken over; the takeover itself runs under a second O_EXCL file so two
 * processes breaking the same stale lock cannot both win.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pidAlive } from "../util/process.js";
import { type SlurmIds, slurmIdsFromEnv, slurmJobAlive } from "./slurm-queue.js";

/** What a lock file records about its owner. */
export interface LockInfo {
  /** Owner's process id. */
  pid: number;
  /** Owner's host name (a lock from another host is judged by SLURM, or never stale without it). */
  host: string;
  /** Owner's start time from /proc (guards against a reused pid); null where unknown. */
  procStart: string | null;
  /** When the lock was taken (ISO time), for `sweep status`. */
  since: string;
  /** The owner's SLURM job, when it runs inside one: lets other hosts ask squeue if it lives. */
  slurm?: SlurmIds;
}

/** A held lock; `release()` removes it if it is still ours. */
export interface Lock {
  /** The lock file. */
  file: string;
  /** What we wrote into it. */
  info: LockInfo;
  /** Removes the lock file (only if it still holds our record). */
  release(): void;
}

/** Fields 3… of /proc/PID/stat (state first), or null off Linux or when the pid is gone. */
function procStat(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** The kernel's start time of a process (field 22 of /proc/PID/stat), or null off Linux. */
export function processStartTime(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}

/** This process's lock record. */
export function ownLockInfo(): LockInfo {
  const slurm = slurmIdsFromEnv();
  return {
    pid: process.pid,
    host: os.hostname(),
    procStart: processStartTime(process.pid),
    since: new Date().toISOString(),
    ...(slurm ? { slurm } : {}),
  };
}

/**
 * Whether the owner of a lock is still running. A lock from another host counts as alive unless
 * it names a SLURM job and squeue says that job has ended (or no longer exists).
 */
export function isLockAlive(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return info.slurm ? slurmJobAlive(info.slurm) !== false : true;
  // A process we may not signal (EPERM) exists: assume it is the owner.
  if (!pidAlive(info.pid)) return false;
  const stat = procStat(info.pid);
  if (stat) {
    // A killed process whose parent died too stays a zombie until init reaps it (or forever,
    // where PID 1 does not reap): it answers signal 0 but will never release anything.
    if (stat[0] === "Z" || stat[0] === "X") return false;
    if (info.procStart !== null && stat[19] !== info.procStart) return false; // pid reused
  }
  return true;
}

/** Reads a lock file; undefined when absent, null when unreadable (half-written: treat as stale). */
export function readLock(file: string): LockInfo | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const v = JSON.parse(text) as LockInfo;
    return typeof v.pid === "number" && typeof v.host === "string" ? v : null;
  } catch {
    return null;
  }
}

function createExclusive(file: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    fs.writeSync(fd, JSON.stringify(info));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** A lock file we wrote but whose content is not yet complete looks unreadable for a moment. */
const UNREADABLE_GRACE_MS = 5_000;

function isStale(file: string, info: LockInfo | null): boolean {
  if (info) return !isLockAlive(info);
  try {
    return Date.now() - fs.statSync(file).mtimeMs > UNREADABLE_GRACE_MS;
  } catch {
    return false;
  }
}

/**
 * Tries to take the lock at `file`. Returns the held lock, or the live owner's record when
 * another process holds it. Stale locks (dead owner, or unreadable for > 5 s) are taken over.
 */
export function tryLock(file: string): { lock: Lock } | { heldBy: LockInfo | null } {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const info = ownLockInfo();
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(file, info)) {
      return {
        lock: {
          file,
          info,
          release() {
            const now = readLock(file);
            if (now && now.pid === info.pid && now.since === info.since)
              fs.rmSync(file, { force: true });
          },
        },
      };
    }
    const holder = readLock(file);
    if (holder === undefined) continue; // released between our two calls; try again
    if (!isStale(file, holder)) return { heldBy: holder };
    breakStaleLock(file, holder);
  }
  return { heldBy: readLock(file) ?? null };
}

/** Removes a stale lock, but only if it still holds the same stale record (checked under a guard). */
function breakStaleLock(file: string, stale: LockInfo | null): void {
  const guard = `${file}.breaking`;
  const me = ownLockInfo();
  if (!createExclusive(guard, me)) {
    const g = readLock(guard);
    if (g === undefined || !isStale(guard, g)) return; // someone else is breaking it now
    fs.rmSync(guard, { force: true });
    if (!createExclusive(guard, me)) return;
  }
  try {
    const now = readLock(file);
    const same =
      now === undefined
        ? false
        : now === null || stale === null
          ? now === stale
          : now.pid === stale.pid && now.since === stale.since;
    if (same) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/**
 * Removes the lock at `file` if its owner is dead (a process killed after it finished a run but
 * before it released the claim leaves one behind on a done run, which no later claim would clear).
 * Returns whether a stale lock was removed; a live owner's lock is left alone.
 */
export function clearStaleLock(file: string): boolean {
  const info = readLock(file);
  if (info === undefined || !isStale(file, info)) return false;
  breakStaleLock(file, info);
  return readLock(file) === undefined;
}

/** The state of a claim: nobody holds it, a live process does, or a dead one left it behind. */
export function lockState(file: string): "free" | "held" | "stale" {
  const info = readLock(file);
  if (info === undefined) return "free";
  return isStale(file, info) ? "stale" : "held";
}
