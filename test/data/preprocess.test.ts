/**
 * The evaluation preprocessing against torchvision 0.14 + PIL 9.4 (Debian) on the same files:
 * test/fixtures/preprocess, written by scripts/fixtures/gen_preprocess_fixtures.py. Decoding is
 * sharp's (libvips), resampling is our PIL-compatible resizer; on these 7 images × 3 cases the
 * crops are byte-identical to torchvision's (max abs error 0 on the normalised tensors), and so
 * are the 224-px crops at the real ImageNet settings (compared by SHA-256). The
 * tolerance below allows ±1 grey level on 0.5 % of values (a JPEG decoder build differing in its
 * IDCT rounding), i.e. max abs ≤ 1/255/0.224 ≈ 0.0176 and mean abs ≤ 1e-4 in normalised units;
 * libvips's own resize measured max 1.23, mean 0.031 here, so the bound separates the two.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  centerCropOffset,
  decodeImage,
  evalCrop,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normaliseInto,
  resizedShape,
  resizeRgb,
  resolvePreprocess,
  roundHalfEven,
  scaleSize,
} from "../../src/data/preprocess.js";
import { ConfigError, DatasetError } from "../../src/errors.js";

const DIR = path.join(import.meta.dirname, "..", "fixtures", "preprocess");

interface Probe {
  y: number;
  x: number;
  chw: number[];
}
interface FixtureCase {
  name: string;
  imgSize: number;
  cropPct: number;
  interpolation: "bilinear" | "bicubic";
  scaleSize: number;
  outputs: { image: string; file: string; resized: [number, number]; probes: Probe[] }[];
}
interface HashedCase {
  name: string;
  imgSize: number;
  cropPct: number;
  interpolation: "bilinear" | "bicubic";
  scaleSize: number;
  outputs: { image: string; sha256: string; channelSums: number[] }[];
}
const META = JSON.parse(fs.readFileSync(path.join(DIR, "cases.json"), "utf8")) as {
  cases: FixtureCase[];
  hashedCases: HashedCase[];
  images: { file: string; width: number; height: number; mode: string }[];
};

/** Max and mean absolute difference of two normalised tensors. */
function errors(a: Float32Array, b: Float32Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

const normalised = (u8: Uint8Array): Float32Array => {
  const out = new Float32Array(u8.length);
  normaliseInto(u8, out, 0, IMAGENET_MEAN, IMAGENET_STD);
  return out;
};

describe("parity with torchvision's eval transform (committed fixtures)", () => {
  it("covers every case and image of the generator", () => {
    expect(META.cases.map((c) => c.name)).toEqual(["bilinear", "bicubic", "bicubic-full"]);
    expect(META.images.map((i) => i.mode).sort()).toEqual(
      ["L", "RGB", "RGB", "RGB", "RGB", "RGB", "RGBA"].sort(),
    );
  });

  for (const c of META.cases) {
    it(`${c.name}: imgSize ${c.imgSize}, cropPct ${c.cropPct}, ${c.interpolation}`, async () => {
      const p = resolvePreprocess({
        imgSize: c.imgSize,
        cropPct: c.cropPct,
        interpolation: c.interpolation,
      });
      expect(p.scaleSize).toBe(c.scaleSize);
      let worst = 0;
      let sum = 0;
      let n = 0;
      for (const o of c.outputs) {
        const img = await decodeImage(path.join(DIR, o.image));
        const meta = META.images.find((i) => i.file === o.image)!;
        expect([img.width, img.height]).toEqual([meta.width, meta.height]);
        expect(resizedShape(img.height, img.width, p.scaleSize)).toEqual(o.resized);
        const ours = normalised(evalCrop(img, p));
        const ref = normalised(new Uint8Array(fs.readFileSync(path.join(DIR, o.file))));
        const e = errors(ours, ref);
        expect(e.max, `${o.image}: max abs`).toBeLessThanOrEqual(1 / 255 / 0.224 + 1e-6);
        expect(e.mean, `${o.image}: mean abs`).toBeLessThanOrEqual(1e-4);
        worst = Math.max(worst, e.max);
        sum += e.mean * ours.length;
        n += ours.length;
        // torchvision's own normalised values: our float32 arithmetic on its uint8 crop.
        for (const pr of o.probes) {
          for (let ch = 0; ch < 3; ch++) {
            expect(ref[(pr.y * c.imgSize + pr.x) * 3 + ch]).toBeCloseTo(pr.chw[ch]!, 6);
          }
        }
      }
      // README "Evaluation" quotes these: 0 and 0 with Debian's PIL 9.4 / libjpeg-turbo.
      console.log(`${c.name}: max abs ${worst}, mean abs ${(sum / n).toExponential(2)}`);
    });
  }
});

describe("parity at the real ImageNet settings (224-px crops, hashed)", () => {
  for (const c of META.hashedCases) {
    it(`${c.name}: Resize(${c.scaleSize}) + CenterCrop(${c.imgSize}), ${c.interpolation}: byte-identical`, async () => {
      const p = resolvePreprocess({
        imgSize: c.imgSize,
        cropPct: c.cropPct,
        interpolation: c.interpolation,
      });
      expect(p.scaleSize).toBe(c.scaleSize);
      for (const o of c.outputs) {
        const crop = evalCrop(await decodeImage(path.join(DIR, o.image)), p);
        const sums = [0, 0, 0];
        crop.forEach((v, i) => {
          sums[i % 3]! += v;
        });
        // Channel sums first: a mismatch there says how far off (in grey levels per pixel).
        const n = c.imgSize * c.imgSize;
        expect(
          sums.map((s, ch) => (s - o.channelSums[ch]!) / n),
          o.image,
        ).toEqual([0, 0, 0]);
        expect(createHash("sha256").update(crop).digest("hex"), o.image).toBe(o.sha256);
      }
    });
  }
});

describe("geometry follows torchvision", () => {
  it("resizes the shorter side and truncates the longer", () => {
    expect(resizedShape(375, 500, 256)).toEqual([256, 341]); // int(256 * 500 / 375) = 341
    expect(resizedShape(500, 375, 256)).toEqual([341, 256]);
    expect(resizedShape(100, 100, 73)).toEqual([73, 73]);
  });

  it("rounds centre-crop offsets half to even, as Python's round", () => {
    expect(roundHalfEven(0.5)).toBe(0);
    expect(roundHalfEven(1.5)).toBe(2);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(2.4)).toBe(2);
    expect(roundHalfEven(2.6)).toBe(3);
    expect(centerCropOffset(256, 341, 224)).toEqual([16, 58]); // (341-224)/2 = 58.5 → 58
    expect(centerCropOffset(75, 73, 64)).toEqual([6, 4]); // 5.5 → 6, 4.5 → 4
  });

  it("scale size is floor(imgSize / cropPct)", () => {
    expect(scaleSize(224, 0.875)).toBe(256);
    expect(scaleSize(224, 0.9)).toBe(248);
    expect(scaleSize(224, 0.95)).toBe(235);
    expect(scaleSize(64, 0.875)).toBe(73);
  });

  it("an unchanged size is a copy", () => {
    const data = Uint8Array.from({ length: 4 * 5 * 3 }, (_, i) => i);
    const out = resizeRgb({ data, width: 5, height: 4 }, 4, 5, "bicubic");
    expect(Array.from(out)).toEqual(Array.from(data));
  });

  it("a constant image stays constant under both kernels (coefficients sum to one)", () => {
    const data = new Uint8Array(37 * 53 * 3).fill(200);
    for (const k of ["bilinear", "bicubic"] as const) {
      for (const [h, w] of [
        [11, 17],
        [80, 90],
      ] as const) {
        const out = resizeRgb({ data, width: 53, height: 37 }, h, w, k);
        expect(new Set(out)).toEqual(new Set([200]));
      }
    }
  });
});

