/** `senet-lab complexity <name>`: parameters and multiply-adds of a zoo model, the papers' way. */
import { initBackend } from "../backend/index.js";
import { type ComplexityReport, countComplexity } from "../complexity/index.js";
import { ConfigError, quote } from "../errors.js";
import { listModels, MODEL_CONFIG_KEYS, presetConfig } from "../models/index.js";
import { type CommandSpec, int, list } from "./command.js";

/**
 * Parses one `--set key=value`: JSON when it parses (numbers, booleans, [2,3], "x"), a list of
 * numbers for comma-separated numbers (stages=3,4), else the raw string (attention=se).
 */
export function parseSetting(raw: string): [string, unknown] {
  const eq = raw.indexOf("=");
  if (eq <= 0) throw new ConfigError(`--set takes key=value; got ${quote(raw)}`);
  const key = raw.slice(0, eq);
  const text = raw.slice(eq + 1);
  if (!(MODEL_CONFIG_KEYS as readonly string[]).includes(key)) {
    throw new ConfigError(
      `--set: unknown model config key ${quote(key)}; allowed keys: ${MODEL_CONFIG_KEYS.join(", ")}`,
    );
  }
  try {
    return [key, JSON.parse(text)];
  } catch {
    if (/^-?\d+(\.\d+)?(,-?\d+(\.\d+)?)+$/.test(text)) return [key, text.split(",").map(Number)];
    return [key, text];
  }
}

/** Parses every --set into an overrides object (a key given twice is an error). */
export function parseSettings(raws: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of raws) {
    const [key, value] = parseSetting(raw);
    if (Object.hasOwn(out, key))
      throw new ConfigError(`--set ${key} given twice (${quote(out[key])} and ${quote(value)})`);
    out[key] = value;
  }
  return out;
}

const fmt = (n: number): string => n.toLocaleString("en-US");

/** Human-readable summary (and optional per-layer table) of a report. */
export function formatReport(r: ComplexityReport, withLayers: boolean): string {
  const lines = [
    `model       ${r.model}`,
    `input       ${r.inputShape.join("×")}`,
    `params      ${fmt(r.params)} (${(r.params / 1e6).toFixed(2)} M, trainable; BN moving statistics excluded)`,
    `MACs        ${fmt(r.macs)} (${(r.macs / 1e9).toFixed(3)} G multiply-adds: convolutions and dense layers)`,
    `attention   ${fmt(r.attentionParams)} params, ${fmt(r.attentionMacs)} MACs (included above), ${fmt(r.attentionOps)} elementwise ops (not included)`,
  ];
  if (r.config) lines.push(`config      ${JSON.stringify(r.config)}`);
  if (withLayers) {
    const w = Math.max(...r.layers.map((l) => l.name.length));
    lines.push(
      "",
      `${"layer".padEnd(w)}  ${"class".padEnd(22)} ${"output".padEnd(16)} ${"params".padStart(12)} ${"MACs".padStart(14)} ${"attn ops".padStart(12)}`,
    );
    for (const l of r.layers) {
      if (l.params === 0 && l.macs === 0 && l.attentionOps === 0) continue;
      lines.push(
        `${l.name.padEnd(w)}  ${l.className.padEnd(22)} ${l.outputShape.join("×").padEnd(16)} ${fmt(l.params).padStart(12)} ${fmt(l.macs).padStart(14)} ${fmt(l.attentionOps).padStart(12)}`,
      );
    }
  }
  return lines.join("\n");
}

/** The complexity command. */
export const complexityCommand: CommandSpec = {
  name: "complexity",
  summary: "Count a zoo model's trainable parameters and multiply-adds (the papers' GFLOPs).",
  args: "<model>",
  flags: {
    set: {
      type: "string",
      multiple: true,
      valueName: "KEY=VALUE",
      description: "Override a model config key, e.g. attention=se, reduction=8, stages=3,4.",
    },
    input: {
      type: "string",
      valueName: "N",
      description: "Square input size N×N (default: the model's, 224 or 32).",
    },
    json: {
      type: "boolean",
      description: "Print one JSON object (model, params, macs, attentionOps, config, ...).",
    },
    layers: {
      type: "boolean",
      description: "Include the per-layer breakdown (table, or `layers` in --json).",
    },
  },
  run: async (flags, positionals) => {
    if (positionals.length !== 1) {
      throw new ConfigError(
        `complexity takes one model name; got ${positionals.length === 0 ? "none" : quote(positionals)}; models: ${listModels().join(", ")}`,
      );
    }
    const name = positionals[0]!;
    const overrides = parseSettings(list(flags, "set"));
    const n = int(flags, "input");
    if (n !== undefined) {
      if (overrides.inputShape !== undefined)
        throw new ConfigError("give --input or --set inputShape=..., not both");
      overrides.inputShape = [n, n, presetConfig(name).inputShape[2]];
    }
    await initBackend("cpu", { quiet: true });
    const report = countComplexity(name, overrides);
    const withLayers = flags.layers === true;
    if (flags.json) {
      // JSON.stringify drops the undefined `layers` unless --layers asked for them.
      const out = withLayers ? report : { ...report, layers: undefined };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      process.stdout.write(`${formatReport(report, withLayers)}\n`);
    }
    return 0;
  },
};
