/**
 * Runs a notebook through the real tslab kernel with Jupyter's nbclient (scripts/run_notebook.py,
 * under Debian's python), the papermill way: parameters injected after the `parameters` cell,
 * timings and execution counts recorded, the output saved even when a cell fails, and signed
 * into the project's Jupyter notary so the interactive server trusts it (trust.ts).
 *
 * The runner executes into hidden temporary files next to the output; only then is it decided
 * where the executed notebook goes (`onFailure`), so a failed run never half-replaces, or silently
 * replaces, a good result: a completed run replaces the output (and its HTML) by rename, a failed
 * one goes to `<name>.failed.ipynb` unless the output holds nothing worth keeping.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, NotebookError, quote } from "../errors.js";
import {
  checkSystem,
  jupyterEnv,
  kernelRegistered,
  registerKernel,
  SYSTEM_PYTHON,
} from "../setup/system.js";
import { checkWritableFile, PROJECT_ROOT } from "../util/fs.js";
import { pidAlive } from "../util/process.js";
import { ensureNotarySecret, NOTARY_DIR } from "./trust.js";

/** Options of one notebook run. */
export interface NotebookRunOptions {
  /** The notebook to execute (.ipynb). */
  input: string;
  /** Where the executed notebook goes; default results/<name>.ipynb. */
  output?: string;
  /** Parameter values, checked against the notebook's `parameters` cell. */
  params?: Record<string, unknown>;
  /** Also export HTML: true for <output>.html, or a path. */
  html?: boolean | string;
  /** Seconds any one cell may run (default 3600). */
  cellTimeoutS?: number;
  /** Extra environment for the kernel (e.g. SENET_LAB_BACKEND). */
  env?: NodeJS.ProcessEnv;
  /** "inherit" (default) echoes the kernel's live stderr; "pipe" keeps it quiet (tests). */
  stderr?: "inherit" | "pipe";
  /**
   * Jupyter notary the executed notebook is signed into, so the project's server trusts it and
   * draws its charts (default .jupyter/notary, the one `npm run notebook` reads).
   */
  notaryDir?: string;
  /**
   * Where a failed run goes, so a good output is not overwritten by a broken one:
   * "keep-good" (default): over the output only when there is none or it is itself a failed run,
   * else to `failedOutput`; "aside": always to `failedOutput` (reproduce); "replace": always over
   * the output (`notebook run --force`, the plain papermill behaviour).
   */
  onFailure?: FailurePolicy;
  /** Where a failed run is saved when it does not replace the output; default `<output>.failed.ipynb`. */
  failedOutput?: string;
  /** Receives the kernel's live stderr instead of process.stderr (reproduce's progress line). */
  onStderr?: (text: string) => void;
}

/** What happens to a failed run's notebook (see NotebookRunOptions.onFailure). */
export type FailurePolicy = "keep-good" | "aside" | "replace";

/** The choices of NotebookRunOptions.onFailure, for validation and --help. */
export const FAILURE_POLICIES: readonly FailurePolicy[] = ["keep-good", "aside", "replace"];

/** What a run produced. */
export interface NotebookRunResult {
  /** "completed", or "failed" with `error` holding the failing cell's real error text. */
  status: "completed" | "failed";
  /** Where the executed notebook was saved (the output, or the failed copy). */
  output: string;
  /** The HTML export, when asked for and written (a failed run set aside gets none). */
  html?: string;
  /** Set when a failed run was saved aside: the output left as it was (it may not exist). */
  kept?: string;
  /** Wall seconds, from the runner's metadata. */
  duration: number;
  /** When the run started (ISO). */
  startTime: string;
  /** Execution count of the failing cell. */
  failedCell?: number;
  /** The failing cell's error text. */
  error?: string;
  /** Parameters in effect (defaults + injected). */
  parameters: Record<string, unknown>;
}

const RUNNER = path.join(PROJECT_ROOT, "scripts", "run_notebook.py");

