/**
 * The onednn backend's output pool: a disposed tensor's array is reused by the next native
 * output of its size, but never while anything else can still see it (values read out with
 * dataSync/data, or a cpu kernel's view into it).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { outputPoolStats, setOutputPoolCap } from "../../src/backend/onednn-kernels/util.js";
import { NATIVE, setupOnednn } from "./onednn-support.js";

const SHAPE = [8, 16, 16, 8]; // 16384 floats: large enough for native kernels and the pool

/** A native output (Relu) of SHAPE filled with `v`. */
function nativeOutput(v: number): tf.Tensor {
  return tf.tidy(() => tf.relu(tf.fill(SHAPE, v)));
}

describe.skipIf(!NATIVE.built)("onednn output pool", () => {
  beforeAll(async () => {
    await setupOnednn();
    await tf.setBackend("onednn");
  });

  it("reuses a disposed tensor's array for the next output of its size", () => {
    const a = nativeOutput(1);
    a.dispose();
    const before = outputPoolStats().reused;
    const b = nativeOutput(2);
    expect(outputPoolStats().reused).toBeGreaterThan(before);
    expect(b.dataSync()[0]).toBe(2);
    b.dispose();
  });

  it("never reuses an array that dataSync handed out", () => {
    const a = nativeOutput(3);
    const escaped = outputPoolStats().escaped;
    const seen = a.dataSync();
    expect(outputPoolStats().escaped).toBe(escaped + 1);
    a.dispose();
    const b = nativeOutput(4);
    const c = nativeOutput(5);
    expect(seen[0]).toBe(3);
    expect(seen[seen.length - 1]).toBe(3);
    tf.dispose([b, c]);
  });

  it("never reuses an array a cpu kernel's view still points into", () => {
    const a = nativeOutput(6);
    const escaped = outputPoolStats().escaped;
    // A small simple slice runs the cpu kernel, which returns a subarray of a's array.
    const s = tf.slice(a, [0, 0, 0, 0], [1, 1, 2, 8]);
    expect(outputPoolStats().escaped).toBe(escaped + 1);
    a.dispose();
    const b = nativeOutput(7);
    const c = nativeOutput(8);
    expect(Array.from(s.dataSync())).toEqual(new Array(16).fill(6));
    tf.dispose([s, b, c]);
  });

  it("keeps a reshaped tensor's data alive while the reshape lives", () => {
    const a = nativeOutput(9);
    const r = tf.reshape(a, [-1]);
    a.dispose();
    const b = nativeOutput(10);
    expect(r.dataSync()[0]).toBe(9);
    tf.dispose([r, b]);
  });

  it("evicts the least recently used sizes when the cap is reached, so a new workload pools", () => {
    const cap = outputPoolStats().capBytes;
    const bytes = 16384 * 4;
    try {
      setOutputPoolCap(4 * bytes);
      // Fill the pool with four arrays of SHAPE (the "old workload").
      tf.dispose([1, 2, 3, 4].map(nativeOutput));
      expect(outputPoolStats().pooledBytes).toBe(4 * bytes);
      // A new size (twice SHAPE's): its freed arrays must displace the old ones, then be reused.
      const other = (v: number) => tf.tidy(() => tf.relu(tf.fill([2, 16384], v)));
      const evicted = outputPoolStats().evicted;
      tf.dispose([5, 6].map(other));
      expect(outputPoolStats().evicted).toBeGreaterThan(evicted);
      expect(outputPoolStats().pooledBytes).toBeLessThanOrEqual(4 * bytes);
      const reused = outputPoolStats().reused;
      const again = other(9);
      expect(outputPoolStats().reused).toBe(reused + 1);
      expect(again.dataSync()[0]).toBe(9);
      again.dispose();
    } finally {
      setOutputPoolCap(cap);
    }
  });
});
