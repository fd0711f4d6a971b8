/**
 * Whole-network parity with PyTorch: each committed fixture (a slim torchvision ResNet-18 /
 * ResNet-50, timm SE-ResNet-50, Caffe-layout SE-ResNet-50 and PytorchInsight SGE-ResNet-50 with
 * random weights and randomised BatchNorm statistics, stored as F32 / F16 / BF16) is imported
 * into our zoo network and its logits compared with PyTorch's float64 logits in eval mode, on
 * the cpu, wasm and onednn backends. Relative error = max|ours − torch| / max|torch| over the
 * batch's logits; bound 1e-4.
 */
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend, probeBackend } from "../../src/backend/index.js";
import { GroupedConv2D } from "../../src/models/index.js";
import { fromTorch, readSafetensors } from "../../src/pretrained/index.js";
import { caseError, FIXTURES, readManifest, relativeError } from "./support.js";

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

  it("a grouped 3×3 conv (groups 4) with a converted PyTorch kernel matches PyTorch", async (ctx) => {
    const probe = await probeBackend(backend);
    if (!probe.ok) {
      ctx.skip(`${backend} not available here: ${probe.reason}`);
      return;
    }
    await initBackend(backend, { quiet: true });
    const t = (await readSafetensors(path.join(FIXTURES, "grouped_conv.safetensors"))).tensors;
    const w = t.get("weight")!;
    const [o, i, kh, kw] = w.shape as [number, number, number, number];
    const layer = new GroupedConv2D({ filters: o, kernelSize: kh, groups: 4, padding: "same" });
    const x = tf.tidy(() =>
      tf.transpose(
        tf.tensor4d(
          t.get("input")!.data as Float32Array,
          t.get("input")!.shape as [number, number, number, number],
        ),
        [0, 2, 3, 1],
      ),
    );
    layer.apply(x);
    layer.setWeights([
      tf.tensor4d(fromTorch("conv", w.data as Float32Array, [kh, kw, i, o]), [kh, kw, i, o]),
    ]);
    const y = tf.tidy(() => tf.transpose(layer.apply(x) as tf.Tensor4D, [0, 3, 1, 2]));
    const err = relativeError(await y.data(), t.get("output")!.data as Float32Array);
    process.stdout.write(
      `[parity] ${backend} grouped_conv: relative error ${err.toExponential(2)}\n`,
    );
    expect(err).toBeLessThanOrEqual(1e-6);
    tf.dispose([x, y]);
    layer.dispose();
  });
});
