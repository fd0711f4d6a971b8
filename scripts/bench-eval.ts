/**
 * Measures `senet-lab eval` throughput: images/s end to end (read, decode, resize, crop,
 * normalise, forward pass) and its parts, on generated JPEGs the size of a typical ILSVRC2012
 * validation image (500×375).
 *
 *   SENET_LAB_BACKEND=onednn npx tsx scripts/bench-eval.ts [--model resnet50] [--images 256]
 *        [--batch 32] [--width 500] [--height 375] [--interpolation bilinear]
 *
 * The model is the zoo network with random weights and 1,000 classes (throughput does not depend
 * on the weights). Prints one JSON object: end-to-end images/s, model-only images/s (forward
 * passes alone, inside the same run), preprocessing-only images/s (decode + resize + crop +
 * normalise, measured apart, no model), the backend, threads and the load average before and
 * after, because the machine may be shared.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { initBackend } from "../src/backend/index.js";
import { openImageFolder } from "../src/data/image-folder.js";
import { type Interpolation, loadEvalCrop, resolvePreprocess } from "../src/data/preprocess.js";
import { evaluateClassifier } from "../src/eval/evaluate.js";
import { createModel } from "../src/models/index.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "resnet50" },
    images: { type: "string", default: "256" },
    batch: { type: "string", default: "32" },
    width: { type: "string", default: "500" },
    height: { type: "string", default: "375" },
    interpolation: { type: "string", default: "bilinear" },
  },
});
const count = Number(values.images);
const w = Number(values.width);
const h = Number(values.height);

/** A photograph-like JPEG: smooth colour fields, edges and noise (so it compresses like one). */
async function writePhoto(file: string, seed: number): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  let s = seed * 2654435761;
  const rand = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const f = [rand() * 6, rand() * 6, rand() * 6];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = 128 + 90 * Math.sin(f[c]! * (x / w + y / h) * Math.PI + c) + (rand() - 0.5) * 24;
        px[o + c] = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (h / 4) ** 2 ? 255 - v : v;
      }
    }
  }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(file);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-bench-eval-"));
try {
  const classes = 8;
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `n${String(i % classes).padStart(8, "0")}`);
    fs.mkdirSync(sub, { recursive: true });
    await writePhoto(path.join(sub, `${i}.JPEG`), i + 1);
  }
  const names = Array.from({ length: 1000 }, (_, i) => `n${String(i).padStart(8, "0")}`);
  fs.writeFileSync(path.join(dir, "classes.txt"), `${names.join("\n")}\n`);
  const data = openImageFolder(dir, { classes: path.join(dir, "classes.txt") });
  const backend = await initBackend();
  const interpolation = values.interpolation as Interpolation;
  const p = resolvePreprocess({ interpolation });

  const load0 = os.loadavg()[0]!;
  // Preprocessing alone, 8 files in flight as the evaluation keeps a batch in flight.
  const t0 = performance.now();
  for (let i = 0; i < data.entries.length; i += 32) {
    await Promise.all(data.entries.slice(i, i + 32).map((e) => loadEvalCrop(e.file, p)));
  }
  const prepSeconds = (performance.now() - t0) / 1000;

  const model = createModel(values.model!, { numClasses: 1000 });
  // Warm-up batch (kernel selection, first-call allocation), not timed.
  await evaluateClassifier(model, data, {
    batchSize: Number(values.batch),
    limit: Number(values.batch),
  });
  const r = await evaluateClassifier(model, data, {
    batchSize: Number(values.batch),
    preprocess: { interpolation },
  });
  const out = {
    model: values.model,
    images: r.n,
    imageSize: `${w}x${h} JPEG q90`,
    batchSize: r.batchSize,
    backend: backend.name,
    threads: backend.threads ?? null,
    endToEndImagesPerSec: Number(r.imagesPerSec.toFixed(2)),
    modelOnlyImagesPerSec: Number((r.n / r.modelSeconds).toFixed(2)),
    preprocessOnlyImagesPerSec: Number((r.n / prepSeconds).toFixed(2)),
    seconds: Number(r.seconds.toFixed(2)),
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}`,
    loadAverageBefore: Number(load0.toFixed(2)),
    loadAverageAfter: Number(os.loadavg()[0]!.toFixed(2)),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
