/** `senet-lab reproduce` (npm run reproduce). */

import { reproduce } from "../notebook/reproduce.js";
import { parseParams } from "../notebook/run.js";
import { setup } from "../setup/index.js";
import { type CommandSpec, list, str } from "./command.js";

/** The reproduce command. */
export const reproduceCommand: CommandSpec = {
  name: "reproduce",
  summary: "Execute every notebook in notebooks/ into results/ with HTML exports and an index.",
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
  },
  run: async (flags) => {
    await setup();
    const out = str(flags, "out");
    const params = parseParams(list(flags, "param"));
    const entries = await reproduce({
      only: list(flags, "only"),
      ...(Object.keys(params).length ? { params } : {}),
      ...(out ? { outDir: out } : {}),
    });
    const failed = entries.filter((e) => e.status !== "completed");
    for (const f of failed)
      process.stderr.write(`[reproduce] FAILED ${f.name}: ${f.error ?? ""}\n`);
    return failed.length ? 1 : 0;
  },
};
