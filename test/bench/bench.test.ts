/**
 * The benchmark end to end on a tiny configuration, with real processes: PyTorch (both peers,
 * when the system python has torch) and the cpu and wasm backends, each one persistent process,
 * 2 rounds of 8×8 networks. It checks the recorded order (every round runs each workload on
 * every target in turn: A B A B …, never all of A's rounds first), that every round has every
 * side, the schema, and that ratios and overheads are the geometric means of the per-round figures. It
 * asserts nothing about speed.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkBenchReport, formatBenchTable } from "../../src/bench/report.js";
import { runBench } from "../../src/bench/run.js";
import { ConfigError } from "../../src/errors.js";

const TINY = {
  backends: ["cpu", "wasm"],
  trainModels: ["resnet20", "se_resnet20"],
  inferModels: ["resnet50"],
  trainOverrides: { depth: 8, width: 4, inputShape: [8, 8, 3] },
  inferOverrides: { width: 4, inputShape: [32, 32, 3] },
  trainBatch: 2,
  inferThroughputBatch: 2,
  sweepBatches: [1, 2],
  rounds: 2,
  steps: 2,
  warmup: 1,
  threads: 1,
} as const;

describe("runBench", () => {
  it("rejects unknown options and bad values before starting anything, quoting them", async () => {
    await expect(runBench({ quick: true, colour: "red" })).rejects.toThrow(ConfigError);
    await expect(runBench({ trainModels: ["resnet21"], outDir: null })).rejects.toThrow(/resnet21/);
    await expect(runBench({ backends: ["gpu"] as never, outDir: null })).rejects.toThrow(
      /unknown backend "gpu"; allowed: .*wasm/,
    );
    await expect(runBench({ rounds: 1, outDir: null })).rejects.toThrow(
      /bench option rounds must be an integer >= 2 or null; got 1/,
    );
    await expect(runBench({ sweepBatches: [32, 0], outDir: null })).rejects.toThrow(
      /bench option sweepBatches: batch size 0 is not an integer >= 1; allowed: integers >= 1/,
    );
    await expect(runBench({ sweepBatches: "32,64" as never, outDir: null })).rejects.toThrow(
      /sweepBatches must be a list of batch sizes .* or \[\]; got "32,64"/,
    );
    await expect(runBench({ torchBf16: "yes" as never, outDir: null })).rejects.toThrow(
      /bench option torchBf16 must be a boolean; got "yes"/,
    );
    await expect(runBench({ backends: ["onednn-bf32"] as never, outDir: null })).rejects.toThrow(
      /unknown backend "onednn-bf32"; allowed: .*onednn, onednn-bf16,/,
    );
  });

  it("alternates targets round by round with real processes and writes a schema-valid report", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-bench-"));
    const lines: string[] = [];
    const { report, file } = await runBench(
      { ...TINY, backends: [...TINY.backends], outDir: dir },
      { log: (l) => lines.push(l) },
    );
    expect(checkBenchReport(report)).toEqual([]);
    expect(file).toBe(path.join(dir, `${report.date}.json`));
    const onDisk = JSON.parse(fs.readFileSync(file!, "utf8"));
    expect(checkBenchReport(onDisk)).toEqual([]);

    const torchOk = report.targets[0]!.available;
    const sides = torchOk ? ["pytorch", "pytorch-bf16", "cpu", "wasm"] : ["cpu", "wasm"];
    expect(report.targets.map((t) => t.name)).toEqual(["pytorch", "pytorch-bf16", "cpu", "wasm"]);
    for (const t of report.targets.filter((x) => sides.includes(x.name))) {
      expect(t.available, t.reason).toBe(true);
    }
    expect(report.method.rounds).toEqual({ train: 2, sweep: 2, infer: 2 });

    // The recorded order: group by group (inference before the batch sweep), round by round, each
    // workload on every side in turn.
    const expected: string[] = [];
    const groups = [
      ["train", ["train:resnet20", "train:se_resnet20"]],
      ["infer", ["infer:resnet50", "infer:resnet50:b2"]],
      ["sweep", ["train:resnet20:b1"]],
    ] as const;
    for (const [group, ids] of groups) {
      for (const round of [0, 1]) {
        for (const id of ids) {
          for (const s of sides) {
            // The batch sweep and the throughput workload never run on the pure-JS cpu backend
            // (minutes per step at batch 256, per image at 224×224).
            const cpuSkips = group === "sweep" || id === "infer:resnet50:b2";
            if (!(cpuSkips && s === "cpu")) expected.push(`${group} ${round} ${id} ${s}`);
          }
        }
      }
    }
    expect(report.schedule.map((e) => `${e.group} ${e.round} ${e.id} ${e.target}`)).toEqual(
      expected,
    );
    // Every burst produced a figure, so every round has every side.
    expect(report.schedule.every((e) => e.imagesPerSecond! > 0)).toBe(true);

    for (const name of ["cpu", "wasm"]) {
      const t = report.targets.find((x) => x.name === name)!;
      expect(t.workloads.map((w) => [w.id, w.status])).toEqual([
        ["train:resnet20", "ok"],
        ["train:se_resnet20", "ok"],
        ["infer:resnet50", "ok"],
        ["infer:resnet50:b2", name === "cpu" ? "skipped" : "ok"],
        ["train:resnet20:b1", name === "cpu" ? "skipped" : "ok"],
      ]);
      // Kernel calls per step: every measured training workload, none for inference.
      for (const w of t.workloads.filter((x) => x.status === "ok")) {
        if (w.kind === "train") expect(w.kernelCallsPerStep!.total).toBeGreaterThan(0);
        else expect(w.kernelCallsPerStep).toBeUndefined();
      }
      for (const w of t.workloads.filter((x) => x.status === "ok")) {
        expect(w.rounds).toHaveLength(2);
        expect(w.timing!.n).toBe(4);
        expect(w.numTensorsLeaked).toBe(0);
        const perRound = report.schedule
          .filter((e) => e.target === name && e.id === w.id)
          .map((e) => e.imagesPerSecond);
        expect(w.rounds).toEqual(perRound);
        expect(w.flops!.perImage).toBeGreaterThan(0);
        expect(w.flops!.achieved).toBeCloseTo(w.flops!.perImage * w.imagesPerSecond!, 3);
      }
      // SE overhead: geometric mean of the two per-round time ratios, paired within the round.
      const [plain, se] = t.workloads;
      const r = [0, 1].map((i) => plain!.rounds![i]! / se!.rounds![i]!);
      expect(t.overheads.seTrain).toBeCloseTo(Math.sqrt(r[0]! * r[1]!), 9);
      expect(t.overheads.intervals["train:se_resnet20"]!.n).toBe(2);
      expect(t.processPeakRssMiB).toBeGreaterThan(0);
    }
    // Progress came from the children.
    expect(lines.some((l) => l.includes("[bench cpu] train:resnet20"))).toBe(true);
    expect(report.peak.measurements.some((m) => m.target === "wasm" && m.start! > 0)).toBe(true);

    const table = formatBenchTable(report);
    expect(table).toContain("batch sweep: train resnet20");
    expect(table).toMatch(/kernel calls per training step/);
    expect(table).toMatch(/infer resnet50 b2 .* img\/s/);
    // Goals name the target they were judged on (onednn not in this run: not measured).
    expect(report.goals.every((g) => g.judgedOn === (g.fallback ?? g.target))).toBe(true);
    // The conv peak is measured on PyTorch and the native targets only.
    expect(report.peak.measurements.some((m) => m.op === "conv" && m.target === "wasm")).toBe(
      false,
    );
    if (torchOk) {
      const cpuPlain = report.targets[2]!.workloads[0]!;
      const torchPlain = report.targets[0]!.workloads[0]!;
      const ratios = [0, 1].map((i) => cpuPlain.rounds![i]! / torchPlain.rounds![i]!);
      expect(cpuPlain.vsPytorch!.mean).toBeCloseTo(Math.sqrt(ratios[0]! * ratios[1]!), 9);
      expect(cpuPlain.vsPytorch!.n).toBe(2);
      expect(cpuPlain.vsPytorchBf16!.n).toBe(2);
      expect(report.versions.torch).toMatch(/^\d+\.\d+/);
      expect(report.peak.fp32).toBeGreaterThan(0);
      expect(report.peak.conv!.fp32).toBeGreaterThan(0);
      expect(cpuPlain.flops!.fractionOfConvPeak).toBeCloseTo(
        cpuPlain.flops!.achieved / report.peak.conv!.fp32!,
        12,
      );
      expect(table).toMatch(/cpu train:resnet20: ratio \d+\.\d\d× \[.*\] \(n = 2 rounds\)/);
      expect(report.targets[1]!.detail).toMatch(/autocast bf16/);
    } else {
      expect(report.targets[0]!.reason).toBeTruthy();
      expect(report.targets[2]!.workloads[0]!.vsPytorch).toBeNull();
    }
  }, 600_000);
});
