/**
 * The progress line of `senet-lab reproduce`: notebook k/N, runs done in this notebook, elapsed
 * time and an ETA over the whole reproduce, on stderr. On a terminal it is one line rewritten in
 * place (the kernels' own stderr lines scroll above it); elsewhere (a pipe, a log file, CI) it is
 * a plain line at most every 30 s, so logs stay short.
 *
 * The ETA starts from the previous results/index.json (each notebook's last duration, corrected
 * for runs that will be trained or reused this time) and follows the live run events the notebook
 * library appends to $SENET_LAB_PROGRESS_FILE: one `{"event":"sweep",...}` line per sweep start
 * and one `{"event":"run",...}` line per finished run.
 */
import fs from "node:fs";
import type { TrainingSummary } from "./training.js";

/** Environment variable naming the JSON-lines file a notebook kernel appends run events to. */
export const PROGRESS_FILE_ENV = "SENET_LAB_PROGRESS_FILE";

/** A sweep started: `runs` runs in all, `pending` of them still to train. */
export interface SweepEvent {
  event: "sweep";
  notebook: string;
  sweep: string;
  runs?: number;
  pending?: number;
}

/** A run finished (trained now, reused, already done, failed or diverged) in `seconds`. */
export interface RunEvent {
  event: "run";
  notebook: string;
  sweep: string;
  id: string;
  status: "trained" | "reused" | "done" | "failed" | "diverged" | string;
  seconds?: number;
  sweepRuns?: number;
}

/** One line of the progress file. */
export type ProgressEvent = SweepEvent | RunEvent;

/**
 * Reads a JSON-lines file as it grows: each poll returns the complete lines appended since the
 * last one (a line still being written waits for the next poll; a malformed line is skipped).
 */
export class JsonlTail {
  private offset = 0;
  private rest = "";

  /** Tails `file` (it may not exist yet). */
  constructor(readonly file: string) {}

  /** The events appended since the previous poll. */
  poll(): ProgressEvent[] {
    let fd: number;
    try {
      fd = fs.openSync(this.file, "r");
    } catch {
      return [];
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) this.offset = 0; // truncated: start over
      if (size === this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const text = this.rest + buf.toString("utf8");
      const lines = text.split("\n");
      this.rest = lines.pop() ?? "";
      const out: ProgressEvent[] = [];
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          const ev = JSON.parse(line) as ProgressEvent;
          if (ev && (ev.event === "run" || ev.event === "sweep")) out.push(ev);
        } catch {
          // not ours or garbled: the display is a courtesy, never a reason to fail
        }
      }
      return out;
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** What the previous index says about a notebook, for its expected duration. */
export interface PastRun {
  /** Wall seconds of the last completed execution. */
  duration: number;
  /** Its training summary, when recorded. */
  training?: Pick<TrainingSummary, "trainSeconds" | "trainedSeconds" | "runs">;
}

/**
 * Expected wall seconds of a notebook from its last completed execution: its duration, plus the
 * training of runs it reused that a retrain will train again, or minus the training it did that
 * will be reused now; run seconds are divided by `parallel` (sweep workers train side by side).
 * Undefined when there is no previous execution.
 */
export function expectedSeconds(
  past: PastRun | undefined,
  retrain: boolean,
  parallel: number,
): number | undefined {
  if (!past || !Number.isFinite(past.duration)) return undefined;
  const p = Math.max(1, parallel);
  const t = past.training;
  if (!t) return past.duration;
  if (retrain) return past.duration + Math.max(0, t.trainSeconds - t.trainedSeconds) / p;
  return Math.max(Math.min(5, past.duration), past.duration - t.trainedSeconds / p);
}

/** Formats seconds as "42s", "3m05s" or "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Live state of the notebook being executed, from its run events. */
export interface NotebookProgress {
  /** Position (1-based) and count of notebooks in this reproduce. */
  index: number;
  /** Notebooks in this reproduce. */
  total: number;
  /** Notebook name. */
  name: string;
  /** When it started (ms, the clock of the Progress). */
  startedMs: number;
  /** Runs finished so far, by status. */
  done: Record<string, number>;
  /** Runs announced by the sweeps started so far (undefined until a sweep says). */
  announced?: number;
  /** The sweep running now. */
  sweep?: { name: string; startedMs: number; pending?: number; trainedDone: number };
}

/** Options of a Progress display. */
export interface ProgressOptions {
  /** Where lines go (default process.stderr). */
  stream?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Rewrite one line in place (default: the stream is a terminal and $CI is not set). */
  tty?: boolean;
  /** Least milliseconds between plain lines when not on a terminal (default 30 000). */
  plainIntervalMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Expected seconds of each notebook of this reproduce, in order (undefined: unknown). */
  expected: (number | undefined)[];
}

const TRAINED = new Set(["trained", "failed", "diverged"]);

/**
 * The reproduce-wide progress display. Feed it notebook starts and ends, run events and the
 * kernels' stderr; it keeps the ETA and writes the line (see the module comment).
 */
export class Progress {
  private readonly stream: NonNullable<ProgressOptions["stream"]>;
  private readonly tty: boolean;
  private readonly plainMs: number;
  private readonly now: () => number;
  private readonly expected: (number | undefined)[];
  private readonly t0: number;
  private current: NotebookProgress | undefined;
  private lastPlain = Number.NEGATIVE_INFINITY;
  private shown = false;
  private pendingText = "";
  /** Seconds each finished notebook really took, by position. */
  private readonly actual: (number | undefined)[] = [];

