/**
 * Progress display, one lookup table of modes: a one-line bar redrawn with \r on stderr in a
 * terminal, an updating display entry in a tslab notebook (tslab's `newDisplay()`, whose
 * writes replace the same output), nothing in CI or when output is piped. "auto" picks by
 * where it runs.
 */
import { createRequire } from "node:module";
import { ConfigError } from "../errors.js";

/** Progress modes. */
export const PROGRESS_MODES = ["auto", "terminal", "notebook", "none"] as const;
/** A progress mode. */
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** What the loop tells the display. */
export interface ProgressState {
  /** Epoch being trained (1-based). */
  epoch: number;
  /** Total epochs. */
  epochs: number;
  /** Images done in this epoch. */
  done: number;
  /** Training images per epoch. */
  total: number;
  /** Recent training throughput. */
  imagesPerSec: number;
  /** Estimated seconds left in the whole run. */
  etaSeconds: number;
  /** Running mean training loss of this epoch. */
  loss: number;
  /** Phase: "train" or "eval". */
  phase: "train" | "eval";
}

/** A progress display. */
export interface Progress {
  /** Shows the current state (throttled by the display). */
  update(s: ProgressState): void;
  /** Shows an epoch's closing line. */
  epochDone(line: string): void;
  /** Ends the display. */
  close(): void;
}

type TslabDisplay = { text(s: string): void; html(s: string): void };
type TslabModule = { newDisplay(): TslabDisplay };

/** tslab's module when this process is a tslab kernel executing a cell, else undefined. */
export function tslabIfKernel(): TslabModule | undefined {
  try {
    const require = createRequire(import.meta.url);
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
    if (jupyter.lastWriteDisplayData == null) return undefined;
    return require("tslab") as TslabModule;
  } catch {
    return undefined;
  }
}

/** Formats seconds as 1h02m, 3m05s or 12s. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  if (t >= 3600)
    return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${t}s`;
}

/** The one-line text of a state. */
export function progressLine(s: ProgressState, width = 24): string {
  const frac = s.total > 0 ? Math.min(s.done / s.total, 1) : 0;
  const filled = Math.round(frac * width);
  const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
  const loss = Number.isFinite(s.loss) ? s.loss.toFixed(4) : String(s.loss);
  return `epoch ${s.epoch}/${s.epochs} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${s.phase === "eval" ? "evaluating" : `${s.imagesPerSec.toFixed(1)} img/s`} loss ${loss} ETA ${formatDuration(s.etaSeconds)}`;
}

const throttle = (ms: number) => {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
};

const MODES: Record<Exclude<ProgressMode, "auto">, () => Progress> = {
  none: () => ({ update() {}, epochDone() {}, close() {} }),
  terminal: () => {
    const due = throttle(100);
    let shown = false;
    const clear = () => {
      if (shown) process.stderr.write("\r\x1b[2K");
      shown = false;
    };
    return {
      update(s) {
        if (!due()) return;
        process.stderr.write(`\r\x1b[2K${progressLine(s)}`);
        shown = true;
      },
      epochDone(line) {
        clear();
        process.stderr.write(`${line}\n`);
      },
      close: clear,
    };
  },
  notebook: () => {
    const tslab = tslabIfKernel();
    if (!tslab) return MODES.none();
    const bar = tslab.newDisplay();
    const due = throttle(500);
    const lines: string[] = [];
    const render = (current: string) =>
      bar.text([...lines, current].filter((l) => l !== "").join("\n"));
    return {
      update(s) {
        if (due()) render(progressLine(s));
      },
      epochDone(line) {
        lines.push(line);
        render("");
      },
      close() {},
    };
  },
};

/** Picks the mode "auto" means here: notebook in a tslab kernel, none in CI or when stderr is not a terminal, else terminal. */
export function autoProgressMode(): Exclude<ProgressMode, "auto"> {
  if (tslabIfKernel()) return "notebook";
  if (process.env.CI) return "none";
  return process.stderr.isTTY ? "terminal" : "none";
}

/** Creates a display; `true`/`false` are accepted as "auto"/"none". */
export function createProgress(mode: ProgressMode | boolean = "auto"): Progress {
  const m = mode === true ? "auto" : mode === false ? "none" : mode;
  if (!(PROGRESS_MODES as readonly string[]).includes(m)) {
    throw new ConfigError(
      `progress must be one of ${PROGRESS_MODES.join(", ")}; got ${JSON.stringify(m)}`,
    );
  }
  return MODES[m === "auto" ? autoProgressMode() : m]();
}
