/**
 * The bench worker as a real child process (the one runBench starts): onednn-bf16 loads onednn
 * and computes its convolutions in bf16 (or is unavailable with bf16Support's reason), answers
 * the conv peak only at its own precision, and a prepared training workload reports its kernel
 * calls per step, the same count at both precisions (bf16 changes the arithmetic, not the graph).
 */
import { describe, expect, it } from "vitest";
import { resolveBenchOptions } from "../../src/bench/options.js";
import { planWorkloads } from "../../src/bench/plan.js";
import { WORKER_SCRIPT } from "../../src/bench/run.js";
import { MeasureProcess } from "../../src/bench/session.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

const start = (target: string) =>
  new MeasureProcess(
    target,
    process.execPath,
    ["--import", "tsx", WORKER_SCRIPT, "--serve", target],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SENET_LAB_QUIET: "1", SENET_LAB_THREADS: "1" },
    },
  );

const SHAPE = { batch: 1, size: 8, inChannels: 8, outChannels: 8, kernel: 3 };

describe("bench worker: onednn-bf16 and kernel calls", () => {
  it("runs onednn at bf16 (or says why not), conv peaks at its precision, counts kernels", async () => {
    const opts = resolveBenchOptions({
      trainModels: ["resnet20"],
      inferModels: [],
      trainOverrides: { depth: 8, width: 4, inputShape: [8, 8, 3] },
      trainBatch: 2,
      sweepBatches: [],
    });
    const work = planWorkloads(opts, "onednn").run;
    const fp32 = start("onednn");
    const bf16 = start("onednn-bf16");
    try {
      const i32 = await fp32.request({ cmd: "info" }, 120_000);
      const i16 = await bf16.request({ cmd: "info" }, 120_000);
      if (!i32.available) {
        // No onednn here: onednn-bf16 is unavailable with onednn's own reason.
        expect(i16.available).toBe(false);
        expect(i16.reason).toBe(i32.reason);
        return;
      }
      if (!i16.available) {
        expect(i16.reason).toMatch(/bf16|oneDNN/);
        return;
      }
      expect(i16.detail).toMatch(/bf16 mixed precision \(convolutions: .*bf16/);
      expect(i32.detail).not.toMatch(/bf16/);
      const peak = (p: MeasureProcess, dtype: "fp32" | "bf16") =>
        p.request({ cmd: "convPeak", shape: SHAPE, dtype, seconds: 0.05 }, 60_000);
      expect((await peak(fp32, "fp32")).flopPerSecond).toBeGreaterThan(0);
      expect(await peak(fp32, "bf16")).toMatchObject({
        ok: true,
        flopPerSecond: null,
        reason: "onednn convolutions run at fp32, not bf16",
      });
      expect((await peak(bf16, "bf16")).flopPerSecond).toBeGreaterThan(0);
      expect((await peak(bf16, "fp32")).reason).toBe(
        "onednn-bf16 convolutions run at bf16, not fp32",
      );
      const r32 = await fp32.request({ cmd: "prepare", workloads: work }, 120_000);
      const r16 = await bf16.request({ cmd: "prepare", workloads: work }, 120_000);
      expect(r32.errors).toEqual({});
      expect(r16.errors).toEqual({});
      const k32 = r32.kernelCalls!["train:resnet20"]!;
      const k16 = r16.kernelCalls!["train:resnet20"]!;
      expect(k32.total).toBeGreaterThan(0);
      expect(Object.values(k32.byName).reduce((a, b) => a + b, 0)).toBe(k32.total);
      // ResNet-8: 7 convolutions forward, each with its two gradients backward at least.
      const convs = (k32.byName.Conv2D ?? 0) + (k32.byName.FusedConv2D ?? 0);
      expect(convs).toBeGreaterThanOrEqual(7);
      expect(k32.byName.Conv2DBackpropFilter).toBe(convs);
      // Custom-gradient scopes (tf.customGrad's "…__op") dispatch kernels of their own: not counted.
      expect(Object.keys(k32.byName).filter((n) => n.endsWith("__op"))).toEqual([]);
      expect(k16).toEqual(k32);
      const round = await bf16.request({ cmd: "round", id: "train:resnet20" }, 60_000);
      expect(round.timesMs!.length).toBeGreaterThan(0);
    } finally {
      await fp32.close();
      await bf16.close();
    }
  }, 300_000);
});
