/**
 * Whole-network parity with PyTorch: each committed fixture (a slim torchvision ResNet-18 /
 * ResNet-50, timm SE-ResNet-50, Caffe-layout SE-ResNet-50 and PytorchInsight SGE-ResNet-50 with
 * random weights and randomised BatchNorm statistics, stored as F32 / F16 / BF16) is imported
 * into our zoo network and its logits compared with PyTorch's float64 logits in eval mode, on
 * the cpu, wasm and onednn backends. Relative error = max|ours − torch| / max|torch| over the
 * batch's logits; bound 1e-4.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend, probeBackend } from "../../src/backend/index.js";
import { caseError, FIXTURES, readManifest } from "./support.js";

const TOL = 1e-4;
const CASES = readManifest(FIXTURES);

describe.each(["cpu", "wasm", "onednn"] as const)("pretrained parity on %s", (backend) => {
  it.for(Object.keys(CASES))(`%s within ${TOL} of PyTorch`, async (name, ctx) => {
    const probe = await probeBackend(backend);
    if (!probe.ok) {
      if (backend !== "onednn") throw new Error(`${backend} must load: ${probe.reason}`);
      ctx.skip(`onednn not available here: ${probe.reason}`);
      return;
    }
    await initBackend(backend, { quiet: true });
    const before = tf.memory().numTensors;
    const err = await caseError(FIXTURES, CASES[name]!);
    process.stdout.write(`[parity] ${backend} ${name}: relative error ${err.toExponential(2)}\n`);
    expect(err).toBeLessThanOrEqual(TOL);
    expect(tf.memory().numTensors).toBe(before);
  });
});
