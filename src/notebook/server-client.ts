/**
 * A minimal Jupyter server client: starts a kernel session through the REST API and executes code
 * over the kernel's WebSocket channels, as the browser front end does. Used by tests to prove the
 * interactive environment really runs notebooks on the tslab kernel. Needs a global WebSocket
 * (Node >= 22, or Node 20 with --experimental-websocket).
 */
import { randomUUID } from "node:crypto";
import { NotebookError } from "../errors.js";
import type { NotebookServer } from "./serve.js";

/** One output of an executed cell, as Jupyter's iopub channel sends it. */
export interface KernelOutput {
  /** "stream" | "display_data" | "execute_result" | "error". */
  type: string;
  /** Stream text or the text/plain / text/html of rich outputs. */
  text: string;
}

/** The fields of a Jupyter wire message this client reads. */
interface JupyterMessage {
  header: { msg_type: string };
  parent_header?: { msg_id?: string };
  content: {
    text?: string;
    data?: Record<string, string>;
    ename?: string;
    evalue?: string;
    execution_state?: string;
    status?: string;
  };
}

/** A kernel session on a running server. */
export interface ServerSession {
  /** Executes one cell's code; resolves with its outputs and whether it failed. */
  execute: (code: string) => Promise<{ ok: boolean; outputs: KernelOutput[] }>;
  /** Shuts the kernel down and deletes the session. */
  close: () => Promise<void>;
}

async function api(
  server: NotebookServer,
  method: string,
  route: string,
  body?: unknown,
): Promise<unknown> {
  const r = await fetch(`${server.base}${route}`, {
    method,
    headers: { Authorization: `token ${server.token}`, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!r.ok) throw new NotebookError(`${method} ${route} answered ${r.status}: ${await r.text()}`);
  return r.status === 204 ? undefined : r.json();
}

/** Reads a notebook's code cells through the contents API. */
export async function notebookCells(server: NotebookServer, nbPath: string): Promise<string[]> {
  const nb = (await api(server, "GET", `api/contents/${encodeURI(nbPath)}`)) as {
    content: { cells: { cell_type: string; source: string }[] };
  };
  return nb.content.cells.filter((c) => c.cell_type === "code").map((c) => c.source);
}

/** Opens a session for `nbPath` on the given kernel and connects to its channels. */
export async function openSession(
  server: NotebookServer,
  nbPath: string,
  kernel = "tslab",
): Promise<ServerSession> {
  const WS = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!WS)
    throw new NotebookError(
      "no global WebSocket: run Node with --experimental-websocket (Node 20)",
    );
  const session = (await api(server, "POST", "api/sessions", {
    path: nbPath,
    type: "notebook",
    name: nbPath,
    kernel: { name: kernel },
  })) as { id: string; kernel: { id: string; name: string } };
  if (session.kernel.name !== kernel)
    throw new NotebookError(`server started kernel ${session.kernel.name}, not ${kernel}`);
  const wsUrl = `${server.base.replace(/^http/, "ws")}api/kernels/${session.kernel.id}/channels?token=${server.token}`;
  const ws = new WS(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new NotebookError(`could not open ${wsUrl}`));
  });
  const clientSession = randomUUID();
  const waiting = new Map<string, (msg: JupyterMessage) => void>();
  ws.onmessage = (ev: MessageEvent) => {
    const msg = JSON.parse(String(ev.data)) as JupyterMessage;
    const parent = msg.parent_header?.msg_id;
    if (parent) waiting.get(parent)?.(msg);
  };
  const execute = (code: string) =>
    new Promise<{ ok: boolean; outputs: KernelOutput[] }>((resolve) => {
      const id = randomUUID();
      const outputs: KernelOutput[] = [];
      let ok = true;
      let idle = false;
      let replied = false;
      const finish = () => {
        if (idle && replied) {
          waiting.delete(id);
          resolve({ ok, outputs });
        }
      };
      waiting.set(id, (msg) => {
        const type = msg.header.msg_type as string;
        const c = msg.content;
        if (type === "stream") outputs.push({ type, text: c.text ?? "" });
        else if (type === "display_data" || type === "execute_result") {
          outputs.push({ type, text: c.data?.["text/html"] ?? c.data?.["text/plain"] ?? "" });
        } else if (type === "error") {
          ok = false;
          outputs.push({ type, text: `${c.ename}: ${c.evalue}` });
        } else if (type === "status" && c.execution_state === "idle") idle = true;
        else if (type === "execute_reply") {
          replied = true;
          if (c.status !== "ok") ok = false;
        }
        finish();
      });
      ws.send(
        JSON.stringify({
          header: {
            msg_id: id,
            username: "senet-lab",
            session: clientSession,
            msg_type: "execute_request",
            version: "5.3",
            date: new Date().toISOString(),
          },
          parent_header: {},
          metadata: {},
          content: {
            code,
            silent: false,
            store_history: true,
            user_expressions: {},
            allow_stdin: false,
            stop_on_error: true,
          },
          channel: "shell",
          buffers: [],
        }),
      );
    });
  const close = async () => {
    ws.close();
    await api(server, "DELETE", `api/sessions/${session.id}`);
  };
  return { execute, close };
}
