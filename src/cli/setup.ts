/** `senet-lab setup`: install what npm cannot. */
import { setup } from "../setup/index.js";
import type { CommandSpec } from "./command.js";

/** The setup command. */
export const setupCommand: CommandSpec = {
  name: "setup",
  summary:
    "Install what npm cannot (Jupyter, the tslab kernel, datasets, the native backend); silent when all is present.",
  flags: {
    check: { type: "boolean", description: "Only report what is missing; install nothing." },
    strict: { type: "boolean", description: "Exit 1 when anything is still missing (for CI)." },
  },
  run: async (flags) => {
    const report = await setup({ install: !flags.check });
    return flags.strict && report.missing.length > 0 ? 1 : 0;
  },
};
