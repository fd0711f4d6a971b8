/** Report arithmetic on synthetic timings: ratios to PyTorch, overheads, statuses, schema check, table. */
import { describe, expect, it } from "vitest";
import { timingStats } from "../../src/bench/measure.js";
import type { Workload } from "../../src/bench/plan.js";
import { buildTargets, checkBenchReport } from "../../src/bench/report.js";
import { presetConfig } from "../../src/models/index.js";

function wl(kind: "train" | "infer", model: string, batch: number): Workload {
  return {
    id: `${kind}:${model}`,
    kind,
    model,
    config: presetConfig(model),
    batch,
    plan: { warmup: 1, steps: 3, minSteps: 3, budgetSeconds: null },
    lr: 0.1,
    momentum: 0.9,
  };
}

const planned = [
  wl("train", "resnet20", 64),
  wl("train", "se_resnet20", 64),
  wl("infer", "resnet50", 1),
];
const res = (id: string, timesMs: number[]) => ({
  id,
  timesMs,
  peakRssMiB: 100,
  numTensorsLeaked: 0,
});

describe("bench report", () => {
  it("timingStats gives the median, range and relative IQR", () => {
    const s = timingStats([5, 1, 3, 2, 4]);
    expect(s).toEqual({ n: 5, medianMs: 3, minMs: 1, maxMs: 5, relIqr: 2 / 3 });
    expect(() => timingStats([])).toThrow();
  });

  it("computes images/s, ratios to PyTorch and SE overhead from medians", () => {
    const targets = buildTargets([
      {
        name: "pytorch",
        available: true,
        planned,
        skipped: [],
        results: [
          res("train:resnet20", [100, 100, 100]),
          res("train:se_resnet20", [150, 140, 160]),
          res("infer:resnet50", [40, 40, 40]),
        ],
      },
      {
        name: "wasm",
        available: true,
        planned,
        skipped: [],
        results: [
          res("train:resnet20", [200, 210, 190]),
          {
            id: "train:se_resnet20",
            timesMs: [],
            peakRssMiB: null,
            numTensorsLeaked: 3,
            error: "boom",
          },
          res("infer:resnet50", [20, 20, 20]),
        ],
      },
      {
        name: "onednn",
        available: false,
        reason: "not built",
        planned,
        skipped: [],
        results: [],
      },
    ]);
    const [torch, wasm, onednn] = targets;
    expect(torch!.workloads[0]!.imagesPerSecond).toBeCloseTo(640, 9);
    expect(torch!.overheads.seTrain).toBeCloseTo(1.5, 9);
    expect(wasm!.workloads[0]!.speedVsPytorch).toBeCloseTo(0.5, 9);
    expect(wasm!.workloads[0]!.timeVsPytorch).toBeCloseTo(2, 9);
    expect(wasm!.workloads[1]).toMatchObject({ status: "failed", reason: "boom" });
    expect(wasm!.overheads.seTrain).toBeNull();
    expect(wasm!.workloads[2]!.timeVsPytorch).toBeCloseTo(0.5, 9);
    expect(onednn!.workloads.every((w) => w.status === "skipped")).toBe(true);
  });

  it("checkBenchReport names what is missing", () => {
    expect(checkBenchReport(null)).toEqual(["report is not an object"]);
    const problems = checkBenchReport({ schema: "x", targets: [] });
    expect(problems).toContain("schema must be senet-lab/bench@1");
    expect(problems).toContain("targets must be a non-empty list");
  });
});
