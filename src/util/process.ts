/** Process liveness, one definition for every claim and temp-file owner check on this host. */

/**
 * Whether a process with this pid exists on this host: signal 0 reaches it, or it exists but we
 * may not signal it (EPERM). Only "no such process" (ESRCH) counts as gone.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
