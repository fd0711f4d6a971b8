/** Test helpers: small generated JPEG / PNG files written with sharp, deterministic by seed. */
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";

/** RGB bytes of a w×h picture: a gradient whose colour depends on `seed`, plus a bright square. */
export function pattern(w: number, h: number, seed: number): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      px[o] = (x * 255) / Math.max(1, w - 1) + seed * 37;
      px[o + 1] = (y * 255) / Math.max(1, h - 1) + seed * 71;
      px[o + 2] = ((seed * 53) % 256) ^ ((x >> 3) & 1 ? 0x40 : 0);
      if (Math.abs(x - w / 2) < w / 6 && Math.abs(y - h / 2) < h / 6) px[o] = 255 - px[o]!;
    }
  }
  return px;
}

/** Writes a w×h image to `file` (format from its extension: .jpg/.jpeg or .png). */
export async function writeImage(file: string, w: number, h: number, seed: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp(pattern(w, h, seed), { raw: { width: w, height: h, channels: 3 } });
  const ext = path.extname(file).toLowerCase();
  await (ext === ".png" ? img.png() : img.jpeg({ quality: 90 })).toFile(file);
}
