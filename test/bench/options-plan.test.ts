/**
 * The onednn-bf16 target and the inference throughput workload in the options and the plan:
 * validation errors quote the bad value and list what is allowed, onednn-bf16 is in the default
 * targets right after onednn, and the batch-32 throughput workload is planned where it can run
 * and skipped with a reason (in its own group) where it cannot.
 */
import { describe, expect, it } from "vitest";
import { resolveBenchOptions } from "../../src/bench/options.js";
import {
  BENCH_BACKENDS,
  backendOf,
  ONEDNN_BF16,
  planWorkloads,
  THROUGHPUT_SKIP,
  targetPrecision,
  throughputBatch,
} from "../../src/bench/plan.js";
import { ConfigError } from "../../src/errors.js";

describe("bench options: onednn-bf16 and the throughput batch", () => {
  it("lists onednn-bf16 right after onednn, in the defaults too (without the cpu backend)", () => {
    expect(BENCH_BACKENDS.indexOf(ONEDNN_BF16)).toBe(BENCH_BACKENDS.indexOf("onednn") + 1);
    const d = resolveBenchOptions({});
    expect(d.backends).toContain(ONEDNN_BF16);
    expect(d.backends).not.toContain("cpu");
    expect(d.backends.indexOf(ONEDNN_BF16)).toBe(d.backends.indexOf("onednn") + 1);
    // Named alone, onednn-bf16 is the only tfjs target; naming onednn alone leaves it out.
    expect(resolveBenchOptions({ backends: [ONEDNN_BF16] }).backends).toEqual([ONEDNN_BF16]);
    expect(resolveBenchOptions({ backends: ["onednn"] }).backends).toEqual(["onednn"]);
    expect(backendOf(ONEDNN_BF16)).toBe("onednn");
    expect(backendOf("wasm")).toBe("wasm");
    expect(targetPrecision(ONEDNN_BF16)).toBe("bf16");
    expect(targetPrecision("pytorch-bf16")).toBe("bf16");
    expect(targetPrecision("onednn")).toBe("fp32");
  });

  it("refuses an unknown target quoting it and listing the allowed ones, onednn-bf16 among them", () => {
    const bad = () => resolveBenchOptions({ backends: ["onednn", "onednn-fp16"] as never });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(
      `bench option backends: unknown backend "onednn-fp16"; allowed: ${BENCH_BACKENDS.join(", ")}`,
    );
    expect(BENCH_BACKENDS).toContain("onednn-bf16");
  });

  it("validates inferThroughputBatch: an integer >= 1 or null, default 32", () => {
    expect(resolveBenchOptions({}).inferThroughputBatch).toBe(32);
    expect(resolveBenchOptions({ inferThroughputBatch: null }).inferThroughputBatch).toBeNull();
    expect(() => resolveBenchOptions({ inferThroughputBatch: 0 })).toThrow(
      "bench option inferThroughputBatch must be an integer >= 1 or null; got 0",
    );
    expect(() => resolveBenchOptions({ inferThroughputBatch: "32" as never })).toThrow(
      'bench option inferThroughputBatch must be an integer >= 1 or null; got "32"',
    );
  });
});

describe("bench plan: the throughput workload", () => {
  const opts = (extra: Record<string, unknown> = {}) =>
    resolveBenchOptions({
      trainModels: ["resnet20"],
      inferModels: ["resnet50", "se_resnet50"],
      sweepBatches: [],
      ...extra,
    });

  it("times the first inference model at the throughput batch in the infer group", () => {
    const o = opts();
    const { run } = planWorkloads(o, ONEDNN_BF16);
    const tp = run.find((w) => w.id === `infer:resnet50:b${o.inferThroughputBatch}`);
    expect(tp).toMatchObject({ kind: "infer", group: "infer", model: "resnet50", batch: 32 });
    // Fewer calls per round than the batch-1 latency workloads (each call is 32 images)…
    const latency = run.find((w) => w.id === "infer:resnet50")!;
    expect(tp!.plan.steps).toBeLessThan(latency.plan.steps);
    // …and the steps/warmup options still override both.
    const fixed = planWorkloads(opts({ steps: 4, warmup: 0 }), "onednn").run;
    expect(fixed.find((w) => w.id === "infer:resnet50:b32")!.plan).toMatchObject({
      steps: 4,
      warmup: 0,
    });
    expect(run.map((w) => w.id)).toEqual([
      "train:resnet20",
      "infer:resnet50",
      "infer:se_resnet50",
      "infer:resnet50:b32",
    ]);
    // onednn-bf16 plans exactly what onednn does, and PyTorch too.
    expect(planWorkloads(o, "onednn").run.map((w) => w.id)).toEqual(run.map((w) => w.id));
    expect(planWorkloads(o, "pytorch-bf16").run.map((w) => w.id)).toEqual(run.map((w) => w.id));
  });

  it("has none when turned off, without inference models, or at the latency batch", () => {
    expect(throughputBatch(opts({ inferThroughputBatch: null }))).toBeNull();
    expect(throughputBatch(opts({ inferThroughputBatch: 1 }))).toBeNull();
    expect(throughputBatch(opts({ inferModels: [] }))).toBeNull();
    expect(throughputBatch(opts({ inferThroughputBatch: 8 }))).toBe(8);
    const ids = planWorkloads(opts({ inferThroughputBatch: null }), "onednn").run.map((w) => w.id);
    expect(ids.some((id) => /:b\d+$/.test(id))).toBe(false);
  });

  it("skips it on the cpu backend always and on wasm under --quick, with the reason", () => {
    const cpu = planWorkloads(opts(), "cpu");
    expect(cpu.run.map((w) => w.id)).not.toContain("infer:resnet50:b32");
    expect(cpu.skipped.find((s) => s.id === "infer:resnet50:b32")).toMatchObject({
      group: "infer",
      reason: THROUGHPUT_SKIP.cpu,
    });
    const wasmQuick = planWorkloads(opts({ quick: true }), "wasm");
    expect(wasmQuick.skipped.find((s) => s.id === "infer:resnet50:b32")).toMatchObject({
      group: "infer",
      reason: THROUGHPUT_SKIP.quick,
    });
    expect(planWorkloads(opts(), "wasm").run.map((w) => w.id)).toContain("infer:resnet50:b32");
  });
});
