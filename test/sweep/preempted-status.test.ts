/** Issue 14, item 12: a run recorded as preempted shows as "preempted" in status, with why. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { expandRunsUnchecked } from "../../src/sweep/expand.js";
import { recordFailure, writeManifest } from "../../src/sweep/layout.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { tinyBase } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-preempted-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

it("status shows a preempted run apart from failed ones", () => {
  const spec = checkSweepShape({
    name: "p",
    base: tinyBase(),
    grid: { attention: ["none", "se"] },
    seeds: [1],
  });
  const runs = expandRunsUnchecked(spec);
  writeManifest(root, spec, runs);
  const why = `preempted: "${root}/x": stopped by SIGTERM after 1 epoch and 13 steps; checkpoint written, it resumes there`;
  recordFailure(root, runs[0]!.id, why, { preempted: true });
  recordFailure(root, runs[1]!.id, "exit status 1");
  const s = sweepStatus(root);
  expect(s.runs.map((r) => r.state)).toEqual(["preempted", "failed"]);
  expect(s.runs[0]!.error).toBe(why);
  expect(s.counts).toMatchObject({ preempted: 1, failed: 1 });
});
