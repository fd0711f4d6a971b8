/**
 * The standard ImageNet evaluation preprocessing, as timm and torchvision do it: open the file as
 * RGB, resize the shorter side to floor(imgSize / cropPct) (bilinear or bicubic, antialiased),
 * centre-crop imgSize × imgSize, scale to [0, 1], subtract the mean and divide by the std per
 * channel. Batches are NHWC float32 (tfjs's layout), where torchvision's are NCHW.
 *
 * Decoder: sharp (https://sharp.pixelplumbing.com), chosen because it wraps libvips, ships it
 * prebuilt per platform as npm packages (@img/sharp-*: nothing to compile, nothing from apt), is
 * among the fastest JPEG/PNG decoders and resizers on Node, and is actively maintained (monthly
 * releases, security fixes). Its decoding (mozjpeg, built on libjpeg-turbo; libspng) gave the
 * same pixels as Debian's PIL on every fixture.
 *
 * Resampling is ours, not libvips's: libvips's resize box-shrinks by an integer factor first when
 * downscaling more than 2× ("gap") and rounds differently, which moves crops by several grey
 * levels from PIL's. `resizeRgb` below is PIL's separable resampling (Image.resize, which
 * torchvision 0.14's Resize calls on PIL images): a triangle (bilinear) or Keys a = -0.5 (bicubic)
 * kernel widened by the scale factor when downscaling (that is the antialiasing), coefficients
 * normalised per output pixel, 8-bit rounding between the horizontal and vertical passes. On the
 * fixtures (test/data/preprocess.test.ts) the crops are byte-identical to torchvision 0.14's;
 * libvips's resize was off by up to 1.23 (mean 0.031) in normalised units.
 *
 * What is not reproduced: sharp applies an embedded ICC profile (converting to sRGB) where PIL
 * ignores it, and converts CMYK JPEGs with the profile where PIL uses a naive formula; a few
 * ILSVRC2012 files (22 CMYK of 50,000) are affected.
 */
import fs from "node:fs";
import { ConfigError, DatasetError, quote } from "../errors.js";

/** ImageNet's per-channel mean of RGB in [0, 1] (torchvision / timm IMAGENET_DEFAULT_MEAN). */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet's per-channel standard deviation of RGB in [0, 1] (IMAGENET_DEFAULT_STD). */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Resampling kernels offered, named as timm's `interpolation`. */
export const INTERPOLATIONS = ["bilinear", "bicubic"] as const;
/** A resampling kernel: bilinear (torchvision's default) or bicubic (most timm models). */
export type Interpolation = (typeof INTERPOLATIONS)[number];

/** Options of the evaluation transform; every field has a default. */
export interface PreprocessOptions {
  /** Side of the square crop the model sees. Default 224. */
  imgSize?: number;
  /** Crop fraction (timm's crop_pct): the shorter side is resized to floor(imgSize / cropPct). Default 0.875 (256 → 224). */
  cropPct?: number;
  /** Resampling kernel of the resize. Default "bilinear" (torchvision's reference scripts). */
  interpolation?: Interpolation;
  /** Per-channel mean subtracted after scaling to [0, 1]. Default IMAGENET_MEAN. */
  mean?: readonly number[];
  /** Per-channel std divided by. Default IMAGENET_STD. */
  std?: readonly number[];
}

/** PreprocessOptions with every default filled and checked. */
export type ResolvedPreprocess = Required<PreprocessOptions> & {
  /** The resize target of the shorter side, floor(imgSize / cropPct). */
  scaleSize: number;
};

