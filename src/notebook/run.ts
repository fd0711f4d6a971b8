/**
 * Runs a notebook through the real tslab kernel with Jupyter's nbclient (scripts/run_notebook.py,
 * under Debian's python), the papermill way: parameters injected after the `parameters` cell,
 * timings and execution counts recorded, the output saved even when a cell fails, and signed
 * into the project's Jupyter notary so the interactive server trusts it (trust.ts).
 */
import { spawn } from "node:child_process";
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
import { PROJECT_ROOT } from "../util/fs.js";
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
}

/** What a run produced. */
export interface NotebookRunResult {
  /** "completed", or "failed" with `error` holding the failing cell's real error text. */
  status: "completed" | "failed";
  /** The executed notebook. */
  output: string;
  /** The HTML export, when asked for. */
  html?: string;
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

/** Executes one notebook; resolves with the result whether or not a cell failed. */
export async function runNotebook(options: NotebookRunOptions): Promise<NotebookRunResult> {
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
  const summaryFile = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), "senet-nb-")),
    "summary.json",
  );
  const args = [
    RUNNER,
    input,
    output,
    "--params",
    JSON.stringify(options.params ?? {}),
    "--summary",
    summaryFile,
  ];
  if (html) args.push("--html", html);
  const notaryDir = path.resolve(options.notaryDir ?? NOTARY_DIR);
  ensureNotarySecret(notaryDir);
  args.push("--notary-dir", notaryDir);
  if (options.cellTimeoutS) args.push("--timeout", String(options.cellTimeoutS));
  let stderrText = "";
  const code: number = await new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, args, {
      env: jupyterEnv(options.env),
      stdio: ["ignore", "inherit", "pipe"],
    });
    // Forward the kernel's live progress, but keep the runner's own usage errors to raise them.
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString();
      stderrText += text;
      if (options.stderr !== "pipe" && !text.startsWith("senet-lab notebook run: ")) {
        process.stderr.write(text);
      }
    });
    child.on("error", reject);
    child.on("close", (c) => resolve(c ?? 1));
  });
  if (!fs.existsSync(summaryFile)) {
    // The runner refused before executing (bad parameter) or crashed: its stderr says why.
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
  return {
    status: summary.status,
    output,
    ...(html ? { html } : {}),
    duration: summary.duration,
    startTime: summary.start_time,
    ...(summary.failed_cell != null ? { failedCell: summary.failed_cell } : {}),
    ...(summary.exception != null ? { error: summary.exception } : {}),
    parameters: summary.parameters,
  };
}
