/**
 * `npm run reproduce`: every notebook in notebooks/ executed into results/ with its HTML export,
 * then results/index.html linking them with run date, duration, status and where their training
 * came from.
 *
 * A failing notebook never replaces a good result: each notebook executes into temporary files,
 * and only a completed run replaces results/<name>.{ipynb,html} (by rename); a failed one is saved
 * as results/<name>.failed.ipynb (git-ignored) and its index entry records the failure while
 * keeping the last successful run's details. Reproduce keeps going past a failure and reports
 * every failed notebook at the end. With `retrain`, every run is trained again in a staging root
 * and promoted only when every notebook completed (retrain.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, quote } from "../errors.js";
import {
  checkWritableDir,
  PROJECT_ROOT,
  readJsonIfExists,
  writeFileAtomic,
  writeJsonAtomic,
} from "../util/fs.js";
import {
  expectedSeconds,
  JsonlTail,
  type PastRun,
  PROGRESS_FILE_ENV,
  Progress,
} from "./progress.js";
import {
  committedSweepRoot,
  openRetrain,
  type PromotionMove,
  promoteRetrain,
  type RetrainMarker,
  readRetrainMarker,
  retrainPaths,
  SWEEP_DIR_ENV,
  writeRetrainMarker,
} from "./retrain.js";
import { failedPathFor, type NotebookRunResult, runNotebook } from "./run.js";
import {
  describeTraining,
  NO_TRAINING,
  runsFileOf,
  summarizeTraining,
  sweepFolderOf,
  type TrainingSummary,
} from "./training.js";

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
  /**
   * Train every run again, into <outDir>/.retrain/sweeps, promoted over the committed sweep root
   * when every notebook completed; a killed retrain resumes on the next call with the same
   * arguments. Default false: finished committed runs are reused.
   */
  retrain?: boolean;
  /** The committed sweep root (default $SENET_LAB_SWEEP_DIR, else results/sweeps). */
  sweepsDir?: string;
  /** Extra environment for every kernel. */
  env?: NodeJS.ProcessEnv;
  /** Kernel stderr: "inherit" (default, shown above the progress line) or "pipe" (quiet). */
  stderr?: "inherit" | "pipe";
  /** Progress display settings (stream, tty, plain-line interval); the notebooks fill in the rest. */
  progress?: {
    stream?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
    tty?: boolean;
    plainIntervalMs?: number;
  };
}

/** The last completed execution of a notebook, kept in its entry while later ones fail. */
export interface LastSuccess {
  /** Run start (ISO). */
  startTime: string;
  /** Seconds. */
  duration: number;
  /** Parameters in effect. */
  parameters: Record<string, unknown>;
  /** Its training (see IndexEntry.training). */
  training?: TrainingSummary;
  /** It came from a `--retrain`. */
  retrained?: boolean;
}

/** One line of results/index.json (fields after `error` were added later; readers must allow their absence). */
export interface IndexEntry {
  /** Notebook name without extension. */
  name: string;
  /** "completed" or "failed": the latest execution. */
  status: string;
  /** Run start (ISO) of the latest execution. */
  startTime: string;
  /** Seconds. */
  duration: number;
  /** Parameters in effect. */
  parameters: Record<string, unknown>;
  /** Error text when failed. */
  error?: string;
  /** Execution count of the failing cell. */
  failedCell?: number;
  /** The failed executed notebook, relative to the results folder (git-ignored). */
  failedCopy?: string;
  /** Completed: which runs it trained now or reused, when, where, on what and from which commit. */
  training?: TrainingSummary;
  /** Completed by `reproduce --retrain` (every run trained again). */
  retrained?: boolean;
  /** Failed: the last completed execution, whose files results/<name>.{ipynb,html} still are. */
  lastSuccess?: LastSuccess;
}

/** What happened to one notebook in this reproduce. */
export interface NotebookOutcome {
  /** Notebook name. */
  name: string;
  /** "completed", "failed", or "skipped" (already completed earlier in a resumed retrain). */
  status: "completed" | "failed" | "skipped";
  /** Seconds. */
  duration: number;
  /** First line of the error, when failed. */
  firstErrorLine?: string;
  /** The failed executed notebook (absolute), when one was written. */
  failedCopy?: string;
  /** The result left in place because this run failed (absolute), when it exists. */
  kept?: string;
  /** The runs it used. */
  training: TrainingSummary;
  /** Run events seen from the kernel, by status. */
  runEvents: Record<string, number>;
}

