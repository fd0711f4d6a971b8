/**
 * The benchmark harness end to end on a tiny configuration (cpu backend in a child process,
 * PyTorch when the system python has it, 2 steps of 8×8 networks): it checks the result file's
 * schema and that ratios are consistent with the medians. It asserts nothing about speed.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkBenchReport } from "../../src/bench/report.js";
import { runBench } from "../../src/bench/run.js";
import { ConfigError } from "../../src/errors.js";

const TINY = {
  backends: ["cpu", "wasm"],
  trainModels: ["resnet20", "se_resnet20", "sge_resnet20"],
  inferModels: ["resnet50"],
  trainOverrides: { depth: 8, width: 4, inputShape: [8, 8, 3] },
  inferOverrides: { width: 4, inputShape: [32, 32, 3] },
  trainBatch: 2,
  steps: 2,
  warmup: 1,
  threads: 1,
} as const;

describe("runBench", () => {
  it("rejects unknown options and models before starting anything", async () => {
    await expect(runBench({ quick: true, colour: "red" })).rejects.toThrow(ConfigError);
    await expect(runBench({ trainModels: ["resnet21"], outDir: null })).rejects.toThrow(/resnet21/);
    await expect(runBench({ backends: ["gpu"] as never, outDir: null })).rejects.toThrow(/gpu/);
  });

  it("runs a tiny configuration end to end and writes a schema-valid report", async () => {
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
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(report)));

    const names = report.targets.map((t) => t.name);
    expect(names).toEqual(["pytorch", "cpu", "wasm"]);
    for (const name of ["cpu", "wasm"]) {
      const t = report.targets.find((x) => x.name === name)!;
      expect(t.available, t.reason).toBe(true);
      expect(t.workloads.map((w) => [w.id, w.status])).toEqual([
        ["train:resnet20", "ok"],
        ["train:se_resnet20", "ok"],
        ["train:sge_resnet20", "ok"],
        ["infer:resnet50", "ok"],
      ]);
      for (const w of t.workloads) {
        expect(w.timing!.n).toBe(2);
        expect(w.imagesPerSecond).toBeCloseTo((w.batch * 1000) / w.medianMs!, 6);
        expect(w.numTensorsLeaked).toBe(0);
      }
      const [plain, se, sge] = t.workloads;
      expect(t.overheads.seTrain).toBeCloseTo(se!.medianMs! / plain!.medianMs!, 9);
      expect(t.overheads.sgeTrain).toBeCloseTo(sge!.medianMs! / plain!.medianMs!, 9);
      expect(t.processPeakRssMiB).toBeGreaterThan(0);
    }
    // Progress came from the children.
    expect(lines.some((l) => l.includes("[bench cpu] train:resnet20"))).toBe(true);

    const torch = report.targets[0]!;
    if (torch.available) {
      expect(torch.workloads.every((w) => w.status === "ok")).toBe(true);
      const cpuPlain = report.targets[1]!.workloads[0]!;
      const torchPlain = torch.workloads[0]!;
      expect(cpuPlain.speedVsPytorch).toBeCloseTo(
        cpuPlain.imagesPerSecond! / torchPlain.imagesPerSecond!,
        9,
      );
      expect(report.versions.torch).toMatch(/^\d+\.\d+/);
    } else {
      expect(torch.reason).toBeTruthy();
      expect(report.targets[1]!.workloads[0]!.speedVsPytorch).toBeNull();
    }
  });
});