/** Fills and validates preprocessing options (ConfigError naming the bad value). */
export function resolvePreprocess(o: PreprocessOptions = {}): ResolvedPreprocess {
  const imgSize = o.imgSize ?? 224;
  const cropPct = o.cropPct ?? 0.875;
  const interpolation = o.interpolation ?? "bilinear";
  const mean = o.mean ?? IMAGENET_MEAN;
  const std = o.std ?? IMAGENET_STD;
  if (!Number.isInteger(imgSize) || imgSize < 1 || imgSize > 4096) {
    throw new ConfigError(`imgSize must be an integer in [1, 4096]; got ${quote(imgSize)}`);
  }
  if (typeof cropPct !== "number" || !(cropPct > 0 && cropPct <= 1)) {
    throw new ConfigError(`cropPct must be a number in (0, 1]; got ${quote(cropPct)}`);
  }
  if (!(INTERPOLATIONS as readonly string[]).includes(interpolation)) {
    throw new ConfigError(
      `interpolation must be one of ${INTERPOLATIONS.map((s) => JSON.stringify(s)).join(", ")}; got ${quote(interpolation)}`,
    );
  }
  for (const [k, v, positive] of [
    ["mean", mean, false],
    ["std", std, true],
  ] as const) {
    if (
      !Array.isArray(v) ||
      v.length !== 3 ||
      !v.every((x) => Number.isFinite(x) && (!positive || x > 0))
    ) {
      throw new ConfigError(
        `${k} must be 3 finite numbers${positive ? " > 0" : ""} (R, G, B); got ${quote(v)}`,
      );
    }
  }
  return { imgSize, cropPct, interpolation, mean, std, scaleSize: scaleSize(imgSize, cropPct) };
}

/** timm's resize target: floor(imgSize / cropPct) (224 at 0.875 → 256). */
export function scaleSize(imgSize: number, cropPct: number): number {
  return Math.floor(imgSize / cropPct);
}

/**
 * Output [height, width] of torchvision's Resize(short) on an image of [height, width]: the
 * shorter side becomes `short`, the longer int(short * long / short_side) (truncated).
 */
export function resizedShape(height: number, width: number, short: number): [number, number] {
  if (width <= height) return [Math.trunc((short * height) / width), short];
  return [short, Math.trunc((short * width) / height)];
}

/** Python's round(): to nearest, ties to even (torchvision's CenterCrop rounds its offsets so). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** [top, left] of torchvision's CenterCrop(size) on [height, width]: round((dim - size) / 2). */
export function centerCropOffset(height: number, width: number, size: number): [number, number] {
  return [roundHalfEven((height - size) / 2), roundHalfEven((width - size) / 2)];
}

/** A decoded image: RGB bytes, row-major HWC. */
export interface RgbImage {
  /** Pixels, height × width × 3. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

type SharpFn = typeof import("sharp").default;
let sharpModule: SharpFn | undefined;

/** sharp, loaded on first use (so importing senet-lab/data does not load libvips). */
async function loadSharp(): Promise<SharpFn> {
  if (!sharpModule) {
    sharpModule = (await import("sharp")).default;
    // One libvips thread per decode: the evaluation decodes several files at once instead.
    sharpModule.concurrency(1);
    sharpModule.cache(false);
  }
  return sharpModule;
}

/**
 * Decodes a JPEG / PNG (or anything libvips reads) to 8-bit RGB as ImageFolder's
 * `Image.open(f).convert("RGB")` does: grey is replicated, alpha is dropped (not composited),
 * EXIF orientation is not applied. An unreadable file is a DatasetError naming it.
 */
export async function decodeImage(file: string): Promise<RgbImage> {
  const sharp = await loadSharp();
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new DatasetError(`cannot read image ${quote(file)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const failed = (why: string, cause?: unknown): DatasetError =>
    new DatasetError(
      `cannot decode image ${quote(file)} (${bytes.length} bytes; JPEG, PNG, WebP, TIFF are read): ${why}`,
      { cause },
    );
  let decoded: { data: Buffer; info: { channels: number; width: number; height: number } };
  try {
    decoded = await sharp(bytes, { failOn: "error" })
      .removeAlpha()
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw failed((err as Error).message, err);
  }
  const { data, info } = decoded;
  if (info.channels !== 3) throw failed(`decoded to ${info.channels} channels, expected 3`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

/**
 * Reads the header of every file (format, size; no pixels) with a few files in flight, so a
 * broken or mislabelled file fails before a long evaluation starts: DatasetError naming the first.
 */
export async function verifyImages(files: readonly string[], inFlight = 8): Promise<void> {
  const sharp = await loadSharp();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!;
      let m: { width?: number; height?: number };
      try {
        m = await sharp(file).metadata();
      } catch (err) {
        throw new DatasetError(`cannot read image ${quote(file)}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (!m.width || !m.height) {
        throw new DatasetError(`cannot read image ${quote(file)}: no image size in its header`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, files.length) }, worker));
}