describe("options and bad input", () => {
  it("defaults are torchvision's ImageNet evaluation", () => {
    const p = resolvePreprocess();
    expect(p).toMatchObject({
      imgSize: 224,
      cropPct: 0.875,
      interpolation: "bilinear",
      scaleSize: 256,
    });
    expect(p.mean).toEqual([0.485, 0.456, 0.406]);
    expect(p.std).toEqual([0.229, 0.224, 0.225]);
  });

  it("refuses bad values, naming them", () => {
    expect(() => resolvePreprocess({ cropPct: 1.2 })).toThrow(/cropPct .*\(0, 1\]; got 1.2/);
    expect(() => resolvePreprocess({ cropPct: 0 })).toThrow(ConfigError);
    expect(() => resolvePreprocess({ imgSize: 22.5 })).toThrow(/imgSize .*got 22.5/);
    expect(() => resolvePreprocess({ interpolation: "nearest" as unknown as "bilinear" })).toThrow(
      /"bilinear", "bicubic"; got "nearest"/,
    );
    expect(() => resolvePreprocess({ std: [1, 0, 1] })).toThrow(/std must be 3 finite numbers > 0/);
  });

  it("an unreadable image is a DatasetError naming the file", async () => {
    const bad = path.join(import.meta.dirname, "..", "fixtures", "preprocess", "cases.json");
    await expect(decodeImage(bad)).rejects.toThrow(DatasetError);
    await expect(decodeImage(bad)).rejects.toThrow(/cannot decode image ".*cases\.json"/);
    const cut = path.join(os.tmpdir(), `senet-cut-${process.pid}.jpg`);
    const whole = fs.readFileSync(path.join(DIR, "land_500x375.jpg"));
    fs.writeFileSync(cut, whole.subarray(0, whole.length >> 1));
    try {
      await expect(decodeImage(cut)).rejects.toThrow(/cannot decode image ".*senet-cut-/);
    } finally {
      fs.rmSync(cut, { force: true });
    }
    await expect(decodeImage("/nonexistent/x.jpg")).rejects.toThrow(
      /cannot read image "\/nonexistent\/x\.jpg"/,
    );
  });
});
