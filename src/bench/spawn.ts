/**
 * Runs a benchmark child process (a tfjs worker or the PyTorch script): collects stdout,
 * forwards stderr line by line to a progress callback, and kills the child at a time limit.
 */
import { spawn } from "node:child_process";

/** How a child ended. */
export interface ChildResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  /** Everything it printed on stdout. */
  stdout: string;
  /** The last ~4 KB of stderr, for error messages. */
  stderrTail: string;
  /** Whether the time limit killed it. */
  timedOut: boolean;
  /** Error spawning it (e.g. the program does not exist). */
  spawnError?: string;
}

/** Spawns `cmd args`, resolving when it exits (never rejects). */
export function runChild(
  cmd: string,
  args: string[],
  opts: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number | null;
    onStderrLine?: (line: string) => void;
  },
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderrTail = "";
    let partial = "";
    let timedOut = false;
    let spawnError: string | undefined;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderrTail = (stderrTail + d).slice(-4096);
      partial += d;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) if (l.trim() !== "") opts.onStderrLine?.(l);
    });
    const timer =
      opts.timeoutMs != null
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, opts.timeoutMs)
        : undefined;
    child.on("error", (err) => {
      spawnError = err.message;
    });
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      if (partial.trim() !== "") opts.onStderrLine?.(partial);
      resolve({ code, stdout, stderrTail, timedOut, ...(spawnError ? { spawnError } : {}) });
    });
  });
}
