/** Zoo models (with their custom layers) survive tfjs's JSON round trip: same topology, same outputs. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { buildModel, createModel, presetConfig } from "../../src/models/index.js";

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
});

async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  const json = model.toJSON(null, false) as tf.io.ModelJSON["modelTopology"];
  return tf.models.modelFromJSON({ modelTopology: json } as tf.io.ModelJSON);
}

describe("JSON round trip", () => {
  it.each(["se_resnet20", "sge_resnet20"])(
    "%s (PadShortcut, attention) gives identical outputs",
    async (name) => {
      const a = createModel(name);
      const b = await roundTrip(a);
      b.setWeights(a.getWeights());
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, "float32", 5);
      const ya = a.predict(x) as tf.Tensor;
      const yb = b.predict(x) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0]).toBe(0);
      expect(b.toJSON(null, false)).toEqual(a.toJSON(null, false));
      tf.dispose([x, ya, yb]);
      a.dispose();
      b.dispose();
    },
  );

  it("se_resnext50_32x4d (GroupedConv2D) keeps its topology", async () => {
    const a = buildModel(presetConfig("se_resnext50_32x4d", { inputShape: [32, 32, 3] }), {
      init: "zeros",
    });
    const b = await roundTrip(a);
    expect(b.toJSON(null, false)).toEqual(a.toJSON(null, false));
    expect(b.getLayer("conv3_1_3x3").getClassName()).toBe("GroupedConv2D");
    a.dispose();
    b.dispose();
  });
});
