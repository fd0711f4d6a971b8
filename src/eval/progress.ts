/**
 * The progress display of `senet-lab eval` on stderr: images done of the total, running top-1,
 * throughput and ETA. On a terminal one line is rewritten in place at most every 100 ms; where
 * stderr is not a terminal, or $CI is set, a plain line at most every 30 s, so logs stay short.
 */
import { formatDuration } from "../notebook/progress.js";
import type { EvalProgress } from "./evaluate.js";

/** Options of an EvalProgressBar. */
export interface EvalProgressBarOptions {
  /** Where lines go (default process.stderr). */
  stream?: { write(s: string): unknown; isTTY?: boolean };
  /** Draw the rewriting bar (default: the stream is a terminal and $CI is not set). */
  tty?: boolean;
  /** Seconds between plain lines off a terminal. Default 30. */
  logEvery?: number;
}

/** The bar text of one progress report: "[#####-----]  45%  1,440/3,200  top-1 71.3%  212.4 img/s  ETA 8s". */
export function progressLine(p: EvalProgress): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const width = 24;
  const full = Math.round(frac * width);
  const rate = p.seconds > 0 ? p.done / p.seconds : 0;
  const fmt = (n: number) => n.toLocaleString("en-US");
  const parts = [
    `[${"#".repeat(full)}${"-".repeat(width - full)}]`,
    `${Math.floor(frac * 100)}%`.padStart(4),
    `${fmt(p.done)}/${fmt(p.total)}`,
    `top-1 ${p.done ? ((100 * p.correct1) / p.done).toFixed(1) : "-"}%`,
    `${rate.toFixed(1)} img/s`,
  ];
  if (rate > 0 && p.done < p.total) parts.push(`ETA ${formatDuration((p.total - p.done) / rate)}`);
  return parts.join("  ");
}

/** Feeds evaluateClassifier's onProgress to stderr; call end() when it returns or throws. */
export class EvalProgressBar {
  private readonly stream: NonNullable<EvalProgressBarOptions["stream"]>;
  /** Whether the rewriting bar is drawn (else plain lines every logEvery seconds). */
  readonly tty: boolean;
  private readonly logEvery: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;

  /** A display on `options.stream` (stderr by default). */
  constructor(options: EvalProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? (Boolean(this.stream.isTTY) && !process.env.CI);
    this.logEvery = options.logEvery ?? 30;
  }

  /** One progress report (the callback to pass as onProgress). */
  readonly update = (p: EvalProgress): void => {
    const last = p.done >= p.total;
    if (this.tty) {
      if (p.seconds * 1000 - this.lastDraw < 100 && !last) return;
      this.lastDraw = p.seconds * 1000;
      this.stream.write(`\r${progressLine(p)}\x1b[K`);
      this.drawn = true;
    } else if (p.seconds - this.lastDraw >= this.logEvery && !last) {
      this.lastDraw = p.seconds;
      this.stream.write(`eval ${progressLine(p)}\n`);
    }
  };

  /** Clears the bar so what follows starts on a clean line. */
  end(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
  }
}
