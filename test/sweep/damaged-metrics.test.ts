/**
 * Issue 14, item 2: a finished run whose metrics.jsonl was truncated afterwards is damaged (its
 * summary records the file's record count and checksum): status shows it, the table and the
 * curves leave it out and say so, resume moves it to .damaged/ and trains it again. A run
 * written before summaries carried the check is never called damaged.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCurves } from "../../src/report/load.js";
import { sweepTable } from "../../src/report/table.js";
import { expandRunsUnchecked } from "../../src/sweep/expand.js";
import { DAMAGED_DIR, runDirOf } from "../../src/sweep/layout.js";
import { runSweep } from "../../src/sweep/run-sweep.js";
import { checkSweepShape } from "../../src/sweep/spec.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { tinyBase } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-damaged-metrics-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const SPEC = {
  name: "damaged-metrics",
  base: tinyBase({ epochs: 2 }),
  grid: { attention: ["none", "se"] },
  seeds: [1],
};
const [A, B] = expandRunsUnchecked(checkSweepShape(SPEC)).map((r) => r.id) as [string, string];

async function sweep(out: string) {
  const lines: string[] = [];
  const r = await runSweep(SPEC, {
    outDir: out,
    workers: 1,
    backend: "wasm",
    log: (l) => lines.push(l),
  });
  return { ...r, lines };
}

describe("a truncated metrics.jsonl of a finished run", () => {
  const out = path.join(root, "sweep");

  it("is damaged in status, left out of table and curves, and retrained on resume", async () => {
    const first = await sweep(out);
    expect(first.counts.completed, first.lines.join("\n")).toBe(2);
    const summaryA = JSON.parse(
      fs.readFileSync(path.join(runDirOf(out, A), "summary.json"), "utf8"),
    );
    expect(summaryA.metricsFile.lines).toBe(2);
    const metricsA = path.join(runDirOf(out, A), "metrics.jsonl");
    // Cut after the first record: readJsonl reads one whole epoch, as if the run had one.
    const text = fs.readFileSync(metricsA, "utf8");
    fs.writeFileSync(metricsA, text.slice(0, text.indexOf("\n") + 1));

    const a = sweepStatus(out).runs.find((r) => r.id === A)!;
    expect(a.state).toBe("damaged");
    expect(a.error).toBe(
      `"${metricsA}" is damaged: truncated: it holds 1 epoch record (${text.indexOf("\n") + 1} bytes), but summary.json records 2 with sha256 ${summaryA.metricsFile.sha256.slice(0, 12)}…`,
    );
    const t = sweepTable(out);
    expect(t.damaged.map((d) => d.id)).toEqual([A]);
    expect(t.caption).toContain(`left out 1 damaged run(s): ${A}`);
    expect(t.runs.columns).not.toContain("metricsFile_lines");
    const told: string[] = [];
    const curves = loadCurves(out, { onDamaged: (d) => told.push(`${d.id}: ${d.reason}`) });
    expect(told).toEqual([`${A}: ${a.error}`]);
    expect(new Set(curves["id"].values)).toEqual(new Set([B]));

    const again = await sweep(out);
    expect(again.counts.completed, again.lines.join("\n")).toBe(1);
    expect(
      again.lines.some((l) => l.includes(`run ${A} is damaged`) && l.includes("moved it to")),
    ).toBe(true);
    const kept = fs.readdirSync(path.join(out, DAMAGED_DIR)).find((m) => m.startsWith(`${A}.`))!;
    expect(fs.readFileSync(path.join(out, DAMAGED_DIR, kept, "metrics.jsonl"), "utf8")).toBe(
      text.slice(0, text.indexOf("\n") + 1),
    );
    // Retrained from scratch: the same numbers (timings aside) and both epochs again.
    const top1 = (t: string) =>
      t
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).testTop1);
    expect(top1(fs.readFileSync(metricsA, "utf8"))).toEqual(top1(text));
    expect(sweepStatus(out).counts).toMatchObject({ done: 2, damaged: 0 });
  });

  it("a run finished before summaries recorded the check is not damaged", () => {
    const file = path.join(runDirOf(out, B), "summary.json");
    const { metricsFile: _c, ...old } = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(file, JSON.stringify(old));
    const metricsB = path.join(runDirOf(out, B), "metrics.jsonl");
    fs.writeFileSync(metricsB, fs.readFileSync(metricsB, "utf8").split("\n")[0]!);
    expect(sweepStatus(out).counts).toMatchObject({ done: 2, damaged: 0 });
    expect(sweepTable(out).damaged).toEqual([]);
  });
});