/** PIL's kernels: support radius (before scaling) and weight function. */
const FILTERS: Record<Interpolation, { support: number; weight: (x: number) => number }> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      // Keys' cubic with a = -0.5, as PIL's bicubic_filter.
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

/** Fixed-point bits of PIL's 8-bit resampling coefficients (32 - 8 - 2). */
const PRECISION_BITS = 22;

/** Per output pixel along one axis: first input index, tap count, integer coefficients. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  coeffs: Int32Array;
  stride: number;
}

/** PIL's precompute_coeffs + normalize_coeffs_8bpc for inSize → outSize over the whole input. */
function computeTaps(inSize: number, outSize: number, kind: Interpolation): Taps {
  const filter = FILTERS[kind];
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const coeffs = new Int32Array(outSize * stride);
  const k = new Float64Array(stride);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // PIL truncates (int)(center - support + 0.5) toward zero, then clamps.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x]! / ww : k[x]!;
      // PIL: (int)(v < 0 ? v * (1 << P) - 0.5 : v * (1 << P) + 0.5), i.e. round half away from 0.
      const f = v * (1 << PRECISION_BITS);
      coeffs[xx * stride + x] = Math.trunc(f < 0 ? f - 0.5 : f + 0.5);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, coeffs, stride };
}

/** PIL's clip8: shift out the fixed-point bits and clamp to [0, 255]. */
function clip8(acc: number): number {
  const v = Math.floor(acc / (1 << PRECISION_BITS));
  return Math.min(255, Math.max(0, v));
}

/**
 * Resizes RGB bytes to outHeight × outWidth as PIL's Image.resize does (horizontal pass, then
 * vertical, each rounded to 8 bits; a pass whose size is unchanged is skipped, as in PIL).
 * Only rows [cropTop, cropTop + cropHeight) of the output are computed (the vertical pass reads
 * just the rows they need), so a centre crop costs no more than the crop.
 */
