/**
 * A tiny command framework over node:util parseArgs: each command declares its flags with a
 * one-line description, so `--help` is generated from the same table that parses, and an
 * unknown flag or a missing value is an error that names it.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.js";

/** One CLI flag. */
export interface FlagSpec {
  /** "string" takes a value; "boolean" is a switch. */
  type: "string" | "boolean";
  /** One-letter alias. */
  short?: string;
  /** The flag may repeat (values collected in order). */
  multiple?: boolean;
  /** Shown in --help, e.g. "N" for --workers N. */
  valueName?: string;
  /** One line for --help. */
  description: string;
}

/** Parsed flags: strings, booleans, or string lists for `multiple` flags. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** A command or a group of subcommands. */
export interface CommandSpec {
  /** The word typed after `senet-lab`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Positional arguments as shown in usage, e.g. "<spec.json>". */
  args?: string;
  /** Flags the command takes (besides --help). */
  flags?: Record<string, FlagSpec>;
  /** Nested commands (e.g. `sweep run`); a group has no run of its own. */
  subcommands?: CommandSpec[];
  /** Runs the command; returns the process exit code. */
  run?: (flags: FlagValues, positionals: string[]) => Promise<number>;
}

/** Renders the help text of a command from its spec. */
export function helpText(spec: CommandSpec, path: string[]): string {
  const lines: string[] = [];
  const full = path.join(" ");
  if (spec.subcommands?.length) {
    lines.push(`Usage: ${full} <command> [options]`, "", spec.summary, "", "Commands:");
    const w = Math.max(...spec.subcommands.map((c) => c.name.length));
    for (const c of spec.subcommands) lines.push(`  ${c.name.padEnd(w)}  ${c.summary}`);
    lines.push("", `Run '${full} <command> --help' for a command's options.`);
    return lines.join("\n");
  }
  lines.push(`Usage: ${full}${spec.args ? ` ${spec.args}` : ""} [options]`, "", spec.summary, "");
  const flags = Object.entries(spec.flags ?? {});
  const rows = flags.map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${name}${f.type === "string" ? ` ${f.valueName ?? "VALUE"}` : ""}`;
    return [left, `${f.description}${f.multiple ? " (repeatable)" : ""}`] as const;
  });
  rows.push(["-h, --help", "Show this help."]);
  const w = Math.max(...rows.map((r) => r[0].length));
  lines.push("Options:", ...rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`));
  return lines.join("\n");
}

/** Parses argv against a spec and runs it (recursing into subcommands). */
export async function dispatch(spec: CommandSpec, argv: string[], path: string[]): Promise<number> {
  if (spec.subcommands?.length) {
    const [word, ...rest] = argv;
    if (word === undefined || word === "--help" || word === "-h" || word === "help") {
      process.stdout.write(`${helpText(spec, path)}\n`);
      return word === undefined ? 2 : 0;
    }
    const sub = spec.subcommands.find((c) => c.name === word);
    if (!sub) {
      throw new ConfigError(
        `unknown command ${JSON.stringify(word)} for '${path.join(" ")}'; commands: ${spec.subcommands.map((c) => c.name).join(", ")}`,
      );
    }
    return dispatch(sub, rest, [...path, sub.name]);
  }
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = { help: { type: "boolean", short: "h" } };
  for (const [name, f] of Object.entries(spec.flags ?? {})) {
    options[name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see '${path.join(" ")} --help')`, {
      cause: err,
    });
  }
  if (parsed.values.help) {
    process.stdout.write(`${helpText(spec, path)}\n`);
    return 0;
  }
  if (!spec.run) throw new ConfigError(`'${path.join(" ")}' cannot run on its own`);
  return spec.run(parsed.values as FlagValues, parsed.positionals);
}

/** Reads a string flag, or undefined. */
export function str(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
}

/** Reads a positive-integer flag, erroring with the flag's name and value. */
export function int(flags: FlagValues, name: string, min = 1): number | undefined {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigError(`--${name} must be an integer >= ${min}; got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Reads a repeatable flag as a list. */
export function list(flags: FlagValues, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}