/** What `reproduce` returns. */
export interface ReproduceResult {
  /** Every entry of the index after this run, sorted by name. */
  entries: IndexEntry[];
  /** The notebooks of this run, in order. */
  outcomes: NotebookOutcome[];
  /** Those that failed. */
  failed: NotebookOutcome[];
  /** With `retrain`: whether it resumed a killed one, and the promotion (null: not promoted). */
  retrain?: { resumed: boolean; staging: string; promoted: PromotionMove[] | null };
}

/** Lists the notebooks reproduce would run, sorted by name. */
export function listNotebooks(
  dir = path.join(PROJECT_ROOT, "notebooks"),
  only?: string[],
): string[] {
  if (!fs.existsSync(dir)) throw new ConfigError(`notebook folder ${quote(dir)} does not exist`);
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

/**
 * The line of an error text that says what went wrong, at most 200 characters: the first
 * "SomethingError: ..." line (tslab puts the source location and a caret first), else the first
 * non-empty line.
 */
export function firstLine(text: string | undefined): string {
  const lines = (text ?? "").split("\n").map((l) => l.trim());
  const line =
    lines.find((l) => /^[\w.$]*(Error|Exception)\b/.test(l)) ?? lines.find((l) => l !== "") ?? "";
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

const when = (iso: string | null | undefined) =>
  iso ? `${iso.replace("T", " ").slice(0, 16)} UTC` : "?";

/** "when · machines · backends · commits" of a training summary, for the index. */
export function describeProvenance(t: TrainingSummary | undefined): string {
  if (!t || t.mode === "none") return "";
  const range =
    t.firstStartedAt === t.lastStartedAt
      ? when(t.firstStartedAt)
      : `${when(t.firstStartedAt)} – ${when(t.lastStartedAt)}`;
  return [
    range,
    t.machines.join("; ") || "machine ?",
    t.backends.join("; ") || "backend ?",
    `commit ${t.commits.join(", ") || "?"}`,
  ].join(" · ");
}

/** Renders results/index.html from the index entries. */
export function renderIndex(entries: IndexEntry[]): string {
  const rows = entries
    .map((e) => {
      const failed = e.status !== "completed";
      const shown: LastSuccess | undefined = failed
        ? e.lastSuccess
        : {
            startTime: e.startTime,
            duration: e.duration,
            parameters: e.parameters,
            ...(e.training ? { training: e.training } : {}),
            ...(e.retrained ? { retrained: true } : {}),
          };
      let status = `<td class="${escapeHtml(e.status)}">${escapeHtml(e.status)}`;
      if (failed) {
        status += ` ${escapeHtml(when(e.startTime))}`;
        if (e.error) status += `<br><small>${escapeHtml(firstLine(e.error))}</small>`;
        if (e.failedCopy)
          status += `<br><small>failed copy: <a href="${encodeURI(e.failedCopy)}">${escapeHtml(e.failedCopy)}</a> (local, not committed)</small>`;
        status += shown
          ? `<br><small>shown: the last completed run, ${escapeHtml(when(shown.startTime))}</small>`
          : "<br><small>no completed run yet</small>";
      }
      status += "</td>";
      const t = shown?.training;
      const training = shown
        ? `${escapeHtml(describeTraining(t))}${shown.retrained ? " · retrained" : ""}`
        : "";
      return (
        `<tr><td><a href="${encodeURI(e.name)}.html">${escapeHtml(e.name)}</a> (<a href="${encodeURI(e.name)}.ipynb">ipynb</a>)</td>` +
        `${status}<td>${escapeHtml(when(shown?.startTime ?? e.startTime))}</td>` +
        `<td>${(shown?.duration ?? e.duration).toFixed(1)} s</td>` +
        `<td class="training">${training}</td><td class="provenance"><small>${escapeHtml(describeProvenance(t))}</small></td>` +
        `<td><code>${escapeHtml(JSON.stringify(shown?.parameters ?? e.parameters))}</code></td></tr>`
      );
    })
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>senet-lab results</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}.failed{color:#b00}.completed{color:#070}</style>
</head><body><h1>senet-lab: executed notebooks</h1>
<table><tr><th>notebook</th><th>status</th><th>run (UTC)</th><th>duration</th><th>runs: trained now or reused</th><th>trained when · machine · backend · commit</th><th>parameters</th></tr>
${rows}
</table></body></html>
`;
}

/** Reads results/index.json (absent: none). */
export function readIndex(outDir: string): IndexEntry[] {
  const file = path.join(outDir, "index.json");
  const list = readJsonIfExists<unknown>(file);
  if (list === undefined) return [];
  if (!Array.isArray(list))
    throw new ConfigError(`${quote(file)} must hold a JSON array of entries`);
  return list as IndexEntry[];
}

function writeIndex(outDir: string, entries: Map<string, IndexEntry>): IndexEntry[] {
  const list = [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  writeJsonAtomic(path.join(outDir, "index.json"), list);
  writeFileAtomic(path.join(outDir, "index.html"), renderIndex(list));
  return list;
}

/** The last completed execution an entry knows of, for ETAs and for `lastSuccess`. */
function lastSuccessOf(e: IndexEntry | undefined): LastSuccess | undefined {
  if (!e) return undefined;
  if (e.status === "completed") {
    return {
      startTime: e.startTime,
      duration: e.duration,
      parameters: e.parameters,
      ...(e.training ? { training: e.training } : {}),
      ...(e.retrained ? { retrained: true } : {}),
    };
  }
  return e.lastSuccess;
}

/**
 * Runs the notebooks one after another (each uses every core), keeps going past a failure so one
 * broken notebook does not hide the others, rewrites the index after each one, and shows one
 * progress line with an ETA over the whole run.
 */
export async function reproduce(options: ReproduceOptions = {}): Promise<ReproduceResult> {
  const outDir = path.resolve(options.outDir ?? path.join(PROJECT_ROOT, "results"));
  // Before any notebook runs: results that cannot be saved are not worth an hour of training.
  checkWritableDir(outDir, "results folder", options.outDir ?? outDir);
  const notebooks = listNotebooks(options.notebooksDir, options.only);
  if (notebooks.length === 0) {
    throw new ConfigError(
      `no notebook in ${quote(options.notebooksDir ?? path.join(PROJECT_ROOT, "notebooks"))} matches --only ${quote(options.only ?? [])}`,
    );
  }
  const names = notebooks.map((nb) => path.basename(nb, ".ipynb"));
  const params = options.params ?? {};
  const entries = new Map(readIndex(outDir).map((e) => [e.name, e]));
  const sweepsDir = path.resolve(options.sweepsDir ?? committedSweepRoot(options.env));
  const paths = retrainPaths(outDir);
  let marker: RetrainMarker | undefined;
  let resumed = false;
  const display = new Progress({
    ...(options.progress ?? {}),
    expected: names.map((n) => {
      const past = lastSuccessOf(entries.get(n));
      const p: PastRun | undefined = past
        ? { duration: past.duration, ...(past.training ? { training: past.training } : {}) }
        : undefined;
      return expectedSeconds(p, Boolean(options.retrain), os.availableParallelism());
    }),
  });
  if (options.retrain) {
    ({ marker, resumed } = openRetrain(paths, { command: "reproduce", notebooks: names, params }));
    display.log(
      resumed
        ? `[reproduce] resuming the retrain started ${marker.startedAt} (staging ${paths.sweeps})\n`
        : `[reproduce] retrain: every run trained again into ${paths.sweeps}; promoted over ${sweepsDir} when every notebook completed\n`,
    );
  } else {
    const unfinished = readRetrainMarker(paths);
    if (unfinished) {
      display.log(
        `[reproduce] note: an unfinished retrain (started ${unfinished.startedAt}) waits in ${paths.root}; \`--retrain\` with its arguments resumes it. This run reuses the committed runs.\n`,
      );
    }
  }
  const progressDir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-progress-"));
  let tail: JsonlTail | undefined;
  const pump = () => {
    for (const ev of tail?.poll() ?? []) display.onEvent(ev);
  };
  const ticker = setInterval(() => {
    pump();
    display.tick();
  }, 1000);
  ticker.unref();
  const outcomes: NotebookOutcome[] = [];
  try {
    for (const [k, nb] of notebooks.entries()) {
      const name = names[k]!;
      const done = marker?.completed[name];
      if (
        marker &&
        done &&
        (marker.phase === "promoting" || fs.existsSync(path.join(paths.out, `${name}.ipynb`)))
      ) {
        display.log(
          `[reproduce] ${name}: already completed in this retrain (staged), not executed again\n`,
        );
        const entry = done.entry as IndexEntry | undefined;
        outcomes.push({
          name,
          status: "skipped",
          duration: 0,
          training: entry?.training ?? { ...NO_TRAINING },
          runEvents: {},
        });
        continue;
      }
      const progressFile = path.join(progressDir, `${k}-${name}.jsonl`);
      tail = new JsonlTail(progressFile);
      display.startNotebook(k + 1, name);
      const output = marker
        ? path.join(paths.out, `${name}.ipynb`)
        : path.join(outDir, `${name}.ipynb`);
      const failedOutput = failedPathFor(path.join(outDir, `${name}.ipynb`));
      const kernelEnv: NodeJS.ProcessEnv = {
        ...(options.env ?? {}),
        [SWEEP_DIR_ENV]: marker ? paths.sweeps : sweepsDir,
        [PROGRESS_FILE_ENV]: progressFile,
      };
      const t0 = Date.now();
      let r: NotebookRunResult;
      try {
        r = await runNotebook({
          input: nb,
          output,
          html: true,
          params,
          onFailure: "aside",
          failedOutput,
          env: kernelEnv,
          onStderr: (t) => display.log(t),
          ...(options.stderr ? { stderr: options.stderr } : {}),
        });
      } catch (err) {
        // Refused before a kernel ran (a parameter this notebook does not declare) or the runner
        // crashed: a failure of this notebook, not of the whole reproduce.
        r = {
          status: "failed",
          output: "",
          duration: (Date.now() - t0) / 1000,
          startTime: new Date(t0).toISOString(),
          error: (err as Error).message,
          parameters: params,
        };
      }
      pump();
      const state = display.endNotebook();
      const preset = sweepFolderOf(r.parameters);
      const runRoot = marker ? paths.sweeps : sweepsDir;
      const training =
        r.status === "completed" && preset
          ? summarizeTraining(
              runsFileOf(runRoot, name, preset),
              marker ? marker.startedAt : r.startTime,
            )
          : { ...NO_TRAINING };
      const committed = path.join(outDir, `${name}.ipynb`);
      const outcome: NotebookOutcome = {
        name,
        status: r.status,
        duration: r.duration,
        training,
        runEvents: state?.done ?? {},
      };
      if (r.status === "completed") {
        const entry: IndexEntry = {
          name,
          status: "completed",
          startTime: r.startTime,
          duration: r.duration,
          parameters: r.parameters,
          training,
          ...(marker ? { retrained: true } : {}),
        };
        if (marker) {
          marker.completed[name] = { preset: preset ?? null, entry };
          writeRetrainMarker(paths, marker);
        } else {
          entries.set(name, entry);
          writeIndex(outDir, entries);
        }
        display.log(
          `[reproduce] ${name}: completed in ${r.duration.toFixed(1)} s · ${describeTraining(training)}${marker ? " · staged until the retrain completes" : ""}\n`,
        );
      } else {
        outcome.firstErrorLine = firstLine(r.error);
        if (r.output) outcome.failedCopy = r.output;
        if (fs.existsSync(committed)) outcome.kept = committed;
        const last = lastSuccessOf(entries.get(name));
        entries.set(name, {
          name,
          status: "failed",
          startTime: r.startTime,
          duration: r.duration,
          parameters: r.parameters,
          ...(r.error ? { error: r.error } : {}),
          ...(r.failedCell !== undefined ? { failedCell: r.failedCell } : {}),
          ...(r.output ? { failedCopy: path.relative(outDir, r.output) } : {}),
          ...(last ? { lastSuccess: last } : {}),
        });
        writeIndex(outDir, entries);
        display.log(
          `[reproduce] ${name}: FAILED in ${r.duration.toFixed(1)} s: ${outcome.firstErrorLine}${r.output ? ` (failed copy ${path.relative(process.cwd(), r.output)})` : ""}\n`,
        );
      }
      outcomes.push(outcome);
    }
  } finally {
    clearInterval(ticker);
    display.clear();
    fs.rmSync(progressDir, { recursive: true, force: true });
  }
  const failed = outcomes.filter((o) => o.status === "failed");
  let promoted: PromotionMove[] | null = null;
  if (marker) {
    const completed = marker.completed;
    if (failed.length === 0 && names.every((n) => completed[n])) {
      promoted = promoteRetrain(paths, marker, { sweepsDir, resultsDir: outDir });
      for (const n of names) {
        const entry = completed[n]?.entry as IndexEntry | undefined;
        if (entry) entries.set(n, entry);
      }
      for (const m of promoted) {
        display.log(
          `[reproduce] retrain: ${m.what} → ${path.relative(process.cwd(), m.to)}${m.previous ? ` (previous kept in ${path.relative(process.cwd(), m.previous)})` : ""}\n`,
        );
      }
    } else {
      display.log(
        `[reproduce] retrain not promoted (${failed.length} notebook(s) failed): the committed runs and results are unchanged; the staged runs stay in ${paths.root}, and rerunning with --retrain and the same arguments resumes it\n`,
      );
    }
  }
  const list = writeIndex(outDir, entries);
  return {
    entries: list,
    outcomes,
    failed,
    ...(marker ? { retrain: { resumed, staging: paths.root, promoted } } : {}),
  };
}
