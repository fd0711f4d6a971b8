/**
 * `npm run reproduce`: every notebook in notebooks/ executed into results/ with its HTML export,
 * then results/index.html linking them with run date, duration and status.
 */
import fs from "node:fs";
import path from "node:path";
import { PROJECT_ROOT, writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import { type NotebookRunResult, runNotebook } from "./run.js";

/** Options of a reproduce run. */
export interface ReproduceOptions {
  /** Folder of notebooks (default notebooks/). */
  notebooksDir?: string;
  /** Output folder (default results/). */
  outDir?: string;
  /** Only notebooks whose file name contains one of these strings. */
  only?: string[];
  /** Parameters injected into every notebook (e.g. {preset: "smoke"}). */
  params?: Record<string, unknown>;
}

/** One line of results/index.json. */
export interface IndexEntry {
  /** Notebook name without extension. */
  name: string;
  /** "completed" or "failed". */
  status: string;
  /** Run start (ISO). */
  startTime: string;
  /** Seconds. */
  duration: number;
  /** Parameters in effect. */
  parameters: Record<string, unknown>;
  /** Error text when failed. */
  error?: string;
}

/** Lists the notebooks reproduce would run, sorted by name. */
export function listNotebooks(
  dir = path.join(PROJECT_ROOT, "notebooks"),
  only?: string[],
): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .filter((f) => !only?.length || only.some((o) => f.includes(o)))
    .sort()
    .map((f) => path.join(dir, f));
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/** Renders results/index.html from the index entries. */
export function renderIndex(entries: IndexEntry[]): string {
  const rows = entries
    .map(
      (e) =>
        `<tr><td><a href="${encodeURI(e.name)}.html">${escapeHtml(e.name)}</a> (<a href="${encodeURI(e.name)}.ipynb">ipynb</a>)</td>` +
        `<td class="${e.status}">${e.status}</td><td>${escapeHtml(e.startTime.replace("T", " ").slice(0, 19))} UTC</td>` +
        `<td>${e.duration.toFixed(1)} s</td><td><code>${escapeHtml(JSON.stringify(e.parameters))}</code></td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>senet-lab results</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}.failed{color:#b00}.completed{color:#070}</style>
</head><body><h1>senet-lab: executed notebooks</h1>
<table><tr><th>notebook</th><th>status</th><th>run (UTC)</th><th>duration</th><th>parameters</th></tr>
${rows}
</table></body></html>
`;
}

/**
 * Runs the notebooks one after another (each uses every core), keeps going past a failure so one
 * broken notebook does not hide the others, and rewrites the index after each one.
 */
export async function reproduce(options: ReproduceOptions = {}): Promise<IndexEntry[]> {
  const outDir = path.resolve(options.outDir ?? path.join(PROJECT_ROOT, "results"));
  const indexJson = path.join(outDir, "index.json");
  const previous: IndexEntry[] = fs.existsSync(indexJson)
    ? (JSON.parse(fs.readFileSync(indexJson, "utf8")) as IndexEntry[])
    : [];
  const entries = new Map(previous.map((e) => [e.name, e]));
  for (const nb of listNotebooks(options.notebooksDir, options.only)) {
    const name = path.basename(nb, ".ipynb");
    process.stderr.write(`[reproduce] ${name} ...\n`);
    const r: NotebookRunResult = await runNotebook({
      input: nb,
      output: path.join(outDir, `${name}.ipynb`),
      html: true,
      ...(options.params ? { params: options.params } : {}),
    });
    process.stderr.write(`[reproduce] ${name}: ${r.status} in ${r.duration.toFixed(1)} s\n`);
    entries.set(name, {
      name,
      status: r.status,
      startTime: r.startTime,
      duration: r.duration,
      parameters: r.parameters,
      ...(r.error ? { error: r.error } : {}),
    });
    const list = [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
    writeJsonAtomic(indexJson, list);
    writeFileAtomic(path.join(outDir, "index.html"), renderIndex(list));
  }
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}
