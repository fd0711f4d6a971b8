/**
 * `senet-lab eval`, run for real through bin/senet-lab.js in a child process, on a ResNet-20
 * (3 classes, 32×32) saved with saveModel: its top-1 is checked against model.predict on the
 * same preprocessed images in this process; plus the flat validation layout, --random-init,
 * the human-readable form, and flag refusals (exit 2, the value named, nothing evaluated).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index.js";
import { EVAL_FLAGS } from "../../src/cli/eval.js";
import { openImageFolder } from "../../src/data/image-folder.js";
import {
  decodeImage,
  evalCrop,
  normaliseInto,
  resolvePreprocess,
} from "../../src/data/preprocess.js";
import { loadModel, saveModel } from "../../src/io/index.js";
import { createModel } from "../../src/models/index.js";
import { writeImage } from "../eval/images.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
let tmp: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/senet-lab.js", "eval", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, SENET_LAB_QUIET: "1", SENET_LAB_BACKEND: "cpu" },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  await initBackend("cpu", { quiet: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-cli-eval-"));
  let seed = 0;
  for (const cls of ["cat", "dog", "emu"]) {
    for (let i = 0; i < 4; i++) {
      await writeImage(path.join(tmp, "data", cls, `${i}.jpg`), 48 + 5 * i, 40 + 3 * seed, seed);
      seed++;
    }
  }
  // The same 12 images as a flat validation folder with a 1-based labels file.
  const val = path.join(tmp, "val");
  fs.mkdirSync(val);
  const ds = openImageFolder(path.join(tmp, "data"));
  const lines: string[] = [];
  ds.entries.forEach((e, i) => {
    fs.copyFileSync(
      e.file,
      path.join(val, `ILSVRC2012_val_${String(i + 1).padStart(8, "0")}.JPEG`),
    );
    lines.push(String(e.label + 1));
  });
  fs.writeFileSync(path.join(tmp, "gt.txt"), `${lines.join("\n")}\n`);
  // A fresh network's pooled features share a large common part, so any head predicts one
  // class; a random head with the mean logit of these images taken off spreads its predictions
  // (checked below), so the top-1 comparison means something.
  const model = createModel("resnet20", { numClasses: 3, inputShape: [32, 32, 3] });
  const head = model.layers.at(-1)!;
  const kernel = tf.randomNormal([64, 3], 0, 1, "float32", 7);
  head.setWeights([kernel, tf.zeros([3])]);
  const x = await batchOf(ds, resolvePreprocess({ imgSize: 32 }));
  const logits = model.predict(x) as tf.Tensor;
  head.setWeights([kernel, tf.neg(tf.mean(logits, 0))]);
  await saveModel(model, path.join(tmp, "model"));
});

/** The preprocessed images of a dataset as one batch, computed without the eval code path. */
async function batchOf(
  ds: ReturnType<typeof openImageFolder>,
  p: ReturnType<typeof resolvePreprocess>,
): Promise<tf.Tensor4D> {
  const per = 32 * 32 * 3;
  const x = new Float32Array(ds.entries.length * per);
  for (let i = 0; i < ds.entries.length; i++) {
    normaliseInto(evalCrop(await decodeImage(ds.entries[i]!.file), p), x, i * per, p.mean, p.std);
  }
  return tf.tensor4d(x, [ds.entries.length, 32, 32, 3]);
}

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Top-1 / top-3 hits of the saved model computed here, without the eval code path. */
async function expected(cropPct: number, interpolation: "bilinear" | "bicubic") {
  const model = await loadModel(path.join(tmp, "model"));
  const ds = openImageFolder(path.join(tmp, "data"));
  const x = await batchOf(ds, resolvePreprocess({ imgSize: 32, cropPct, interpolation }));
  const pred = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(1));
  const classes = Array.from(await pred.data());
  pred.dispose();
  return {
    correct1: classes.filter((c, i) => c === ds.entries[i]!.label).length,
    predicted: new Set(classes).size,
  };
}

