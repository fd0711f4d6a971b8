/**
 * `npm run notebook`: Debian's Jupyter Notebook server on loopback, with the project-local tslab
 * kernel and the project folder as its root (notebooks/ to work in, results/ to read the executed
 * copies). A random token guards it; the URL printed carries it. The server's notary is the
 * project's (.jupyter/notary), and the committed results/*.ipynb are signed into it at start, so
 * their charts draw without re-running them.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { NotebookError } from "../errors.js";
import { checkSystem, jupyterEnv, registerKernel, SYSTEM_PYTHON } from "../setup/system.js";
import { PROJECT_ROOT } from "../util/fs.js";
import { NOTARY_DIR, resultNotebooks, trustNotebooks } from "./trust.js";

/** A running server. */
export interface NotebookServer {
  /** URL with the login token. */
  url: string;
  /** Base URL without the token, e.g. http://127.0.0.1:8888/. */
  base: string;
  /** The token the REST API needs (header `Authorization: token <t>`). */
  token: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  close: () => Promise<void>;
  /** Resolves when the server exits. */
  closed: Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; closed again before returning). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Options of serveNotebooks. */
export interface ServeOptions {
  /** Port; default 8888, 0 picks a free one. */
  port?: number;
  /** The server's root folder; default the project folder (notebooks/ and results/ under it). */
  notebookDir?: string;
  /** Jupyter notary (secret + signature database) the server checks trust against; default .jupyter/notary. */
  notaryDir?: string;
  /** Notebooks to sign into the notary before the server starts; default results/*.ipynb. */
  trust?: readonly string[];
}

/** Starts the server and resolves once its API answers. */
export async function serveNotebooks(options: ServeOptions = {}): Promise<NotebookServer> {
  if (!checkSystem().find((s) => s.piece.id === "notebook-server")?.present) {
    throw new NotebookError(
      "Jupyter Notebook is not installed: run `npm run setup` (Debian package jupyter-notebook)",
    );
  }
  registerKernel();
  const port = options.port ? options.port : options.port === 0 ? await freePort() : 8888;
  const token = randomBytes(16).toString("hex");
  // Jupyter refuses root unless told; containers and CI run as root, and we bind loopback only.
  const rootFlag = process.getuid?.() === 0 ? ["--allow-root"] : [];
  const dir = options.notebookDir ?? PROJECT_ROOT;
  const notaryDir = path.resolve(options.notaryDir ?? NOTARY_DIR);
  // Signs (without rewriting) so that the executed notebooks' chart scripts run when opened.
  await trustNotebooks(options.trust ?? resultNotebooks(), { notaryDir });
  const child = spawn(
    SYSTEM_PYTHON,
    [
      "-m",
      "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${dir}`,
      "--MappingKernelManager.default_kernel_name=tslab",
      `--NotebookNotary.data_dir=${notaryDir}`,
      ...rootFlag,
    ],
    { env: jupyterEnv(), stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  let exited = false;
  void closed.then(() => {
    exited = true;
  });
  const base = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new NotebookError(`the Jupyter server exited during start:\n${log}`);
    try {
      const r = await fetch(`${base}api/status`, { headers: { Authorization: `token ${token}` } });
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new NotebookError(`the Jupyter server did not answer within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const close = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await closed;
    clearTimeout(t);
  };
  return { url: `${base}tree?token=${token}`, base, token, close, closed };
}