/** Parses `-p key=value` strings: JSON values where they parse, strings otherwise. */
export function parseParams(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ConfigError(`-p expects key=value; got ${quote(pair)}`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    try {
      out[key] = JSON.parse(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}

/** `<dir>/<name>.failed.ipynb` for `<dir>/<name>.ipynb`: where a failed run goes by default. */
export function failedPathFor(output: string): string {
  return `${output.replace(/\.ipynb$/, "")}.failed.ipynb`;
}

/** The papermill status recorded in an executed notebook, or undefined if unreadable or absent. */
export function recordedStatus(file: string): string | undefined {
  try {
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as {
      metadata?: { papermill?: { status?: unknown } };
    };
    const s = nb.metadata?.papermill?.status;
    return typeof s === "string" ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Removes temporary outputs of this notebook left by a run that was killed (its pid is gone). */
function removeStalePartials(dir: string, base: string): void {
  if (!fs.existsSync(dir)) return;
  const prefix = `.${base}.partial-`;
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(prefix)) continue;
    const pid = Number(f.slice(prefix.length).split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) {
      fs.rmSync(path.join(dir, f), { force: true });
    }
  }
}

/**
 * Moves `from` over `to` by rename, atomic for a reader of `to`; across filesystems (an --html
 * path elsewhere) it copies to a temporary name beside `to` first, then renames that.
 */
export function moveOver(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    const tmp = path.join(path.dirname(to), `.${path.basename(to)}.${process.pid}.tmp`);
    fs.copyFileSync(from, tmp);
    fs.renameSync(tmp, to);
    fs.rmSync(from, { force: true });
  }
}

/** Executes one notebook; resolves with the result whether or not a cell failed. */
export async function runNotebook(options: NotebookRunOptions): Promise<NotebookRunResult> {
  const onFailure = options.onFailure ?? "keep-good";
  if (!FAILURE_POLICIES.includes(onFailure)) {
    throw new ConfigError(
      `onFailure must be one of ${FAILURE_POLICIES.map((p) => JSON.stringify(p)).join(", ")}; got ${quote(onFailure)}`,
    );
  }
  const input = path.resolve(options.input);
  if (!fs.existsSync(input) || !input.endsWith(".ipynb")) {
    throw new ConfigError(
      `notebook ${quote(options.input)} does not exist or is not an .ipynb file`,
    );
  }
  const jupyter = checkSystem().find((s) => s.piece.id === "jupyter");
  if (!jupyter?.present) {
    throw new NotebookError(
      `Jupyter's nbclient is not available under ${SYSTEM_PYTHON}: run \`npm run setup\``,
    );
  }
  if (!kernelRegistered()) registerKernel();
  const name = path.basename(input, ".ipynb");
  const output = path.resolve(
    options.output ?? path.join(PROJECT_ROOT, "results", `${name}.ipynb`),
  );
  const html =
    options.html === true
      ? `${output.replace(/\.ipynb$/, "")}.html`
      : options.html
        ? path.resolve(options.html)
        : undefined;
  const failedOutput = path.resolve(options.failedOutput ?? failedPathFor(output));
  if (failedOutput === output) {
    throw new ConfigError(`failedOutput must differ from the output; both are ${quote(output)}`);
  }
  // Before a kernel starts: a run that cannot be saved is not worth executing.
  checkWritableFile(output, "output notebook");
  // The runner writes hidden temporary files in the output's folder (same filesystem, so the
  // final move is a rename); the pid in the name lets a later run clear those of a killed one.
  const outDir = path.dirname(output);
  const base = path.basename(output, ".ipynb");
  fs.mkdirSync(outDir, { recursive: true });
  removeStalePartials(outDir, base);
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmpOut = path.join(outDir, `.${base}.partial-${tag}.ipynb`);
  const tmpHtml = html ? path.join(outDir, `.${base}.partial-${tag}.html`) : undefined;
  const summaryFile = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), "senet-nb-")),
    "summary.json",
  );
  const args = [
    RUNNER,
    input,
    tmpOut,
    "--record-output",
    output,
    "--params",
    JSON.stringify(options.params ?? {}),
    "--summary",
    summaryFile,
  ];
  if (tmpHtml) args.push("--html", tmpHtml);
  const notaryDir = path.resolve(options.notaryDir ?? NOTARY_DIR);
  ensureNotarySecret(notaryDir);
  args.push("--notary-dir", notaryDir);
  if (options.cellTimeoutS) args.push("--timeout", String(options.cellTimeoutS));
  let stderrText = "";
  const cleanup = () => {
    for (const f of [tmpOut, tmpHtml]) if (f) fs.rmSync(f, { force: true });
    fs.rmSync(path.dirname(summaryFile), { recursive: true, force: true });
  };
  let code: number;
  try {
    code = await new Promise((resolve, reject) => {
      const child = spawn(SYSTEM_PYTHON, args, {
        env: jupyterEnv(options.env),
        stdio: ["ignore", "inherit", "pipe"],
      });
      // Forward the kernel's live progress, but keep the runner's own usage errors to raise them.
      child.stderr.on("data", (d: Buffer) => {
        const text = d.toString();
        stderrText += text;
        if (options.stderr !== "pipe" && !text.startsWith("senet-lab notebook run: ")) {
          if (options.onStderr) options.onStderr(text);
          else process.stderr.write(text);
        }
      });
      child.on("error", reject);
      child.on("close", (c) => resolve(c ?? 1));
    });
  } catch (err) {
    cleanup();
    throw err;
  }
  if (!fs.existsSync(summaryFile) || !fs.existsSync(tmpOut)) {
    cleanup();
    // The runner refused before executing (bad parameter) or crashed: its stderr says why.
    // A usage error is the runner's one prefixed line; anything else on stderr (warnings) is not it.
    const prefix = "senet-lab notebook run: ";
    const usage = stderrText
      .split("\n")
      .filter((l) => l.startsWith(prefix))
      .map((l) => l.slice(prefix.length));
    if (code === 2 && usage.length > 0) throw new ConfigError(usage.join("\n"));
    const msg = stderrText.trim() || `the notebook runner exited with status ${code}`;
    throw new (code === 2 ? ConfigError : NotebookError)(
      msg.replace(/^senet-lab notebook run: /, ""),
    );
  }
  const summary = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as {
    status: "completed" | "failed";
    duration: number;
    start_time: string;
    failed_cell: number | null;
    exception: string | null;
    parameters: Record<string, unknown>;
  };
  fs.rmSync(path.dirname(summaryFile), { recursive: true, force: true });
  // Where the executed notebook goes: a completed run replaces the output (and clears an old
  // failed copy); a failed one replaces it only when that loses nothing (see onFailure).
  const completed = summary.status === "completed";
  const replace =
    completed ||
    onFailure === "replace" ||
    (onFailure === "keep-good" && (!fs.existsSync(output) || recordedStatus(output) === "failed"));
  let saved: string;
  let savedHtml: string | undefined;
  try {
    if (replace) {
      if (tmpHtml && html && fs.existsSync(tmpHtml)) {
        moveOver(tmpHtml, html);
        savedHtml = html;
      }
      moveOver(tmpOut, output);
      saved = output;
      if (completed) fs.rmSync(failedOutput, { force: true });
    } else {
      moveOver(tmpOut, failedOutput);
      saved = failedOutput;
    }
  } finally {
    cleanup();
  }
  return {
    status: summary.status,
    output: saved,
    ...(savedHtml ? { html: savedHtml } : {}),
    ...(replace ? {} : { kept: output }),
    duration: summary.duration,
    startTime: summary.start_time,
    ...(summary.failed_cell != null ? { failedCell: summary.failed_cell } : {}),
    ...(summary.exception != null ? { error: summary.exception } : {}),
    parameters: summary.parameters,
  };
}