describe("senet-lab eval", () => {
  it("--json: top-1 equals model.predict + argmax on the same images; top-5 of 3 classes is 1", async () => {
    const r = cli(
      "resnet20",
      "--weights",
      path.join(tmp, "model"),
      "--data",
      path.join(tmp, "data"),
      "--batch",
      "5",
      "--crop-pct",
      "0.9",
      "--interpolation",
      "bicubic",
      "--json",
    );
    expect(r.stderr).toMatch(/evaluated 12 images in .* images\/s .*batch 5, backend cpu/);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    const want = await expected(0.9, "bicubic");
    expect(want.predicted).toBeGreaterThan(1); // the check means something: not one constant class
    expect(out).toMatchObject({
      model: "resnet20",
      randomInit: false,
      layout: "class-folders",
      numClasses: 3,
      n: 12,
      total: 12,
      correct1: want.correct1,
      top1: want.correct1 / 12,
      correct5: 12,
      top5: 1,
      batchSize: 5,
      backend: "cpu",
      preprocess: { imgSize: 32, cropPct: 0.9, scaleSize: 35, interpolation: "bicubic" },
    });
    expect(out.imagesPerSec).toBeGreaterThan(0);
    // Off a terminal the progress is plain lines, never carriage returns.
    expect(r.stderr).not.toContain("\r");
    expect(r.stderr).toMatch(/^eval \[#*-*\] +\d+% +\d+\/12 +top-1 /m);
  });

  it("the flat validation layout with a 1-based labels file gives the same top-1; the human form", async () => {
    const r = cli(
      "resnet20",
      "--weights",
      path.join(tmp, "model"),
      "--data",
      path.join(tmp, "val"),
      "--labels",
      path.join(tmp, "gt.txt"),
      "--label-base",
      "1",
      "--limit",
      "6",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^model {7}resnet20 \(.*model\)$/m);
    expect(r.stdout).toMatch(/^data .*\(ilsvrc2012-val, 3 classes; 6 of 12 images\)$/m);
    expect(r.stdout).toMatch(
      /^preprocess {2}resize shorter side to 36 \(bilinear\), centre crop 32, mean 0.485,0.456,0.406 std 0.229,0.224,0.225$/m,
    );
    expect(r.stdout).toMatch(/^top-1 {7}\d+\.\d\d % \(\d+\/6\)$/m);
    expect(r.stdout).toMatch(/^top-5 {7}100\.00 % \(6\/6\) \(top-3: the model has 3 classes\)$/m);
    expect(r.stdout).toMatch(/^throughput {2}\d+\.\d images\/s end to end/m);
    const full = cli(
      "resnet20",
      "--weights",
      path.join(tmp, "model"),
      "--data",
      path.join(tmp, "val"),
      "--labels",
      path.join(tmp, "gt.txt"),
      "--label-base",
      "1",
      "--json",
    );
    expect(JSON.parse(full.stdout).correct1).toBe((await expected(0.875, "bilinear")).correct1);
  });

  it("--random-init is labelled as such; --mean / --std apply", () => {
    const r = cli(
      "resnet20",
      "--random-init",
      "--img-size",
      "32",
      "--data",
      path.join(tmp, "data"),
      "--mean",
      "0.5,0.5,0.5",
      "--std",
      "0.5, 0.25, 0.5",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/centre crop 32, mean 0.5,0.5,0.5 std 0.5,0.25,0.5$/m);
    expect(r.stdout).toMatch(/RANDOM-INIT weights: chance accuracy, smoke check only/);
    expect(r.stderr).toMatch(/note: random-init/);
  });

  it("every flag has help", () => {
    for (const [name, f] of Object.entries(EVAL_FLAGS)) {
      expect(f.description.length, name).toBeGreaterThan(20);
    }
    const r = cli("--help");
    expect(r.code).toBe(0);
    for (const name of Object.keys(EVAL_FLAGS)) expect(r.stdout).toContain(`--${name}`);
  });

  it("refuses bad flags with exit 2, naming the value", () => {
    const data = path.join(tmp, "data");
    const weights = path.join(tmp, "model");
    const cases: [string[], RegExp][] = [
      [["resnet20", "--data", data], /needs --weights PATH \(or --random-init/],
      [["resnet20", "--weights", weights, "--random-init", "--data", data], /not both/],
      [["resnet20", "--weights", weights], /needs --data DIR/],
      [["resnet99", "--weights", weights, "--data", data], /unknown model "resnet99"/],
      [
        ["resnet20", "--weights", weights, "--data", data, "--crop-pct", "1.5"],
        /--crop-pct .*got "1.5"/,
      ],
      [
        ["resnet20", "--weights", weights, "--data", data, "--interpolation", "nearest"],
        /--interpolation must be one of "bilinear", "bicubic"; got "nearest"/,
      ],
      [
        ["resnet20", "--weights", weights, "--data", data, "--mean", "0.5,0.5"],
        /--mean takes three numbers R,G,B .*got "0.5,0.5"/,
      ],
      [
        ["resnet20", "--weights", weights, "--data", data, "--std", "0.5,0,0.5"],
        /std must be 3 finite numbers > 0/,
      ],
      [
        ["resnet20", "--weights", weights, "--data", data, "--batch", "0"],
        /--batch must be an integer >= 1; got "0"/,
      ],
      [
        [
          "resnet20",
          "--weights",
          weights,
          "--data",
          path.join(tmp, "val"),
          "--labels",
          path.join(tmp, "gt.txt"),
        ],
        /--labels needs --label-base 0\|1/,
      ],
      [
        ["resnet20", "--weights", weights, "--data", path.join(tmp, "nope")],
        /image folder ".*nope" does not exist/,
      ],
      [
        ["resnet20", "--weights", path.join(tmp, "w.pth"), "--data", data],
        /weights ".*w\.pth" do not exist/,
      ],
      [
        ["resnet20", "--weights", path.join(tmp, "gt.txt"), "--data", data],
        /a file of unknown kind; accepted: a senet-lab model folder .* or a PyTorch \/ timm weight file/,
      ],
      [
        ["resnet20", "--weights", data, "--data", data],
        /holds no model\.json \(nor model\/model\.json/,
      ],
      [
        ["resnet20", "--weights", weights, "--data", data, "--img-size", "64"],
        /takes 32×32×3 inputs but the crop is 64×64×3/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = cli(...args);
      expect(r.stderr, args.join(" ")).toMatch(re);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
    }
  });

  it("every header is read first: a broken file fails before the model runs", () => {
    const broken = path.join(tmp, "broken");
    fs.cpSync(path.join(tmp, "data"), broken, { recursive: true });
    fs.writeFileSync(path.join(broken, "dog", "2.jpg"), "truncated");
    const r = cli("resnet20", "--weights", path.join(tmp, "model"), "--data", broken);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read image ".*dog\/2\.jpg"/);
    expect(r.stderr).not.toMatch(/evaluated|eval \[/);
    // --skip-verify: the same file fails when its batch is decoded, still named.
    const late = cli(
      "resnet20",
      "--weights",
      path.join(tmp, "model"),
      "--data",
      broken,
      "--skip-verify",
      "--batch",
      "2",
    );
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/eval \[.*\n(.|\n)*cannot decode image ".*dog\/2\.jpg"/);
  });

  it("refuses other frameworks' files, and --layout / --set with a saved folder", () => {
    const h5 = path.join(tmp, "resnet50.h5");
    fs.writeFileSync(h5, "HDF");
    const r = cli("resnet20", "--weights", h5, "--data", path.join(tmp, "data"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a Keras HDF5 file; accepted: /);
    const s = cli(
      "resnet20",
      ...["--weights", path.join(tmp, "model"), "--data", path.join(tmp, "data")],
      ...["--set", "width=8"],
    );
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/overrides applies to random-init or a PyTorch \/ safetensors file/);
    const l = cli(
      "resnet20",
      ...["--weights", path.join(tmp, "model"), "--data", path.join(tmp, "data")],
      ...["--layout", "caffe"],
    );
    expect(l.stderr).toMatch(/--layout must be one of "torchvision", "timm", .*got "caffe"/);
  });

  it("a torchvision safetensors file (slim ResNet-18, 10 classes): top-1 equals loadPretrained + predict", async () => {
    const file = path.join(ROOT, "test", "fixtures", "pretrained", "resnet18_w8.safetensors");
    const r = cli(
      "resnet18",
      ...["--weights", file, "--set", "width=8", "--img-size", "64"],
      ...["--data", path.join(tmp, "data"), "--json"],
    );
    expect(r.stderr).toMatch(/evaluated 12 images/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const { loadPretrained } = await import("../../src/pretrained/index.js");
    const ref = await loadPretrained("resnet18", file, {
      overrides: { width: 8 },
      inputShape: [64, 64, 3],
    });
    const ds = openImageFolder(path.join(tmp, "data"));
    const p = resolvePreprocess({ imgSize: 64, ...ref.normalization });
    const per = 64 * 64 * 3;
    const x = new Float32Array(ds.entries.length * per);
    for (let i = 0; i < ds.entries.length; i++) {
      normaliseInto(evalCrop(await decodeImage(ds.entries[i]!.file), p), x, i * per, p.mean, p.std);
    }
    const logits = ref.model.predict(tf.tensor4d(x, [ds.entries.length, 64, 64, 3])) as tf.Tensor;
    const pred = Array.from(await logits.argMax(1).data());
    const rows = (await logits.array()) as number[][];
    const c5 = rows.filter((row, i) => {
      const t = row[ds.entries[i]!.label]!;
      return row.filter((v) => v > t).length < 5;
    }).length;
    expect(out).toMatchObject({
      weightsLayout: "torchvision",
      correct1: pred.filter((c, i) => c === ds.entries[i]!.label).length,
      correct5: c5,
      topK: 5,
      preprocess: { imgSize: 64, scaleSize: 73, mean: [0.485, 0.456, 0.406] },
    });
  });
});