  /** A display over `options.expected.length` notebooks. */
  constructor(options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? (Boolean(this.stream.isTTY) && !process.env.CI);
    this.plainMs = options.plainIntervalMs ?? 30_000;
    this.now = options.now ?? (() => Date.now());
    this.expected = [...options.expected];
    this.t0 = this.now();
  }

  /** Marks notebook `index` (1-based) as started. */
  startNotebook(index: number, name: string): void {
    this.current = {
      index,
      total: this.expected.length,
      name,
      startedMs: this.now(),
      done: {},
    };
    this.render(true);
  }

  /** Marks the current notebook finished (its runs count stays in the returned state). */
  endNotebook(): NotebookProgress | undefined {
    const c = this.current;
    if (c) this.actual[c.index - 1] = (this.now() - c.startedMs) / 1000;
    this.current = undefined;
    this.clear();
    return c;
  }

  /** Applies one event of the progress file to the current notebook. */
  onEvent(ev: ProgressEvent): void {
    const c = this.current;
    if (!c) return;
    if (ev.event === "sweep") {
      if (typeof ev.runs === "number") c.announced = (c.announced ?? 0) + ev.runs;
      c.sweep = {
        name: ev.sweep,
        startedMs: this.now(),
        ...(typeof ev.pending === "number" ? { pending: ev.pending } : {}),
        trainedDone: 0,
      };
    } else if (ev.event === "run") {
      c.done[ev.status] = (c.done[ev.status] ?? 0) + 1;
      if (c.sweep && c.sweep.name === ev.sweep && TRAINED.has(ev.status)) c.sweep.trainedDone++;
      // No sweep event with a count (older producers): the run event may carry it.
      if (c.announced === undefined && typeof ev.sweepRuns === "number") c.announced = ev.sweepRuns;
    }
    this.render(false);
  }

  /** Seconds left in the whole reproduce, or undefined when nothing is known to base it on. */
  eta(): number | undefined {
    const c = this.current;
    const known = this.expected.filter((e): e is number => e !== undefined);
    const done = this.actual.filter((e): e is number => e !== undefined);
    const fallback = known.length
      ? known.reduce((a, b) => a + b, 0) / known.length
      : done.length
        ? done.reduce((a, b) => a + b, 0) / done.length
        : undefined;
    const from = c ? c.index : this.actual.length;
    let total = 0;
    for (let i = from; i < this.expected.length; i++) {
      const e = this.expected[i] ?? fallback;
      if (e === undefined) return undefined;
      total += e;
    }
    if (c) {
      const left = this.currentLeft(c, this.expected[c.index - 1] ?? fallback);
      if (left === undefined) return undefined;
      total += left;
    }
    return total;
  }

  /** Seconds left in the current notebook: the larger of the plan and the live sweep rate. */
  private currentLeft(c: NotebookProgress, expected: number | undefined): number | undefined {
    const elapsed = (this.now() - c.startedMs) / 1000;
    let live: number | undefined;
    const s = c.sweep;
    if (s && s.pending !== undefined) {
      const left = Math.max(0, s.pending - s.trainedDone);
      if (left === 0) live = 0;
      else if (s.trainedDone > 0) live = (left * (this.now() - s.startedMs)) / 1000 / s.trainedDone;
    }
    if (expected === undefined) return live;
    return Math.max(expected - elapsed, live ?? 0);
  }

  /** The progress line as it stands. */
  line(): string {
    const elapsed = formatDuration((this.now() - this.t0) / 1000);
    const eta = this.eta();
    const c = this.current;
    if (!c) return `[reproduce] elapsed ${elapsed}`;
    const n = Object.values(c.done).reduce((a, b) => a + b, 0);
    const parts = [`[reproduce] ${c.index}/${c.total} ${c.name}`];
    if (n > 0 || c.announced !== undefined) {
      const detail = Object.entries(c.done)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ");
      parts.push(
        `runs ${n}${c.announced !== undefined ? `/${c.announced}` : ""}${detail ? ` (${detail})` : ""}`,
      );
    }
    if (c.sweep) parts.push(`sweep ${c.sweep.name}`);
    parts.push(`elapsed ${elapsed}`, `ETA ${eta === undefined ? "?" : formatDuration(eta)}`);
    return parts.join(" · ");
  }

  /** Redraws on a terminal; elsewhere prints a plain line if 30 s passed (or `force`). */
  render(force = false): void {
    if (this.tty) {
      const cols = this.stream.columns ?? 0;
      const text = this.line();
      this.stream.write(`\r${cols > 10 ? text.slice(0, cols - 1) : text}\x1b[K`);
      this.shown = true;
      return;
    }
    const t = this.now();
    if (force || t - this.lastPlain >= this.plainMs) {
      this.lastPlain = t;
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Called about every second: redraws the terminal line, or a plain line when it is due. */
  tick(): void {
    this.render(false);
  }

  /** Writes kernel output or a message above the progress line (whole lines only). */
  log(text: string): void {
    this.pendingText += text;
    const cut = this.pendingText.lastIndexOf("\n");
    if (cut < 0) return;
    const whole = this.pendingText.slice(0, cut + 1);
    this.pendingText = this.pendingText.slice(cut + 1);
    if (this.tty && this.shown) this.stream.write("\r\x1b[K");
    this.stream.write(whole);
    if (this.tty && this.current) this.render(false);
    else this.shown = false;
  }

  /** Removes the terminal line (before a final report), flushing any partial kernel line. */
  clear(): void {
    if (this.pendingText) this.log("\n");
    if (this.tty && this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
