/**
 * The driver's side of a persistent measurement process (a tfjs worker or torch_bench.py in
 * `--serve` mode): writes one ServeCommand per line to its stdin and waits for the matching
 * `RESULT_PREFIX<ServeReply>` line on stdout (one command in flight at a time, answered in
 * order). stderr lines go to a progress callback. Never rejects: a process that dies, cannot
 * start or overruns a command's time limit answers `{ ok: false, error }` from then on.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { RESULT_PREFIX, type ServeCommand, type ServeReply } from "./protocol.js";

/** A started persistent measurement process. */
export class MeasureProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private pending: { resolve: (r: ServeReply) => void; timer?: NodeJS.Timeout } | null = null;
  private dead: string | null = null;
  private stdoutPartial = "";
  private stderrPartial = "";
  private stderrTail = "";
  private readonly exited: Promise<void>;

  /** Starts `cmd args`; `name` prefixes error messages, `log` receives its stderr lines. */
  constructor(
    /** Which target the process serves (for messages). */
    readonly name: string,
    cmd: string,
    args: string[],
    opts: { cwd: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void },
  ) {
    this.child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => {
      this.stdoutPartial += d;
      const lines = this.stdoutPartial.split("\n");
      this.stdoutPartial = lines.pop() ?? "";
      for (const l of lines) {
        if (!l.startsWith(RESULT_PREFIX)) continue; // libraries may print on stdout too
        let reply: ServeReply;
        try {
          reply = JSON.parse(l.slice(RESULT_PREFIX.length)) as ServeReply;
        } catch {
          reply = { ok: false, error: `unreadable reply: ${l.slice(0, 200)}` };
        }
        this.settle(reply);
      }
    });
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4096);
      this.stderrPartial += d;
      const lines = this.stderrPartial.split("\n");
      this.stderrPartial = lines.pop() ?? "";
      for (const l of lines) if (l.trim() !== "") opts.log?.(l);
    });
    // A broken pipe after the child died is reported through `dead`, not thrown.
    this.child.stdin.on("error", () => {});
    this.exited = new Promise((resolve) => {
      this.child.on("error", (err) => {
        this.fail(`${name}: could not start ${cmd}: ${err.message}`);
        resolve();
      });
      this.child.on("close", (code, signal) => {
        const tail = this.stderrTail.trim().split("\n").slice(-3).join(" | ");
        this.fail(
          `${name}: process exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ""}`,
        );
        resolve();
      });
    });
  }

  private settle(reply: ServeReply): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    if (p.timer) clearTimeout(p.timer);
    p.resolve(reply);
  }

  private fail(why: string): void {
    this.dead ??= why;
    this.settle({ ok: false, error: this.dead });
  }

  /** Why the process can no longer answer, or null while it can. */
  get deadReason(): string | null {
    return this.dead;
  }

  /** The last ~4 KB of its stderr (for error messages). */
  get stderr(): string {
    return this.stderrTail;
  }

  /**
   * Sends one command and waits for its reply; after `timeoutMs` (null: no limit) the process
   * is killed and the reply is `{ ok: false, error }`, as it is for every later command.
   */
  request(cmd: ServeCommand, timeoutMs: number | null = null): Promise<ServeReply> {
    if (this.dead) return Promise.resolve({ ok: false, error: this.dead });
    if (this.pending) {
      return Promise.resolve({ ok: false, error: `${this.name}: a command is still in flight` });
    }
    return new Promise((resolve) => {
      this.pending = { resolve };
      if (timeoutMs !== null) {
        this.pending.timer = setTimeout(() => {
          this.fail(`${this.name}: no answer to ${cmd.cmd} within ${timeoutMs / 1000} s; killed`);
          this.child.kill("SIGKILL");
        }, timeoutMs);
      }
      this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  /** Asks the process to exit (or kills it after `graceMs`) and waits until it has. */
  async close(graceMs = 10_000): Promise<ServeReply | null> {
    let last: ServeReply | null = null;
    if (!this.dead) {
      last = await this.request({ cmd: "exit" }, graceMs);
      this.child.stdin.end();
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
    return last;
  }
}
