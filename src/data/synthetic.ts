/**
 * A tiny, deterministic, learnable dataset for tests and smoke runs: each of 10 classes has a
 * fixed random 12×12×3 prototype, and every image is its class prototype plus Gaussian pixel
 * noise. Identical bytes on every machine (our own PRNG, no Math.random), no files needed.
 */
import { Rng } from "./rng.js";
import type { ImageSplit, RawDataset } from "./types.js";

/** Shape, class count and sizes of the synthetic dataset. */
export const SYNTHETIC = {
  shape: [12, 12, 3] as [number, number, number],
  numClasses: 10,
  trainCount: 1000,
  testCount: 200,
  /** Standard deviation of the per-pixel noise, in 0–255 units. */
  noise: 48,
} as const;

function sample(count: number, protos: Float32Array[], rng: Rng): ImageSplit {
  const per = SYNTHETIC.shape[0] * SYNTHETIC.shape[1] * SYNTHETIC.shape[2];
  const images = new Uint8Array(count * per);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % SYNTHETIC.numClasses; // balanced classes
    labels[i] = c;
    const p = protos[c]!;
    for (let k = 0; k < per; k++) {
      const v = p[k]! + SYNTHETIC.noise * rng.normal();
      images[i * per + k] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
  return { images, labels, count };
}

/** Builds the synthetic dataset (always the same bytes). */
export function loadSynthetic(): RawDataset {
  const per = SYNTHETIC.shape[0] * SYNTHETIC.shape[1] * SYNTHETIC.shape[2];
  const rng = new Rng(20260);
  const protos: Float32Array[] = [];
  for (let c = 0; c < SYNTHETIC.numClasses; c++) {
    const p = new Float32Array(per);
    for (let k = 0; k < per; k++) p[k] = 40 + 175 * rng.next();
    protos.push(p);
  }
  return {
    train: sample(SYNTHETIC.trainCount, protos, rng),
    test: sample(SYNTHETIC.testCount, protos, rng),
    shape: [...SYNTHETIC.shape],
    numClasses: SYNTHETIC.numClasses,
    source: "synthetic",
  };
}
