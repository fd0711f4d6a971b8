/**
 * bf16 mixed precision on the onednn backend (src/backend/precision.ts). Reference: a bf16
 * convolution must equal tfjs's own fp32 cpu kernel (a different implementation) run on the
 * same inputs rounded to bf16 (round to nearest even, as the CPU's vcvtneps2bf16): forward,
 * input gradient and filter gradient, to fp32 accumulation error (1e-5), where fp32 itself is
 * off by the rounding (> 1e-4). Without bf16 instructions the refusal is checked instead.
 * A run with precision "bf16" records it, trains, and leaves the caller's precision as it was;
 * on the cpu backend it is refused before any data is read.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bf16Support,
  checkPrecision,
  getPrecision,
  setPrecision,
} from "../../src/backend/precision.js";
import { ConfigError } from "../../src/errors.js";
import { runExperiment } from "../../src/train/run.js";
import { input, NATIVE, relDiff, runOn, setupOnednn } from "./onednn-support.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-precision-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** x rounded to the nearest bfloat16 (ties to even), back in a Float32Array. */
function roundBf16(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const u = new Uint32Array(out.buffer);
  out.set(x);
  for (let i = 0; i < u.length; i++) {
    const b = u[i]!;
    u[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
  }
  return out;
}

const cpuFlags = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
const HAS_BF16 = /\b(avx512_bf16|amx_bf16)\b/.test(cpuFlags);

describe("precision", () => {
  it("names a bad precision and what is allowed", () => {
    expect(() => checkPrecision("fp16")).toThrow(ConfigError);
    expect(() => checkPrecision("fp16")).toThrow(
      'precision must be one of "fp32", "bf16"; got "fp16"',
    );
  });

  it("refuses bf16 off the onednn backend, saying why", async () => {
    await tf.setBackend("cpu");
    expect(() => setPrecision("bf16")).toThrow(/bf16 needs the onednn backend.*"cpu"/);
    expect(getPrecision()).toBe("fp32");
  });
});

describe.skipIf(!NATIVE.built)("bf16 on onednn", () => {
  beforeAll(async () => {
    await setupOnednn();
  });

  it.skipIf(HAS_BF16)("is refused on a CPU without bf16 instructions", async () => {
    await tf.setBackend("onednn");
    expect(bf16Support().supported).toBe(false);
    expect(() => setPrecision("bf16")).toThrow(/no bf16 instructions/);
  });

  it.skipIf(!HAS_BF16)(
    "convolves bf16-rounded inputs in fp32: forward, dx and dw match the fp32 cpu kernel on rounded inputs",
    async () => {
      await tf.setBackend("onednn");
      const s = bf16Support();
      expect(s.supported, s.reason).toBe(true);
      expect(s.impl).toMatch(/bf16/);
      const x = input([4, 9, 9, 16]);
      const w = input([3, 3, 16, 24]);
      const r = input([4, 5, 5, 24]);
      // y = conv(x, w) and the gradients of sum(y * r): the upstream gradient dy is exactly r.
      const f = (a: tf.Tensor, b: tf.Tensor, rt: tf.Tensor) => {
        const conv = (p: tf.Tensor, q: tf.Tensor) =>
          tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, "same");
        const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(conv(p, q), rt)));
        return [conv(a, b), ...grads([a, b])];
      };
      const rounded = [x, w, r].map((i) => ({ shape: i.shape, data: roundBf16(i.data) }));
      const ref = await runOn("cpu", rounded, f);
      const fp32 = await runOn("onednn", [x, w, r], f);
      setPrecision("bf16");
      let got: Awaited<ReturnType<typeof runOn>>;
      try {
        got = await runOn("onednn", [x, w, r], f);
      } finally {
        setPrecision("fp32");
      }
      // The same products of the same rounded inputs, accumulated in fp32 (in another order).
      for (const k of [0, 1, 2]) {
        expect(relDiff(got[k]!.values, ref[k]!.values), `output ${k}`).toBeLessThan(1e-5);
      }
      // And bf16 really ran: each output differs from fp32's by the rounding of the inputs.
      for (const k of [0, 1, 2]) {
        expect(relDiff(got[k]!.values, fp32[k]!.values), `output ${k}`).toBeGreaterThan(1e-4);
      }
    },
  );

  it.skipIf(!HAS_BF16)(
    "a run at precision bf16 records it, trains, and restores the caller's precision",
    async () => {
      await tf.setBackend("onednn");
      const dir = path.join(tmp, "bf16");
      const summary = await runExperiment(
        {
          dataset: "synthetic",
          model: "resnet20",
          depth: 8,
          width: 4,
          trainSubset: 64,
          batchSize: 32,
          lr: 0.05,
          epochs: 2,
          seed: 7,
          precision: "bf16",
        },
        { runDir: dir, progress: "none" },
      );
      expect(summary.status).toBe("completed");
      expect(getPrecision()).toBe("fp32");
      const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
      expect(config.precision).toBe("bf16");
    },
  );

  it("a bf16 run on the cpu backend is refused before anything is written", async () => {
    const dir = path.join(tmp, "cpu-bf16");
    await expect(
      runExperiment(
        {
          dataset: "synthetic",
          model: "resnet20",
          depth: 8,
          width: 4,
          backend: "cpu",
          precision: "bf16",
        },
        { runDir: dir, progress: "none" },
      ),
    ).rejects.toThrow(/precision "bf16" cannot run here: bf16 needs the onednn backend/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
