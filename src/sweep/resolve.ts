/**
 * Full validation of a sweep spec: its shape, then every run config it expands to through the
 * training loop's own validator (resolveExperimentConfig), so a typo in the last grid value
 * fails before the first run trains. Kept apart from spec.ts so reading a sweep folder (status,
 * tables) never loads the training code.
 */
import { type DatasetCounts, datasetCounts, datasetLimitProblems } from "../data/counts.js";
import { ConfigError, DatasetError, quote } from "../errors.js";
import { countRuns, expandRunsUnchecked, type SweepRun } from "./expand.js";
import {
  ATTENTION_KEY_READERS,
  isCompleteConfig,
  runConfig,
  unreadKeyReason,
  unreadKeys,
} from "./experiment.js";
import { checkSweepShape, formatErrors, type SweepSpec } from "./spec.js";

/** The most runs a sweep may have unless raised (`--max-runs`, `maxRuns`): bigger is usually a typo. */
export const DEFAULT_MAX_RUNS = 10_000;

/** Options of resolveSweepSpec. */
export interface ResolveSweepOptions {
  /** Refuse a spec expanding to more runs than this (default DEFAULT_MAX_RUNS; Infinity: no limit). */
  maxRuns?: number;
}

/**
 * Refuses, before expanding, a spec with more than `maxRuns` runs, naming the count, the grid's
 * factors and how to proceed; a 10-million-run grid would otherwise take minutes and gigabytes.
 */
export function checkRunCount(spec: SweepSpec, maxRuns: number = DEFAULT_MAX_RUNS): number {
  if (!(maxRuns >= 1))
    throw new ConfigError(`maxRuns must be a number >= 1; got ${quote(maxRuns)}`);
  const n = countRuns(spec);
  if (n > maxRuns) {
    const factors = [
      ...Object.entries(spec.grid).map(([k, v]) => `${v.length} ${k}`),
      `${spec.seeds.length} seed${spec.seeds.length === 1 ? "" : "s"}`,
    ].join(" × ");
    throw new ConfigError(
      `sweep ${quote(spec.name)} has ${n.toLocaleString("en-US")} runs (${factors}), more than the limit of ${maxRuns.toLocaleString("en-US")}; check the grid for a mistake, or raise the limit with --max-runs ${n} (option maxRuns)`,
    );
  }
  return n;
}

/**
 * Validates a raw spec (parsed JSON) completely: its shape, then every expanded run's config
 * through `resolveExperimentConfig`, collecting every failure with the run it belongs to.
 * Nothing trains before this returns. Returns the spec with defaults filled in.
 *
 * Keys that do not apply (issue 14 item 11; see checkKeysApply): a grid key must apply to every
 * run it varies (a grid over `groups` with attention "se" would train identical runs), while a
 * `base` key may serve only some runs (base {reduction: 8} with attention ∈ {none, se, sge}: the
 * SE runs read it) but must apply to at least one.
 */
export function resolveSweepSpec(raw: unknown, options: ResolveSweepOptions = {}): SweepSpec {
  return resolveSweep(raw, options).spec;
}

