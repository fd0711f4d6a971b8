import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import {
  describeBackend,
  initBackend,
  probeBackend,
  requestedBackend,
} from "../../src/backend/index.js";
import { BackendUnavailableError, ConfigError } from "../../src/errors.js";

const require = createRequire(import.meta.url);
// True only where libtensorflow really loads (an install whose download failed may leave the
// package without its binary, which must then be reported, not used).
const hasTfjsNode = (() => {
  try {
    require("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
})();

describe("backend selection", () => {
  const saved = process.env.SENET_LAB_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.SENET_LAB_BACKEND;
    else process.env.SENET_LAB_BACKEND = saved;
  });

  it("reads SENET_LAB_BACKEND and rejects unknown names with the allowed list", () => {
    delete process.env.SENET_LAB_BACKEND;
    expect(requestedBackend()).toBe("auto");
    process.env.SENET_LAB_BACKEND = "wasm";
    expect(requestedBackend()).toBe("wasm");
    process.env.SENET_LAB_BACKEND = "gpu";
    expect(() => requestedBackend()).toThrow(ConfigError);
    expect(() => requestedBackend()).toThrow(
      /one of auto, tensorflow, onednn, wasm, cpu; got "gpu"/,
    );
  });

  it("a named backend activates it in tfjs", async () => {
    const info = await initBackend("cpu", { quiet: true });
    expect(info.name).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(describeBackend(info)).toContain("backend cpu");
  });

  it.skipIf(hasTfjsNode)("a named backend that cannot load says why", async () => {
    await expect(initBackend("tensorflow", { quiet: true })).rejects.toThrow(
      BackendUnavailableError,
    );
    await expect(initBackend("tensorflow", { quiet: true })).rejects.toThrow(
      /tfjs-node\(-gpu\) not installed|without its libtensorflow binary|tfjs-node failed to load/,
    );
  });

  it("auto takes the first loadable backend in speed order and records what it skipped", async () => {
    const info = await initBackend("auto", { quiet: true });
    const order = ["tensorflow", "onednn", "wasm", "cpu"];
    for (const s of info.skipped)
      expect(order.indexOf(s.name)).toBeLessThan(order.indexOf(info.name));
    for (const s of info.skipped) expect((await probeBackend(s.name)).ok).toBe(false);
    expect(tf.getBackend()).toBe(info.tfBackend);
  });
});
