/**
 * A hand-written sweep folder (manifest, config/summary/metrics files in the layout the training
 * loop writes) with known numbers, so the report functions are tested on real files with answers
 * computed by hand in the tests.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expandRunsUnchecked } from "../../src/sweep/expand.js";
import { runDirOf, writeManifest } from "../../src/sweep/layout.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { appendJsonl, writeJsonAtomic } from "../../src/util/fs.js";

/** testTop1 per (depth, attention, seed); one run diverged, one never finished. */
export const ACC: Record<string, number | "diverged" | "missing"> = {
  "20,none,1": 0.91,
  "20,none,2": 0.92,
  "20,none,3": 0.94,
  "20,se,1": 0.93,
  "20,se,2": 0.935,
  "20,se,3": "diverged",
  "32,none,1": 0.925,
  "32,none,2": 0.931,
  "32,none,3": 0.929,
  "32,se,1": 0.94,
  "32,se,2": 0.946,
  "32,se,3": "missing",
};

/** Writes the fixture sweep into a new temp folder and returns it. */
export function writeFixtureSweep(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-report-"));
  const spec = checkSweepShape({
    name: "fixture",
    base: { model: "resnet20", epochs: 3 },
    grid: { depth: [20, 32], attention: ["none", "se"] },
    seeds: [1, 2, 3],
    paper: [
      { where: { depth: 20, attention: "se" }, metric: "testTop1", value: 0.95, source: "T1" },
      { where: { attention: "none" }, metric: "testTop1", value: 0.9, source: "T2" },
    ],
  });
  const runs = expandRunsUnchecked(spec);
  writeManifest(dir, spec, runs);
  for (const run of runs) {
    const key = `${run.overrides.depth},${run.overrides.attention},${run.seed}`;
    const acc = ACC[key]!;
    if (acc === "missing") continue;
    const rd = runDirOf(dir, run.id);
    writeJsonAtomic(path.join(rd, "config.json"), run.config);
    for (let e = 1; e <= 3; e++) {
      const top1 = acc === "diverged" ? (e < 3 ? 0.5 : null) : acc - (3 - e) * 0.1;
      appendJsonl(path.join(rd, "metrics.jsonl"), { epoch: e, testTop1: top1, trainLoss: 3 - e });
    }
    writeJsonAtomic(path.join(rd, "summary.json"), {
      status: acc === "diverged" ? "diverged" : "completed",
      epochs: acc === "diverged" ? 2 : 3,
      testTop1: acc === "diverged" ? null : acc,
      divergedAt: acc === "diverged" ? { epoch: 3, step: 1 } : null,
      params: Number(run.overrides.depth) * 1000 + (run.overrides.attention === "se" ? 50 : 0),
    });
  }
  return dir;
}
