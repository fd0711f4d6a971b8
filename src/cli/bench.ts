/** `senet-lab bench`: the tfjs backends against PyTorch (issue #5); see src/bench/. */
import path from "node:path";
import type { BenchOptions } from "../bench/options.js";
import { BENCH_BACKENDS, type BenchBackend } from "../bench/plan.js";
import { ConfigError, quote } from "../errors.js";
import { type CommandSpec, int, str } from "./command.js";

/** The bench command: flags map onto BenchOptions. */
export const benchCommand: CommandSpec = {
  name: "bench",
  summary:
    "Train ResNet-20/SE/SGE (batch 64, plus a batch sweep) and time ResNet-50/SE inference (batch 1, and ResNet-50 at batch 32 for throughput) on every backend, onednn at bf16 mixed precision (onednn-bf16) and in PyTorch (fp32 and autocast bf16), alternating round by round; print ratios with 95 % intervals, matmul and conv peaks and kernel calls per step; write results/bench/<date>.json.",
  flags: {
    quick: {
      type: "boolean",
      description:
        "8 short rounds per group, cut to fit ~3 minutes (at least 2); skips the pure-JS cpu backend.",
    },
    json: { type: "boolean", description: "Print the result JSON instead of the table." },
    backends: {
      type: "string",
      valueName: "LIST",
      description: `Comma-separated tfjs targets: backends, and onednn-bf16 (onednn at bf16 mixed precision) (default: ${BENCH_BACKENDS.filter((b) => b !== "cpu").join(",")}; the pure-JS cpu backend, minutes per training step, only when named).`,
    },
    out: {
      type: "string",
      valueName: "DIR",
      description: "Folder for <date>.json (default results/bench).",
    },
    "no-write": { type: "boolean", description: "Do not write the result file." },
    "no-torch": { type: "boolean", description: "Skip the PyTorch reference run." },
    steps: {
      type: "string",
      valueName: "N",
      description: "Timed steps per round of each workload (overrides the mode's default).",
    },
    rounds: {
      type: "string",
      valueName: "N",
      description:
        "Rounds per group (>= 2; default 12, --quick 8): more rounds, narrower intervals.",
    },
    sweep: {
      type: "string",
      valueName: "LIST",
      description:
        'Comma-separated batch sizes of the ResNet-20 training sweep (default 32,64,128,256; "none": off).',
    },
    throughput: {
      type: "string",
      valueName: "N",
      description:
        'Batch of the ResNet-50 inference throughput workload (images/s; default 32; "none": off).',
    },
    "no-bf16": {
      type: "boolean",
      description: "Skip the second PyTorch peer (torch.autocast bfloat16).",
    },
    "leak-check": {
      type: "string",
      valueName: "N",
      description:
        "Also run N training steps per backend and record numTensors/RSS (the issue's check: 1000).",
    },
  },
  run: async (flags) => {
    const { runBench } = await import("../bench/run.js");
    const { formatBenchTable } = await import("../bench/report.js");
    const opts: Partial<BenchOptions> = { quick: flags.quick === true };
    const list = str(flags, "backends");
    if (list !== undefined) {
      const names = list
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      for (const n of names) {
        if (!(BENCH_BACKENDS as readonly string[]).includes(n)) {
          throw new ConfigError(
            `--backends: unknown backend ${quote(n)}; allowed: ${BENCH_BACKENDS.join(", ")}`,
          );
        }
      }
      opts.backends = names as BenchBackend[];
    }
    const out = str(flags, "out");
    if (flags["no-write"] === true) opts.outDir = null;
    else if (out !== undefined) opts.outDir = path.resolve(out);
    if (flags["no-torch"] === true) opts.torch = false;
    const rounds = int(flags, "rounds", 2);
    if (rounds !== undefined) opts.rounds = rounds;
    const sweep = str(flags, "sweep");
    if (sweep !== undefined) {
      const parts = sweep.trim() === "none" ? [] : sweep.split(",").map((s) => s.trim());
      opts.sweepBatches = parts.map((p) => {
        const n = Number(p);
        if (p === "" || !Number.isInteger(n) || n < 1) {
          throw new ConfigError(
            `--sweep: batch size ${quote(p)} is not an integer >= 1; allowed: comma-separated integers >= 1 (e.g. 32,64,128,256) or "none"`,
          );
        }
        return n;
      });
    }
    const throughput = str(flags, "throughput");
    if (throughput !== undefined) {
      const n = Number(throughput);
      if (throughput.trim() === "none") opts.inferThroughputBatch = null;
      else if (throughput.trim() !== "" && Number.isInteger(n) && n >= 1) {
        opts.inferThroughputBatch = n;
      } else {
        throw new ConfigError(
          `--throughput: batch ${quote(throughput)} is not an integer >= 1; allowed: an integer >= 1 (e.g. 32) or "none"`,
        );
      }
    }
    if (flags["no-bf16"] === true) opts.torchBf16 = false;
    const steps = int(flags, "steps");
    if (steps !== undefined) opts.steps = steps;
    const leak = int(flags, "leak-check", 2);
    if (leak !== undefined) opts.leakCheck = leak;
    const { report, file } = await runBench(opts);
    if (flags.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`${formatBenchTable(report)}\n${file ? `\nwrote ${file}\n` : ""}`);
    const failed = report.targets.some((t) => t.workloads.some((w) => w.status === "failed"));
    return failed ? 1 : 0;
  },
};