export function resizeRgb(
  src: RgbImage,
  outHeight: number,
  outWidth: number,
  kind: Interpolation,
  crop: { top: number; left: number; height: number; width: number } = {
    top: 0,
    left: 0,
    height: outHeight,
    width: outWidth,
  },
): Uint8Array {
  const { width: inW, height: inH, data } = src;
  const out = new Uint8Array(crop.height * crop.width * 3);
  const half = 1 << (PRECISION_BITS - 1);
  const vTaps = inH !== outHeight ? computeTaps(inH, outHeight, kind) : null;
  // Input rows the cropped output rows read.
  let rowLo = crop.top;
  let rowHi = crop.top + crop.height;
  if (vTaps) {
    rowLo = inH;
    rowHi = 0;
    for (let y = crop.top; y < crop.top + crop.height; y++) {
      rowLo = Math.min(rowLo, vTaps.start[y]!);
      rowHi = Math.max(rowHi, vTaps.start[y]! + vTaps.count[y]!);
    }
  }
  // Horizontal pass over the needed rows, only the cropped columns.
  const cw = crop.width;
  let mid: Uint8Array;
  if (inW !== outWidth) {
    const h = computeTaps(inW, outWidth, kind);
    mid = new Uint8Array((rowHi - rowLo) * cw * 3);
    for (let y = rowLo; y < rowHi; y++) {
      const rowIn = y * inW * 3;
      const rowOut = (y - rowLo) * cw * 3;
      for (let xo = 0; xo < cw; xo++) {
        const x = xo + crop.left;
        const s = h.start[x]!;
        const n = h.count[x]!;
        const kb = x * h.stride;
        let r = half;
        let g = half;
        let b = half;
        for (let t = 0; t < n; t++) {
          const c = h.coeffs[kb + t]!;
          const p = rowIn + (s + t) * 3;
          r += data[p]! * c;
          g += data[p + 1]! * c;
          b += data[p + 2]! * c;
        }
        const o = rowOut + xo * 3;
        mid[o] = clip8(r);
        mid[o + 1] = clip8(g);
        mid[o + 2] = clip8(b);
      }
    }
  } else {
    mid = new Uint8Array((rowHi - rowLo) * cw * 3);
    for (let y = rowLo; y < rowHi; y++) {
      mid.set(
        data.subarray((y * inW + crop.left) * 3, (y * inW + crop.left + cw) * 3),
        (y - rowLo) * cw * 3,
      );
    }
  }
  // Vertical pass.
  for (let yo = 0; yo < crop.height; yo++) {
    const y = yo + crop.top;
    if (!vTaps) {
      out.set(mid.subarray((y - rowLo) * cw * 3, (y - rowLo + 1) * cw * 3), yo * cw * 3);
      continue;
    }
    const s = vTaps.start[y]!;
    const n = vTaps.count[y]!;
    const kb = y * vTaps.stride;
    for (let i = 0; i < cw * 3; i++) {
      let acc = half;
      for (let t = 0; t < n; t++) acc += mid[(s + t - rowLo) * cw * 3 + i]! * vTaps.coeffs[kb + t]!;
      out[yo * cw * 3 + i] = clip8(acc);
    }
  }
  return out;
}

/**
 * The evaluation crop of a decoded image as uint8 HWC (imgSize × imgSize × 3): resize the shorter
 * side to scaleSize, then the centre crop; what torchvision holds just before ToTensor.
 */
export function evalCrop(img: RgbImage, p: ResolvedPreprocess): Uint8Array {
  const [rh, rw] = resizedShape(img.height, img.width, p.scaleSize);
  if (rh < p.imgSize || rw < p.imgSize) {
    // cropPct <= 1 makes scaleSize >= imgSize; only a degenerate 1-pixel-wide image gets here.
    throw new DatasetError(
      `image of ${img.width}×${img.height} resizes to ${rw}×${rh}, smaller than the ${p.imgSize}-pixel crop`,
    );
  }
  const [top, left] = centerCropOffset(rh, rw, p.imgSize);
  return resizeRgb(img, rh, rw, p.interpolation, {
    top,
    left,
    height: p.imgSize,
    width: p.imgSize,
  });
}

/** Decodes `file` and returns its evaluation crop (uint8 HWC); DatasetError naming the file on failure. */
export async function loadEvalCrop(file: string, p: ResolvedPreprocess): Promise<Uint8Array> {
  const img = await decodeImage(file);
  try {
    return evalCrop(img, p);
  } catch (err) {
    if (err instanceof DatasetError) throw new DatasetError(`${quote(file)}: ${err.message}`);
    throw err;
  }
}

/**
 * Writes (u8 / 255 - mean) / std of an HWC crop into `out` from `offset`, in float32 arithmetic
 * as torchvision's ToTensor + Normalize (divide by 255, subtract, divide).
 */
export function normaliseInto(
  crop: Uint8Array,
  out: Float32Array,
  offset: number,
  mean: readonly number[],
  std: readonly number[],
): void {
  const m = Float32Array.from(mean);
  const s = Float32Array.from(std);
  const f = Math.fround;
  for (let i = 0; i < crop.length; i++) {
    const c = i % 3;
    out[offset + i] = f(f(f(crop[i]! / 255) - m[c]!) / s[c]!);
  }
}
