/** `senet-lab notebook run|serve|trust`. */
import path from "node:path";
import { retrainNotebook } from "../notebook/retrain.js";
import {
  type NotebookRunOptions,
  type NotebookRunResult,
  parseParams,
  runNotebook,
} from "../notebook/run.js";
import { checkWritableFile } from "../util/fs.js";
import { type CommandSpec, int, list, str } from "./command.js";

const runCommand: CommandSpec = {
  name: "run",
  summary:
    "Execute a notebook through the tslab kernel, papermill-style; a failed run is saved too, as <out>.failed.ipynb when <out> holds a completed run.",
  args: "<in.ipynb>",
  flags: {
    out: {
      type: "string",
      valueName: "FILE",
      description: "Executed notebook path (default results/<name>.ipynb).",
    },
    param: {
      type: "string",
      short: "p",
      multiple: true,
      valueName: "KEY=VALUE",
      description:
        "Set a parameter declared in the notebook's parameters cell (value parsed as JSON if it can be).",
    },
    html: { type: "boolean", description: "Also write an HTML export next to the output." },
    timeout: {
      type: "string",
      valueName: "SECONDS",
      description: "Longest any one cell may run (default 3600).",
    },
    force: {
      type: "boolean",
      description:
        "Let a failed run overwrite the output even when it holds a completed run (default: the failed run goes to <out>.failed.ipynb).",
    },
    retrain: {
      type: "boolean",
      description:
        "Train every run again into results/.retrain/sweeps (resumed if killed) and move them over results/sweeps when the notebook completed.",
    },
  },
  run: async (flags, positionals) => {
    if (positionals.length !== 1) {
      process.stderr.write("senet-lab notebook run: give exactly one notebook (see --help)\n");
      return 2;
    }
    const out = str(flags, "out");
    // Before a kernel starts: one line naming an --out that cannot be written, exit 2.
    if (out !== undefined) checkWritableFile(out, "--out");
    const timeout = int(flags, "timeout");
    const options: NotebookRunOptions = {
      input: positionals[0]!,
      ...(out ? { output: out } : {}),
      params: parseParams(list(flags, "param")),
      html: Boolean(flags.html),
      ...(timeout ? { cellTimeoutS: timeout } : {}),
      onFailure: flags.force ? "replace" : "keep-good",
    };
    const rel = (p: string) => path.relative(process.cwd(), p) || p;
    let r: NotebookRunResult | undefined;
    if (flags.retrain) {
      const t = await retrainNotebook(options);
      r = t.run;
      if (t.promoted === null) {
        process.stderr.write(
          `retrain not promoted: the committed runs are unchanged; staged runs in ${rel(t.staging)} (rerun the same command to resume)\n`,
        );
      } else {
        for (const m of t.promoted) {
          process.stderr.write(
            `retrain: ${m.what} → ${rel(m.to)}${m.previous ? ` (previous kept in ${rel(m.previous)})` : ""}\n`,
          );
        }
      }
      if (!r) return 0; // a resumed retrain that only had its promotion left
    } else {
      r = await runNotebook(options);
    }
    process.stderr.write(
      `${r.status}: ${rel(r.output)}${r.html ? ` (+ ${rel(r.html)})` : ""} in ${r.duration.toFixed(1)} s\n`,
    );
    if (r.kept) {
      process.stderr.write(
        `${rel(r.kept)} holds a completed run and was kept (--force overwrites it with a failed one)\n`,
      );
    }
    return r.status === "completed" ? 0 : 1;
  },
};

const serveCommand: CommandSpec = {
  name: "serve",
  summary:
    "Start a Jupyter server on loopback with the project's tslab kernel, notebooks/ and results/ (executed copies trusted).",
  flags: {
    port: {
      type: "string",
      valueName: "N",
      description: "Port to listen on (default 8888; 0 picks a free one).",
    },
  },
  run: async (flags) => {
    const { serveNotebooks } = await import("../notebook/serve.js");
    const port = int(flags, "port", 0);
    const server = await serveNotebooks(port === undefined ? {} : { port });
    process.stdout.write(`senet-lab notebooks: ${server.url}\n(Ctrl-C stops the server)\n`);
    await server.closed;
    return 0;
  },
};

const trustCommand: CommandSpec = {
  name: "trust",
  summary:
    "Mark executed notebooks trusted for `npm run notebook` (charts draw); default results/*.ipynb. Files are not rewritten.",
  args: "[nb.ipynb ...]",
  flags: {
    check: { type: "boolean", description: "Only report whether each notebook is trusted." },
  },
  run: async (flags, positionals) => {
    const { resultNotebooks, trustNotebooks, NOTARY_DIR } = await import("../notebook/trust.js");
    const files = positionals.length > 0 ? positionals : resultNotebooks();
    const results = await trustNotebooks(files, { check: Boolean(flags.check) });
    for (const r of results) {
      const state = r.trusted
        ? r.trustedBefore
          ? "trusted (already)"
          : "trusted (signed now)"
        : "not trusted";
      process.stdout.write(`${state}: ${r.path}\n`);
    }
    process.stderr.write(`notary: ${NOTARY_DIR}\n`);
    return flags.check && results.some((r) => !r.trusted) ? 1 : 0;
  },
};

/** The notebook command group. */
export const notebookCommand: CommandSpec = {
  name: "notebook",
  summary: "Run a notebook through the tslab kernel, or serve the notebooks in Jupyter.",
  subcommands: [runCommand, serveCommand, trustCommand],
};
