/** Option-A shortcut: subsample by the stride, append zero channels, no parameters. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { PadShortcut } from "../../src/models/index.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

describe("PadShortcut", () => {
  it("keeps every second pixel and appends zero channels", () => {
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, "float32", 4) as tf.Tensor4D;
    const layer = new PadShortcut({ filters: 7, stride: 2 });
    const y = layer.apply(x) as tf.Tensor4D;
    expect(y.shape).toEqual([2, 3, 3, 7]);
    expect(layer.computeOutputShape([null, 5, 5, 3])).toEqual([null, 3, 3, 7]);
    const xs = x.arraySync();
    const ys = y.arraySync();
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) {
          expect(ys[n]![i]![j]!.slice(0, 3)).toEqual(xs[n]![2 * i]![2 * j]);
          expect(ys[n]![i]![j]!.slice(3)).toEqual([0, 0, 0, 0]);
        }
    expect(layer.countParams()).toBe(0);
    expect(new PadShortcut(layer.getConfig() as never).getConfig()).toEqual(layer.getConfig());
  });
});
