/**
 * Report arithmetic on synthetic per-round timings: per-round images/s, paired ratios to both
 * PyTorch peers with t intervals, overheads paired within a round, FLOP fractions, goals judged
 * on interval ends, statuses, the schema check (and that the committed schema-1 files still
 * pass it), and the printed interval line.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { timingStats } from "../../src/bench/measure.js";
import type { Workload } from "../../src/bench/plan.js";
import {
  BENCH_GOALS,
  BENCH_SCHEMA,
  buildTargets,
  checkBenchReport,
  judgeGoals,
  type RawTarget,
} from "../../src/bench/report.js";
import { ratioInterval } from "../../src/bench/stats.js";
import { presetConfig } from "../../src/models/index.js";

function wl(kind: "train" | "infer", model: string, batch: number): Workload {
  return {
    id: `${kind}:${model}`,
    kind,
    group: kind,
    model,
    config: presetConfig(model),
    batch,
    plan: { warmup: 1, steps: 2, minSteps: 2, budgetSeconds: null },
    prepareWarmup: 1,
    maxRounds: null,
    lr: 0.1,
    momentum: 0.9,
  };
}

const planned = [
  wl("train", "resnet20", 64),
  wl("train", "se_resnet20", 64),
  wl("infer", "resnet50", 1),
];
const raw = (
  name: RawTarget["name"],
  rounds: Record<string, (number[] | null)[]>,
  extra: Partial<RawTarget> = {},
): RawTarget => ({
  name,
  available: true,
  planned,
  skipped: [],
  rounds,
  errors: {},
  groupPeakRssMiB: { train: 100, infer: 50 },
  groupTensorsLeaked: {},
  ...extra,
});

describe("bench report", () => {
  it("timingStats gives the median, range and relative IQR", () => {
    const s = timingStats([5, 1, 3, 2, 4]);
    expect(s).toEqual({ n: 5, medianMs: 3, minMs: 1, maxMs: 5, relIqr: 2 / 3 });
    expect(() => timingStats([])).toThrow();
  });

  it("pairs rounds: per-round images/s, ratios to both peers, overheads, FLOP fractions", () => {
    // PyTorch: 100 ms/step in round 0, 200 ms in round 1 (the machine slowed down for both).
    const targets = buildTargets(
      [
        raw("pytorch", {
          "train:resnet20": [
            [100, 100],
            [200, 200],
            [100, 100],
          ],
          "train:se_resnet20": [
            [150, 150],
            [300, 300],
            [150, 150],
          ],
          "infer:resnet50": [[40], [40], [40]],
        }),
        raw("pytorch-bf16", {
          "train:resnet20": [
            [50, 50],
            [100, 100],
            [50, 50],
          ],
          "train:se_resnet20": [
            [75, 75],
            [150, 150],
            [75, 75],
          ],
          "infer:resnet50": [[20], [20], [20]],
        }),
        raw(
          "wasm",
          {
            "train:resnet20": [
              [90, 110],
              [180, 220],
              [100, 100],
            ],
            "train:se_resnet20": [[100, 100], [200, 200], null],
            "infer:resnet50": [[20], [20], [20]],
          },
          { errors: { "train:se_resnet20": "boom" } },
        ),
        raw(
          "onednn",
          {
            "train:resnet20": [
              [80, 80],
              [160, 160],
              [80, 80],
            ],
            "train:se_resnet20": [
              [84, 84],
              [168, 168],
              [88, 88],
            ],
            "infer:resnet50": [[40], [40], [40]],
          },
          { groupTensorsLeaked: { train: 0 } },
        ),
        { ...raw("cpu", {}), available: false, reason: "not built" },
      ],
      { "train:resnet20": 1e9, "train:se_resnet20": 1e9, "infer:resnet50": 1e10 },
      { fp32: 1e12, bf16: 4e12 },
    );
    const [torch, bf16, wasm, onednn, cpu] = targets;
    // Round figures: 64 images × 2 steps / 0.2 s = 640 img/s; the median over rounds is 640.
    expect(torch!.workloads[0]!.rounds).toEqual([640, 320, 640]);
    expect(torch!.workloads[0]!.imagesPerSecond).toBeCloseTo(640, 9);
    expect(torch!.overheads.seTrain).toBeCloseTo(1.5, 9);
    expect(torch!.overheads.intervals["train:se_resnet20"]!.n).toBe(3);
    expect(torch!.overheads.intervals["train:se_resnet20"]!.mean).toBeCloseTo(1.5, 12);
    // The drift between rounds cancels in the pairing: onednn is 1.25× in every round.
    const v = onednn!.workloads[0]!.vsPytorch!;
    expect(v.mean).toBeCloseTo(1.25, 9);
    expect(v.lo).toBeCloseTo(1.25, 9);
    expect(v.hi).toBeCloseTo(1.25, 9);
    expect(onednn!.workloads[0]!.vsPytorchBf16!.mean).toBeCloseTo(0.625, 9);
    expect(onednn!.workloads[0]!.speedVsPytorch).toBeCloseTo(1.25, 9);
    expect(onednn!.workloads[0]!.timeVsPytorch).toBeCloseTo(0.8, 9);
    // SE overhead per round: 1.05, 1.05, 1.1.
    const want = ratioInterval([84 / 80, 168 / 160, 88 / 80]);
    const got = onednn!.overheads.intervals["train:se_resnet20"]!;
    for (const k of ["mean", "lo", "hi"] as const) expect(got[k]).toBeCloseTo(want[k], 12);
    expect(onednn!.workloads[0]!.numTensorsLeaked).toBe(0);
    // FLOP: 1e9 per image × 800 img/s = 8e11 = 80 % of the fp32 peak; bf16 peer against bf16.
    expect(onednn!.workloads[0]!.flops).toMatchObject({
      achieved: 8e11,
      peakDtype: "fp32",
      fractionOfPeak: 0.8,
    });
    expect(bf16!.workloads[0]!.flops).toMatchObject({ peakDtype: "bf16", fractionOfPeak: 0.32 });
    // A round's mean time counts (90 + 110 → 100 ms): wasm equals PyTorch in round 0.
    expect(wasm!.workloads[0]!.rounds![0]).toBeCloseTo(640, 9);
    expect(wasm!.workloads[1]).toMatchObject({ status: "failed", reason: "boom" });
    expect(wasm!.overheads.seTrain).toBeNull();
    expect(wasm!.workloads[2]!.timeVsPytorch).toBeCloseTo(0.5, 9);
    expect(cpu!.workloads.every((w) => w.status === "skipped")).toBe(true);

    const goals = judgeGoals(targets, [
      ...BENCH_GOALS,
      {
        what: "trains resnet20 at least as fast as PyTorch",
        target: "onednn",
        workload: "train:resnet20",
        measure: "vsPytorch",
        op: ">=",
        value: 1,
      },
      {
        what: "trains resnet20 at least as fast as PyTorch bf16",
        target: "onednn",
        workload: "train:resnet20",
        measure: "vsPytorchBf16",
        op: ">=",
        value: 1,
      },
    ]);
    const byWhat = (s: string) => goals.find((g) => g.what.includes(s) && g.target === "onednn")!;
    expect(byWhat("trains resnet20 at least as fast as PyTorch")).toMatchObject({
      met: true,
      op: ">=",
    });
    expect(byWhat("as fast as PyTorch bf16")).toMatchObject({ met: false }); // 0.625×
    // Overhead ≈ 1.066× [0.99, 1.14]: the mean is under 1.10 but the upper end is not.
    const oh = byWhat("SE training overhead");
    expect(oh.interval!.mean).toBeLessThan(1.1);
    expect(oh.interval!.hi).toBeGreaterThan(1.1);
    expect(oh.met).toBe(false);
    expect(byWhat("SGE training overhead").met).toBeNull(); // no SGE workload in this run
  });

  it("checkBenchReport names what is missing and still reads the committed schema-1 files", () => {
    expect(checkBenchReport(null)).toEqual(["report is not an object"]);
    const problems = checkBenchReport({ schema: "x", targets: [] });
    expect(problems).toContain(
      "schema must be senet-lab/bench@3 (or senet-lab/bench@2, senet-lab/bench@1)",
    );
    expect(problems).toContain("targets must be a non-empty list");
    expect(checkBenchReport({ schema: "senet-lab/bench@2" })).toContain(
      "schedule must list the timed bursts",
    );
    // Schema 3 needs what it adds; schema 2 files do not.
    const v3 = checkBenchReport({ schema: BENCH_SCHEMA, peak: { measurements: [{}], fp32: 1 } });
    expect(v3).toContain(
      "peak.conv must give the fp32 and bf16 conv peaks (null where not measured)",
    );
    expect(v3).toContain('every peak measurement must say its op ("matmul" or "conv")');
    expect(
      checkBenchReport({ schema: "senet-lab/bench@2", peak: { measurements: [], fp32: 1 } }),
    ).not.toContain("peak.conv must give the fp32 and bf16 conv peaks (null where not measured)");
    const dir = path.join(__dirname, "..", "..", "results", "bench");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
      expect(checkBenchReport(r), f).toEqual([]);
    }
  });

  it("onednn-bf16: ratios to both peers, bf16 FLOP fractions of both peaks, kernel calls", () => {
    const kc = { total: 7, byName: { Conv2D: 4, Relu: 3 } };
    const targets = buildTargets(
      [
        raw("pytorch", { "train:resnet20": [[100], [200]], "train:se_resnet20": [[100], [200]] }),
        raw("pytorch-bf16", {
          "train:resnet20": [[50], [100]],
          "train:se_resnet20": [[50], [100]],
        }),
        raw("onednn", { "train:resnet20": [[80], [160]], "train:se_resnet20": [[80], [160]] }),
        raw(
          "onednn-bf16",
          { "train:resnet20": [[40], [80]], "train:se_resnet20": [[50], [100]] },
          { kernelCalls: { "train:resnet20": kc } },
        ),
      ],
      { "train:resnet20": 1e9 },
      { fp32: 1e12, bf16: 4e12, conv: { fp32: 5e11, bf16: 2e12 } },
    );
    const [, , onednn, bf16] = targets;
    const w = bf16!.workloads[0]!;
    // 64 images / 40 ms = 1600 img/s: 2.5× PyTorch fp32, 1.25× PyTorch bf16, in both rounds.
    expect(w.vsPytorch!.mean).toBeCloseTo(2.5, 9);
    expect(w.vsPytorchBf16!.mean).toBeCloseTo(1.25, 9);
    // Median of 1600 and 800 img/s = 1200: 1.2e12 FLOP/s, 30 % of the bf16 matmul peak, 60 % of the bf16 conv one.
    expect(w.flops).toMatchObject({ peakDtype: "bf16", peak: 4e12, convPeak: 2e12 });
    expect(w.flops!.fractionOfPeak).toBeCloseTo(0.3, 12);
    expect(w.flops!.fractionOfConvPeak).toBeCloseTo(0.6, 12);
    // onednn (fp32): median 600 img/s = 6e11 against the fp32 conv peak 5e11 (120 %: the conv shape is no bound).
    expect(onednn!.workloads[0]!.flops!.fractionOfConvPeak).toBeCloseTo(1.2, 12);
    expect(w.kernelCallsPerStep).toEqual(kc);
    expect(onednn!.workloads[0]!.kernelCallsPerStep).toBeUndefined();
    // Its own SE overhead, paired within its rounds: 50 / 40 = 1.25.
    expect(bf16!.overheads.seTrain).toBeCloseTo(1.25, 9);

    const goals = judgeGoals(targets);
    const on = (target: string, measure: string) =>
      goals.filter((g) => g.target === target && g.measure === measure);
    // Every goal says which target it was judged on; these on their own target.
    expect(goals.every((g) => g.judgedOn === g.target && g.fallbackReason === undefined)).toBe(
      true,
    );
    expect(on("onednn", "vsPytorch")[0]).toMatchObject({ value: 1.5, met: false }); // 1.25×
    expect(on("onednn-bf16", "vsPytorch")[0]).toMatchObject({ value: 1.5, met: true }); // 2.5×
    expect(on("onednn-bf16", "vsPytorchBf16")[0]).toMatchObject({ value: 1, met: true }); // 1.25×
    expect(on("onednn-bf16", "overhead")[0]!.interval!.mean).toBeCloseTo(1.25, 9);
    expect(on("onednn-bf16", "overhead")[0]!.met).toBe(false);
    expect(on("onednn", "overhead")[0]!.met).toBe(true); // 1.0×
  });

  it("judges the bf16-peer goal on onednn where onednn-bf16 did not run, saying why", () => {
    const rounds = { "train:resnet20": [[100], [200]], "train:se_resnet20": [[100], [200]] };
    const fast = { "train:resnet20": [[40], [80]], "train:se_resnet20": [[40], [80]] };
    const slow = { "train:resnet20": [[200], [400]], "train:se_resnet20": [[200], [400]] };
    const targets = buildTargets([
      raw("pytorch", rounds),
      raw("pytorch-bf16", rounds),
      raw("onednn", fast),
      {
        ...raw("onednn-bf16", slow),
        available: false,
        reason: "this CPU has no bf16 instructions",
      },
    ]);
    const goal = judgeGoals(targets).find((g) => g.measure === "vsPytorchBf16")!;
    expect(goal).toMatchObject({ target: "onednn-bf16", fallback: "onednn", judgedOn: "onednn" });
    expect(goal.fallbackReason).toBe(
      "onednn-bf16 was unavailable (this CPU has no bf16 instructions); judged on onednn",
    );
    expect(goal.interval!.mean).toBeCloseTo(2.5, 9);
    expect(goal.met).toBe(true);
    // Goals without a fallback stay on their target and are not measured.
    const fp32 = judgeGoals(targets).find(
      (g) => g.target === "onednn-bf16" && g.measure === "vsPytorch",
    )!;
    expect(fp32).toMatchObject({ judgedOn: "onednn-bf16", met: null, interval: null });
    // Absent from the run, and a failed workload, fall back too, each with its reason.
    const absent = judgeGoals(targets.filter((t) => t.name !== "onednn-bf16"));
    expect(absent.find((g) => g.measure === "vsPytorchBf16")!.fallbackReason).toBe(
      "onednn-bf16 was not in this run; judged on onednn",
    );
    const failed = buildTargets([
      raw("pytorch-bf16", rounds),
      raw("onednn", fast),
      raw("onednn-bf16", slow, { errors: { "train:se_resnet20": "out of memory" } }),
    ]);
    const f = judgeGoals(failed).find((g) => g.measure === "vsPytorchBf16")!;
    expect(f.judgedOn).toBe("onednn");
    expect(f.fallbackReason).toBe(
      "onednn-bf16 train:se_resnet20 failed (out of memory); judged on onednn",
    );
    // With onednn-bf16 measured, the same goal is judged on it: 0.5× the peer, not met.
    const ran = judgeGoals(
      buildTargets([raw("pytorch-bf16", rounds), raw("onednn", fast), raw("onednn-bf16", slow)]),
    ).find((g) => g.measure === "vsPytorchBf16")!;
    expect(ran).toMatchObject({ judgedOn: "onednn-bf16", met: false });
    expect(ran.interval!.mean).toBeCloseTo(0.5, 9);
  });
});