/** resolveSweepSpec, also returning the runs it expanded and parsed (runConfig knows their configs). */
export function resolveSweep(
  raw: unknown,
  options: ResolveSweepOptions = {},
): { spec: SweepSpec; runs: SweepRun[] } {
  const spec = checkSweepShape(raw);
  checkRunCount(spec, options.maxRuns);
  const errors: string[] = [];
  const seen = new Map<string, string>();
  // Attention keys of `base` (a complete config is exempt: it lists every key by construction).
  const baseKeys = Object.keys(ATTENTION_KEY_READERS).filter(
    (k) => spec.base[k] !== undefined && !isCompleteConfig({ ...spec.base, seed: 0 }),
  );
  const baseKeyUsed = new Map<string, string | undefined>(baseKeys.map((k) => [k, undefined]));
  const lastReason = new Map<string, string>();
  const runs = expandRunsUnchecked(spec);
  for (const run of runs) {
    const prev = seen.get(run.id.toLowerCase());
    if (prev !== undefined) {
      errors.push(`runs ${quote(prev)} and ${quote(run.id)} would share one folder`);
    }
    seen.set(run.id.toLowerCase(), run.id);
    try {
      const resolved = runConfig(run);
      const exempt = Object.keys(spec.base).filter((k) => !(k in run.overrides));
      for (const k of unreadKeys(run.config, resolved, exempt)) {
        errors.push(
          `run ${run.id}: grid key ${unreadKeyReason(k, run.config[k], resolved)}; vary it only where it applies (e.g. a separate sweep with attention ${(ATTENTION_KEY_READERS[k] ?? []).map((a) => quote(a)).join(" or ")})`,
        );
      }
      for (const k of baseKeys) {
        if (unreadKeys({ [k]: spec.base[k] }, resolved).length === 0) baseKeyUsed.set(k, run.id);
        else lastReason.set(k, unreadKeyReason(k, spec.base[k], resolved));
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(`run ${run.id}: ${err.message}`);
    }
  }
  for (const [k, usedBy] of baseKeyUsed) {
    if (usedBy !== undefined) continue;
    errors.push(
      `"base": ${lastReason.get(k) ?? k}, in every run of the sweep; a base key may serve only some runs, but at least one must read it: remove ${k} from "base"`,
    );
  }
  if (errors.length > 0) {
    // The same mistake in `base` fails every run; say it once per distinct message.
    throw new ConfigError(
      formatErrors(`sweep ${quote(spec.name)} has invalid runs`, dedupe(errors)),
    );
  }
  return { spec, runs };
}

/**
 * Checks every run's dataset-dependent values (trainSubset, valFraction, batchSize: see
 * datasetLimitProblems) against its dataset's sizes, read once per dataset and folder from file
 * headers, so a trainSubset larger than the data fails here, once, naming the value and the
 * dataset's size, instead of in every worker. A dataset not found on this machine is skipped
 * (a SLURM submit host may not see the nodes' data folder); the runs then report it.
 */
export function checkSweepData(spec: SweepSpec, runs: SweepRun[]): void {
  const counts = new Map<string, DatasetCounts | null>();
  const errors: string[] = [];
  for (const run of runs) {
    const c = runConfig(run);
    const key = `${c.dataset}\0${c.dataDir ?? ""}`;
    if (!counts.has(key)) {
      try {
        counts.set(key, datasetCounts(c.dataset, c.dataDir));
      } catch (err) {
        if (!(err instanceof DatasetError)) throw err;
        counts.set(key, null);
      }
    }
    const n = counts.get(key);
    if (!n) continue;
    for (const p of datasetLimitProblems(c, n)) errors.push(`run ${run.id}: ${p}`);
  }
  if (errors.length > 0) {
    throw new ConfigError(
      formatErrors(`sweep ${quote(spec.name)} asks more of its data than it holds`, dedupe(errors)),
    );
  }
}

function dedupe(errors: string[]): string[] {
  const byMessage = new Map<string, string[]>();
  for (const e of errors) {
    const m = /^run ([^:]+): ([\s\S]*)$/.exec(e);
    if (!m) {
      byMessage.set(e, []);
      continue;
    }
    const list = byMessage.get(m[2]!) ?? [];
    list.push(m[1]!);
    byMessage.set(m[2]!, list);
  }
  return [...byMessage].map(([msg, runs]) =>
    runs.length === 0
      ? msg
      : runs.length === 1
        ? `run ${runs[0]}: ${msg}`
        : `runs ${runs[0]} and ${runs.length - 1} more: ${msg}`,
  );
}

/**
 * The runs of a sweep, seeds outermost so a partly finished sweep has every grid point for the
 * first seeds. Accepts a raw spec (validated first) or one from resolveSweepSpec.
 */
export function expandSweep(spec: SweepSpec | unknown): SweepRun[] {
  return resolveSweep(spec).runs;
}
