/**
 * The progress bar of a download: bytes so far of the total, rate and ETA, one line rewritten in
 * place on a terminal at most every 100 ms. Where stderr is not a terminal, or $CI is set, there
 * is no bar: one line when the file starts and one when it ends, so logs stay short.
 */
import { formatDuration } from "../notebook/progress.js";

/** Formats a byte count as "512 B", "12.3 kB", "170.1 MB" or "1.56 GB" (SI units, as sizes are published). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "?";
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** Options of a TransferProgress. */
export interface TransferProgressOptions {
  /** Where lines go (default process.stderr). */
  stream?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Draw the rewriting bar (default: the stream is a terminal and $CI is not set). */
  tty?: boolean;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** One file's progress display; feed it byte counts, then call done() or fail(). */
export class TransferProgress {
  private readonly stream: NonNullable<TransferProgressOptions["stream"]>;
  /** Whether the rewriting bar is drawn (else only the start and end lines). */
  readonly tty: boolean;
  private readonly now: () => number;
  private t0 = 0;
  private startBytes = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private total: number | undefined;

  /** A display for `label` (the file name). */
  constructor(
    private readonly label: string,
    options: TransferProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? (Boolean(this.stream.isTTY) && !process.env.CI);
    this.now = options.now ?? (() => Date.now());
  }

  /** The transfer starts (or resumes) at `from` bytes of `total` (undefined: unknown). */
  start(from: number, total: number | undefined, url: string): void {
    this.t0 = this.now();
    this.startBytes = from;
    this.total = total;
    const size = total !== undefined ? ` (${formatBytes(total)})` : "";
    const resume = from > 0 ? `, resuming at ${formatBytes(from)}` : "";
    if (!this.tty) this.stream.write(`downloading ${this.label}${size} from ${url}${resume}\n`);
  }

  /** Bytes received so far (including what a resumed transfer started from). */
  update(bytes: number): void {
    if (!this.tty) return;
    const t = this.now();
    if (t - this.lastDraw < 100 && bytes !== this.total) return;
    this.lastDraw = t;
    this.stream.write(`\r${this.line(bytes)}\x1b[K`);
    this.drawn = true;
  }

  /** The bar line for `bytes` received: "name [####----]  45%  76.5 MB / 170.1 MB  12.3 MB/s  ETA 8s". */
  line(bytes: number): string {
    const secs = Math.max(1e-3, (this.now() - this.t0) / 1000);
    const rate = (bytes - this.startBytes) / secs;
    const total = this.total;
    const parts = [this.label];
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, bytes / total);
      const width = 24;
      const full = Math.round(frac * width);
      parts.push(`[${"#".repeat(full)}${"-".repeat(width - full)}]`);
      parts.push(`${Math.floor(frac * 100)}%`.padStart(4));
      parts.push(`${formatBytes(bytes)} / ${formatBytes(total)}`);
    } else {
      parts.push(formatBytes(bytes));
    }
    parts.push(`${formatBytes(rate)}/s`);
    if (total !== undefined && rate > 0) {
      parts.push(`ETA ${formatDuration(Math.max(0, total - bytes) / rate)}`);
    }
    return parts.join("  ");
  }

  /** The transfer finished with `bytes` in the file; prints the summary line. */
  done(bytes: number): void {
    const secs = Math.max(1e-3, (this.now() - this.t0) / 1000);
    const got = bytes - this.startBytes;
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.stream.write(
      `${this.label}: ${formatBytes(bytes)} in ${formatDuration(secs)} (${formatBytes(got / secs)}/s)\n`,
    );
  }

  /** The transfer stopped early; clears the bar so the error that follows starts a clean line. */
  fail(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
  }
}
