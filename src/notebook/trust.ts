/**
 * Notebook trust for the project's Jupyter server. Jupyter runs the scripts in a notebook's
 * outputs (our Plotly charts) only when it trusts the notebook: an HMAC of its content, keyed with
 * a per-machine secret, must be in a signature database. The project keeps both in
 * `.jupyter/notary/` (never the home directory); the server is started with
 * `--NotebookNotary.data_dir` pointing there, the runner signs every notebook it writes into it,
 * and `npm run notebook` signs the committed results/*.ipynb at start (the files are not
 * rewritten: a clone has a different secret, so signatures cannot travel with the files).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ConfigError, NotebookError, quote } from "../errors.js";
import { SYSTEM_PYTHON } from "../setup/system.js";
import { PROJECT_ROOT } from "../util/fs.js";

/** The project's Jupyter notary data dir: `notebook_secret` and `nbsignatures.db` (git-ignored). */
export const NOTARY_DIR = path.join(PROJECT_ROOT, ".jupyter", "notary");

const TRUST_SCRIPT = path.join(PROJECT_ROOT, "scripts", "trust_notebooks.py");

/** What became of one notebook in trustNotebooks. */
export interface TrustResult {
  /** The notebook file. */
  path: string;
  /** Whether the notary trusted it before this call. */
  trustedBefore: boolean;
  /** Whether it trusts it now (false only with `check`, or if signing failed). */
  trusted: boolean;
}

/**
 * Creates the notary's secret if it does not exist yet, atomically, so that concurrent runners
 * and the server never race to write two different secrets (nbformat would create it lazily in
 * each process, and the loser's signatures would stop matching). Returns the secret file.
 */
export function ensureNotarySecret(notaryDir: string = NOTARY_DIR): string {
  const secret = path.join(notaryDir, "notebook_secret");
  if (fs.existsSync(secret)) return secret;
  fs.mkdirSync(notaryDir, { recursive: true });
  // nbformat's own format: base64 of 1024 random bytes, wrapped at 76 columns.
  const body = `${randomBytes(1024).toString("base64").replace(/.{76}/g, "$&\n")}\n`;
  const tmp = path.join(
    notaryDir,
    `.notebook_secret.${process.pid}.${randomBytes(4).toString("hex")}`,
  );
  fs.writeFileSync(tmp, body, { mode: 0o600 });
  try {
    fs.linkSync(tmp, secret); // fails if another process got there first: theirs wins
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return secret;
}

/** The executed notebooks committed in results/ (results/*.ipynb), sorted. */
export function resultNotebooks(resultsDir: string = path.join(PROJECT_ROOT, "results")): string[] {
  if (!fs.existsSync(resultsDir)) return [];
  return fs
    .readdirSync(resultsDir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .sort()
    .map((f) => path.join(resultsDir, f));
}

/**
 * Signs notebooks into the project's notary (like `jupyter trust`, but with the data dir the
 * project's server reads) without rewriting them; with `check`, only reports. Missing files and
 * non-notebooks are refused before Python starts.
 */
export async function trustNotebooks(
  files: readonly string[],
  options: { notaryDir?: string; check?: boolean } = {},
): Promise<TrustResult[]> {
  for (const f of files) {
    if (typeof f !== "string" || !f.endsWith(".ipynb") || !fs.existsSync(f)) {
      throw new ConfigError(`trustNotebooks: ${quote(f)} is not an existing .ipynb file`);
    }
  }
  const notaryDir = options.notaryDir ?? NOTARY_DIR;
  ensureNotarySecret(notaryDir);
  if (files.length === 0) return [];
  const args = [
    TRUST_SCRIPT,
    "--notary-dir",
    notaryDir,
    ...(options.check ? ["--check"] : []),
    ...files.map((f) => path.resolve(f)),
  ];
  const { code, stdout, stderr } = await new Promise<{
    code: number;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c ?? 1, stdout: out, stderr: err }));
  });
  const lines = stdout
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map(
      (l) =>
        JSON.parse(l) as {
          path: string;
          trusted_before?: boolean;
          trusted?: boolean;
          error?: string;
        },
    );
  const failed = lines.filter((l) => l.error);
  if (code !== 0 || failed.length > 0 || lines.length !== files.length) {
    throw new NotebookError(
      `signing notebooks failed (exit ${code}):\n${failed.map((l) => `${l.path}: ${l.error}`).join("\n")}${stderr.trim() ? `\n${stderr.trim().slice(-2000)}` : ""}`,
    );
  }
  return lines.map((l) => ({
    path: l.path,
    trustedBefore: Boolean(l.trusted_before),
    trusted: Boolean(l.trusted),
  }));
}
