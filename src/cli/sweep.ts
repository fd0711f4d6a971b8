/**
 * `senet-lab sweep`: run a sweep spec in parallel worker processes, show a sweep folder's status,
 * and print its table (mean ± std over seeds, grouped by the grid keys) for a terminal.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, quote } from "../errors.js";
import { type CommandSpec, int, str } from "./command.js";

/** Reads and parses a spec file, naming the file on any failure. */
export function readSpecFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read sweep spec ${quote(file)}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`sweep spec ${quote(file)} is not valid JSON: ${(err as Error).message}`);
  }
}

function onePositional(positionals: string[], what: string, cmd: string): string {
  if (positionals.length !== 1) {
    throw new ConfigError(
      `'senet-lab sweep ${cmd}' takes one ${what}; got ${positionals.length} arguments`,
    );
  }
  return positionals[0]!;
}

const runCommand: CommandSpec = {
  name: "run",
  summary:
    "Run every pending run of a sweep spec in parallel workers (completed runs are skipped).",
  args: "<spec.json>",
  flags: {
    out: {
      type: "string",
      valueName: "DIR",
      description: "Sweep folder (default results/<name>).",
    },
    workers: {
      type: "string",
      valueName: "N",
      description: "Parallel worker processes (default: cores ÷ threads per worker).",
    },
    threads: {
      type: "string",
      valueName: "N",
      description:
        "Threads per worker, passed as SENET_LAB_THREADS (default: SENET_LAB_THREADS or 1).",
    },
  },
  async run(flags, positionals) {
    const spec = readSpecFile(onePositional(positionals, "spec file", "run"));
    const out = str(flags, "out");
    const workers = int(flags, "workers");
    const threads = int(flags, "threads");
    const { runSweep } = await import("../sweep/index.js");
    const result = await runSweep(spec, {
      ...(out ? { outDir: path.resolve(out) } : {}),
      ...(workers ? { workers } : {}),
      ...(threads ? { threadsPerWorker: threads } : {}),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    for (const r of result.runs.filter((x) => x.status === "failed")) {
      process.stderr.write(`failed: ${r.id}: ${r.error ?? ""}\n`);
    }
    return result.counts.failed > 0 ? 1 : 0;
  },
};

const statusCommand: CommandSpec = {
  name: "status",
  summary: "Count and list a sweep folder's runs: done, running, failed, missing.",
  args: "<dir>",
  flags: {},
  async run(_flags, positionals) {
    const dir = onePositional(positionals, "sweep folder", "status");
    const { sweepStatus } = await import("../sweep/index.js");
    const s = sweepStatus(path.resolve(dir));
    const c = s.counts;
    const lines = [
      `sweep ${s.name} (${s.outDir}): ${s.runs.length} runs: ${c.done} done, ${c.running} running, ${c.failed} failed, ${c.missing} missing`,
    ];
    const w = Math.max(...s.runs.map((r) => r.id.length));
    for (const r of s.runs) {
      const detail =
        r.state === "done"
          ? (r.result ?? "")
          : r.state === "running"
            ? `pid ${r.pid ?? "?"}, ${r.epochs} epoch(s) so far`
            : r.state === "failed"
              ? (r.error ?? "").split("\n")[0]!
              : r.epochs > 0
                ? `interrupted after ${r.epochs} epoch(s); a rerun resumes it`
                : "";
      lines.push(`  ${r.state.padEnd(7)}  ${r.id.padEnd(w)}  ${detail}`.trimEnd());
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};

const tableCommand: CommandSpec = {
  name: "table",
  summary: "Print a sweep's table: mean ± std and n over seeds per grid point (completed runs).",
  args: "<dir>",
  flags: {
    metric: {
      type: "string",
      short: "m",
      multiple: true,
      valueName: "M",
      description: "Metric (a numeric summary.json field); default: the first accuracy-like one.",
    },
    by: {
      type: "string",
      valueName: "K1,K2",
      description: "Columns to group by (default: every grid key).",
    },
    markdown: { type: "boolean", description: "Print a Markdown table." },
    csv: { type: "boolean", description: "Print CSV with the raw mean, std and n columns." },
  },
  async run(flags, positionals) {
    const dir = path.resolve(onePositional(positionals, "sweep folder", "table"));
    if (flags.markdown && flags.csv) throw new ConfigError("choose one of --markdown and --csv");
    const report = await import("../report/index.js");
    const { sweepTable } = report;
    const metrics = Array.isArray(flags.metric) ? flags.metric : [];
    const by = str(flags, "by")
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const table = sweepTable(dir, {
      ...(metrics.length ? { metrics } : {}),
      ...(by ? { by } : {}),
    });
    const text = flags.csv
      ? report.toCsv(table.summary)
      : flags.markdown
        ? report.toMarkdown(table.formatted, { caption: table.caption })
        : `${table.caption}\n\n${report.toText(table.formatted)}\n`;
    process.stdout.write(text);
    return 0;
  },
};

/** The `sweep` command group. */
export const sweepCommand: CommandSpec = {
  name: "sweep",
  summary: "Run, inspect and tabulate sweeps (grid × seeds of training runs).",
  subcommands: [runCommand, statusCommand, tableCommand],
};
