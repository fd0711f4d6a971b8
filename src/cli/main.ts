/**
 * The `senet-lab` command line. Each command lives in its own module under src/cli/ and is
 * listed once in COMMANDS; modules are imported lazily so `senet-lab --help` stays instant.
 */
import { SenetLabError } from "../errors.js";
import { type CommandSpec, dispatch, helpText } from "./command.js";

/** Every top-level command: name, one-line summary and the module that implements it. */
const COMMANDS: { name: string; summary: string; load: () => Promise<CommandSpec> }[] = [
  {
    name: "env",
    summary: "Show the backend, versions, threads and which system pieces are present.",
    load: async () => (await import("./env.js")).envCommand,
  },
  {
    name: "setup",
    summary:
      "Install what npm cannot (Jupyter, the tslab kernel, datasets, the native backend); silent when all is present.",
    load: async () => (await import("./setup.js")).setupCommand,
  },
  {
    name: "data",
    summary: "Download datasets (verified, resumable, with progress) and list what is here.",
    load: async () => (await import("./data.js")).dataCommand,
  },
  {
    name: "notebook",
    summary: "Run a notebook through the tslab kernel, or serve the notebooks in Jupyter.",
    load: async () => (await import("./notebook.js")).notebookCommand,
  },
  {
    name: "sweep",
    summary: "Run sweeps in parallel workers (resumable), show their status and tables.",
    load: async () => (await import("./sweep.js")).sweepCommand,
  },
  {
    name: "reproduce",
    summary: "Execute every notebook in notebooks/ into results/ with HTML exports and an index.",
    load: async () => (await import("./reproduce.js")).reproduceCommand,
  },
  {
    name: "complexity",
    summary: "Count a zoo model's trainable parameters and multiply-adds (the papers' GFLOPs).",
    load: async () => (await import("./complexity.js")).complexityCommand,
  },
  {
    name: "eval",
    summary:
      "Top-1 / top-5 of a model on an image folder (ImageNet layouts, torchvision preprocessing).",
    load: async () => (await import("./eval.js")).evalCommand,
  },
  {
    name: "bench",
    summary: "Benchmark every backend against PyTorch; writes results/bench/<date>.json.",
    load: async () => (await import("./bench.js")).benchCommand,
  },
];

/** Runs the CLI with the given arguments; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const root: CommandSpec = {
    name: "senet-lab",
    summary: "SE / SGE attention research environment for TensorFlow.js.",
    subcommands: COMMANDS.map((c) => ({ name: c.name, summary: c.summary })),
  };
  const [word, ...rest] = argv;
  if (word === undefined || word === "--help" || word === "-h" || word === "help") {
    process.stdout.write(`${helpText(root, ["senet-lab"])}\n`);
    return word === undefined ? 2 : 0;
  }
  if (word === "--version") {
    const { createRequire } = await import("node:module");
    const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === word);
  try {
    if (!entry) {
      throw new SenetLabError(
        `unknown command ${JSON.stringify(word)}; commands: ${COMMANDS.map((c) => c.name).join(", ")}`,
      );
    }
    return await dispatch(await entry.load(), rest, ["senet-lab", entry.name]);
  } catch (err) {
    if (err instanceof SenetLabError) {
      process.stderr.write(`senet-lab: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
