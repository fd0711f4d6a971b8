/**
 * The PyTorch fixtures again on the project's faster backends (wasm always; onednn where the
 * native addon is built), so a backend kernel that breaks SE / SGE numerics is caught here too;
 * on onednn the standard SE cases and every SGE case run the fused kernels
 * (native/src/attention.cc).
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend, probeBackend } from "../../src/backend/index.js";
import {
  SpatialGroupEnhance,
  type SpatialGroupEnhanceArgs,
  SqueezeExcite,
  type SqueezeExciteArgs,
} from "../../src/layers/index.js";
import { fusedSpatialGroupEnhanceStats, fusedSqueezeExciteStats } from "../../src/ops/index.js";
import { layerGrads, loadFixtures, maxAbsDiff } from "./support.js";

const TOL = 1e-5;
const SE_ORDER = ["reduceKernel", "reduceBias", "expandKernel", "expandBias"];

/** Max abs error over output, input gradient and weight gradients of every case in a file. */
function worstError(file: "se.json" | "sge.json"): number {
  let worst = 0;
  for (const c of loadFixtures(file)) {
    const layer =
      file === "se.json"
        ? new SqueezeExcite(c.args as SqueezeExciteArgs)
        : new SpatialGroupEnhance(c.args as SpatialGroupEnhanceArgs);
    tf.tidy(() => {
      layer.apply(tf.zeros(c.shape));
    });
    const keys = (file === "se.json" ? SE_ORDER : ["gamma", "beta"]).filter((k) => c.weights[k]);
    layer.setWeights(keys.map((k) => tf.tensor(c.weights[k]!.values, c.weights[k]!.shape)));
    const x = tf.tensor4d(c.x, c.shape);
    const dy = tf.tensor4d(c.dy, c.shape);
    const { y, dx, dw } = layerGrads(layer, x, dy);
    worst = Math.max(
      worst,
      maxAbsDiff(y, c.y),
      maxAbsDiff(dx, c.dx),
      ...keys.map((k, i) => maxAbsDiff(dw[i]!, c.weightGrads[k]!.values)),
    );
    tf.dispose([x, dy]);
    layer.dispose();
  }
  return worst;
}

describe.each(["wasm", "onednn"] as const)("SE / SGE vs PyTorch on the %s backend", (name) => {
  it(`all fixtures within ${TOL} (outputs, input and weight gradients)`, async (ctx) => {
    const probe = await probeBackend(name);
    if (!probe.ok) {
      if (name === "wasm") throw new Error(`wasm must load: ${probe.reason}`);
      ctx.skip(`onednn not available here: ${probe.reason}`);
      return;
    }
    await initBackend(name, { quiet: true });
    const fusedBefore = fusedSqueezeExciteStats().native;
    expect(worstError("se.json")).toBeLessThanOrEqual(TOL);
    // On onednn the standard blocks (average squeeze, sigmoid, channel-wise) ran the fused
    // kernel (src/ops/squeeze-excite.ts), so the fixtures judge it; elsewhere the tf ops ran.
    const standard = loadFixtures("se.json").filter(
      (c) => c.args.squeeze === "avg" && c.args.excitation === "sigmoid" && !c.args.spatial,
    ).length;
    expect(fusedSqueezeExciteStats().native - fusedBefore).toBe(
      name === "onednn" ? 2 * standard : 0,
    );
    const sgeBefore = fusedSpatialGroupEnhanceStats().native;
    expect(worstError("sge.json")).toBeLessThanOrEqual(TOL);
    // Every SGE case runs the fused SGE kernel on onednn.
    expect(fusedSpatialGroupEnhanceStats().native - sgeBefore).toBe(
      name === "onednn" ? 2 * loadFixtures("sge.json").length : 0,
    );
  });
});
