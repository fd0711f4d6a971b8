/** `senet-lab reproduce` (npm run reproduce). */

import path from "node:path";
import { reproduce } from "../notebook/reproduce.js";
import { parseParams } from "../notebook/run.js";
import { setup } from "../setup/index.js";
import { checkWritableDir } from "../util/fs.js";
import { type CommandSpec, list, str } from "./command.js";

/** The reproduce command. */
export const reproduceCommand: CommandSpec = {
  name: "reproduce",
  summary:
    "Execute every notebook in notebooks/ into results/ with HTML exports and an index; a failed notebook keeps the committed result (its run goes to results/<name>.failed.ipynb).",
  flags: {
    only: {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description: "Run only notebooks whose file name contains NAME.",
    },
    param: {
      type: "string",
      short: "p",
      multiple: true,
      valueName: "KEY=VALUE",
      description: "Parameter injected into every notebook (e.g. preset=smoke).",
    },
    out: { type: "string", valueName: "DIR", description: "Output folder (default results/)." },
    retrain: {
      type: "boolean",
      description:
        "Train every run again into results/.retrain/sweeps (resumed if killed), promoted over results/sweeps only when every notebook completed; default reuses committed runs.",
    },
  },
  run: async (flags) => {
    const out = str(flags, "out");
    // Before setup and any notebook: an unwritable results folder fails at once, in one line.
    if (out !== undefined) checkWritableDir(out, "--out");
    await setup();
    const params = parseParams(list(flags, "param"));
    const result = await reproduce({
      only: list(flags, "only"),
      ...(Object.keys(params).length ? { params } : {}),
      ...(out ? { outDir: out } : {}),
      ...(flags.retrain ? { retrain: true } : {}),
    });
    // Only this run's notebooks decide the exit status (the index may hold older failures of
    // notebooks that --only left out).
    const rel = (p: string) => path.relative(process.cwd(), p) || p;
    if (result.failed.length > 0) {
      process.stderr.write(
        `[reproduce] ${result.failed.length} of ${result.outcomes.length} notebook(s) FAILED:\n`,
      );
      for (const f of result.failed) {
        const where = [
          f.failedCopy
            ? `failed copy: ${rel(f.failedCopy)}`
            : "no executed copy (refused before a kernel ran)",
          f.kept ? `kept: ${rel(f.kept)} (the last good result)` : "no earlier result",
        ].join("; ");
        process.stderr.write(
          `  ${f.name}: ${f.firstErrorLine || "(no error text)"}\n    ${where}\n`,
        );
      }
    }
    if (result.retrain && result.retrain.promoted === null) {
      process.stderr.write(
        `[reproduce] retrain not promoted; staged runs in ${rel(result.retrain.staging)}: rerun with --retrain (same arguments) to resume\n`,
      );
    }
    return result.failed.length ? 1 : 0;
  },
};
