/**
 * `senet-lab eval <model> --weights PATH --data DIR`: top-1 / top-5 of a zoo model on an image
 * folder (class sub-folders, or the flat ILSVRC2012 validation folder with a labels file), with
 * the standard ImageNet preprocessing. Progress and throughput go to stderr, the result to stdout
 * (`--json`: one object). Every flag is checked, the folder listed and the labels read before
 * the model is loaded or an image decoded. The work is in src/eval and src/data/image-folder.ts.
 */
import fs from "node:fs";
import { ConfigError, oneOf, quote } from "../errors.js";
import { type CommandSpec, type FlagValues, int, list, str } from "./command.js";

/** The eval command's flags (shared with its tests, which check every one has help). */
export const EVAL_FLAGS: NonNullable<CommandSpec["flags"]> = {
  weights: {
    type: "string",
    valueName: "PATH",
    description:
      "The weights: a senet-lab model folder (or a run folder holding model/), or a PyTorch / timm file (.safetensors, .pth, ...).",
  },
  layout: {
    type: "string",
    valueName: "NAME",
    description:
      "Key names of a PyTorch / safetensors file: torchvision, timm, legacy-senet, pytorchinsight (default: from the model name or the keys).",
  },
  set: {
    type: "string",
    multiple: true,
    valueName: "KEY=VALUE",
    description:
      "Model config key for a PyTorch file or --random-init, e.g. width=8 (a saved folder fixes its own network).",
  },
  "random-init": {
    type: "boolean",
    description:
      "Evaluate randomly initialised weights instead (chance accuracy): a smoke check of data and pipeline.",
  },
  data: {
    type: "string",
    valueName: "DIR",
    description:
      "Image folder: one sub-folder per class (torchvision ImageFolder; classes = sorted names), or flat with --labels.",
  },
  labels: {
    type: "string",
    valueName: "FILE",
    description:
      "Labels of a flat folder (ILSVRC2012 val layout): one label, or '<file> <label>', per line in file-name order.",
  },
  "label-base": {
    type: "string",
    valueName: "0|1",
    description:
      "What the first class is numbered in --labels (required with it): 1 for the devkit's ground truth, 0 for Caffe's val.txt.",
  },
  "label-names": {
    type: "string",
    valueName: "FILE",
    description:
      "Class name (WNID) of each label number, in label order (devkit ILSVRC2012_ID order); maps labels to the model's classes.",
  },
  classes: {
    type: "string",
    valueName: "FILE",
    description:
      "The model's classes in output order, one name per line (default: sorted folder names, or sorted --label-names).",
  },
  limit: {
    type: "string",
    valueName: "N",
    description:
      "Score only N images, spread evenly over the set (every class when N >= classes); for quick checks.",
  },
  batch: {
    type: "string",
    valueName: "N",
    description: "Images per forward pass (default 32).",
  },
  "img-size": {
    type: "string",
    valueName: "N",
    description:
      "Side of the centre crop (default: the model's input size, 224 for ImageNet models).",
  },
  "crop-pct": {
    type: "string",
    valueName: "X",
    description:
      "timm's crop_pct in (0, 1]: the shorter side is resized to floor(img-size / X) (default 0.875: 256 for 224).",
  },
  interpolation: {
    type: "string",
    valueName: "bilinear|bicubic",
    description:
      "Resampling kernel of the resize (default bilinear, torchvision's; most timm models use bicubic).",
  },
  mean: {
    type: "string",
    valueName: "R,G,B",
    description:
      "Per-channel mean in [0, 1] subtracted after scaling (default: the weight layout's, else ImageNet 0.485,0.456,0.406).",
  },
  std: {
    type: "string",
    valueName: "R,G,B",
    description:
      "Per-channel std divided by (default: the weight layout's, else ImageNet 0.229,0.224,0.225).",
  },
  "skip-verify": {
    type: "boolean",
    description:
      "Skip reading every image's header before the model loads (about 0.5 ms a file; it makes a broken file fail first, not hours in).",
  },
  json: {
    type: "boolean",
    description: "Print the result as one JSON object (top1, top5, n, imagesPerSec, ...).",
  },
};

/** Parses --crop-pct, naming the flag and value on error. */
function cropPct(flags: FlagValues): number | undefined {
  const v = str(flags, "crop-pct");
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!(v.trim() !== "" && Number.isFinite(x) && x > 0 && x <= 1)) {
    throw new ConfigError(`--crop-pct must be a number in (0, 1] (e.g. 0.875); got ${quote(v)}`);
  }
  return x;
}

/** Parses --mean / --std: three comma-separated numbers, naming the flag and value on error. */
function triple(flags: FlagValues, name: string): [number, number, number] | undefined {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  const parts = v.split(",").map((x) => x.trim());
  const nums = parts.map(Number);
  if (parts.length !== 3 || parts.some((x) => x === "") || !nums.every(Number.isFinite)) {
    throw new ConfigError(
      `--${name} takes three numbers R,G,B (e.g. 0.5,0.5,0.5); got ${quote(v)}`,
    );
  }
  return nums as [number, number, number];
}

/** The eval command. */
export const evalCommand: CommandSpec = {
  name: "eval",
  summary:
    "Top-1 / top-5 of a model on an image folder (ImageNet layouts, torchvision preprocessing).",
  args: "<model>",
  flags: EVAL_FLAGS,
  run: async (flags, positionals) => {
    const { listModels, presetConfig } = await import("../models/index.js");
    if (positionals.length !== 1) {
      throw new ConfigError(
        `eval takes one model name; got ${positionals.length === 0 ? "none" : quote(positionals)}; models: ${listModels().join(", ")}`,
      );
    }
    const name = positionals[0]!;
    presetConfig(name);
    const weights = str(flags, "weights") ?? null;
    const randomInit = flags["random-init"] === true;
    if (weights === null && !randomInit) {
      throw new ConfigError("eval needs --weights PATH (or --random-init for a smoke check)");
    }
    if (weights !== null && randomInit) {
      throw new ConfigError("give --weights or --random-init, not both");
    }
    const dataDir = str(flags, "data");
    if (dataDir === undefined) throw new ConfigError("eval needs --data DIR (an image folder)");
    const labels = str(flags, "labels");
    const baseRaw = str(flags, "label-base");
    let labelBase: 0 | 1 | undefined;
    if (baseRaw !== undefined) {
      if (baseRaw !== "0" && baseRaw !== "1") {
        throw new ConfigError(`--label-base must be 0 or 1; got ${quote(baseRaw)}`);
      }
      labelBase = baseRaw === "1" ? 1 : 0;
    }
    if (labels !== undefined && labelBase === undefined) {
      throw new ConfigError(
        "--labels needs --label-base 0|1: what the first class is numbered in it (1 for ILSVRC2012_validation_ground_truth.txt, 0 for Caffe's val.txt)",
      );
    }
    const limit = int(flags, "limit") ?? null;
    const batchSize = int(flags, "batch") ?? 32;
    const imgSize = int(flags, "img-size");
    const interpRaw = str(flags, "interpolation");
    const { INTERPOLATIONS, resolvePreprocess, verifyImages } = await import(
      "../data/preprocess.js"
    );
    const interpolation =
      interpRaw === undefined ? undefined : oneOf("--interpolation", interpRaw, INTERPOLATIONS);
    const crop = cropPct(flags);
    const mean = triple(flags, "mean");
    const std = triple(flags, "std");
    const preprocess: {
      mean?: readonly number[];
      std?: readonly number[];
      imgSize?: number;
      cropPct?: number;
      interpolation?: (typeof INTERPOLATIONS)[number];
    } = {
      ...(mean !== undefined ? { mean } : {}),
      ...(std !== undefined ? { std } : {}),
      ...(imgSize !== undefined ? { imgSize } : {}),
      ...(crop !== undefined ? { cropPct: crop } : {}),
      ...(interpolation !== undefined ? { interpolation } : {}),
    };
    resolvePreprocess(preprocess); // flag values checked before anything is read
    const { LAYOUT_NAMES } = await import("../pretrained/key-maps.js");
    const layoutRaw = str(flags, "layout");
    const layout = layoutRaw === undefined ? undefined : oneOf("--layout", layoutRaw, LAYOUT_NAMES);
    const { parseSettings } = await import("./complexity.js");
    const overrides = parseSettings(list(flags, "set"));

    const { openImageFolder } = await import("../data/image-folder.js");
    const labelNames = str(flags, "label-names");
    const classes = str(flags, "classes");
    const data = openImageFolder(dataDir, {
      ...(labels !== undefined ? { labels } : {}),
      ...(labelBase !== undefined ? { labelBase } : {}),
      ...(labelNames !== undefined ? { labelNames } : {}),
      ...(classes !== undefined ? { classes } : {}),
    });
    for (const note of data.notes) process.stderr.write(`senet-lab eval: note: ${note}\n`);
    if (flags["skip-verify"] !== true) {
      const { spreadIndices } = await import("../eval/evaluate.js");
      const files = spreadIndices(data.entries.length, limit).map((i) => data.entries[i]!.file);
      if (files.length > 2000) {
        process.stderr.write(`senet-lab eval: checking ${files.length} image headers\n`);
      }
      await verifyImages(files);
    }

    const { initBackend } = await import("../backend/index.js");
    const backend = await initBackend();
    const { loadEvalModel } = await import("../eval/weights.js");
    const { evaluateClassifier } = await import("../eval/evaluate.js");
    const { EvalProgressBar } = await import("../eval/progress.js");
    const size = imgSize ?? presetConfig(name, overrides).inputShape[0];
    const isFile = weights !== null && fs.statSync(weights, { throwIfNoEntry: false })?.isFile();
    const loaded = await loadEvalModel(name, weights, {
      randomInit,
      ...(randomInit ? { numClasses: data.numClasses, inputShape: [size, size, 3] } : {}),
      ...(isFile && imgSize !== undefined ? { inputShape: [imgSize, imgSize, 3] } : {}),
      ...(layout !== undefined ? { layout } : {}),
      ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
    });
    for (const note of loaded.notes) process.stderr.write(`senet-lab eval: note: ${note}\n`);
    // The weights' own input normalisation, unless --mean / --std say otherwise.
    if (loaded.normalization) {
      preprocess.mean ??= loaded.normalization.mean;
      preprocess.std ??= loaded.normalization.std;
    }
    const bar = new EvalProgressBar();
    let result: Awaited<ReturnType<typeof evaluateClassifier>>;
    try {
      result = await evaluateClassifier(loaded.model, data, {
        batchSize,
        limit,
        preprocess,
        onProgress: bar.update,
      });
    } finally {
      bar.end();
    }
    const p = result.preprocess;
    const out = {
      model: name,
      weights: loaded.source,
      weightsLayout: loaded.layout,
      randomInit,
      data: data.root,
      layout: data.layout,
      numClasses: data.numClasses,
      n: result.n,
      total: result.total,
      top1: result.top1,
      top5: result.top5,
      topK: result.topK,
      correct1: result.correct1,
      correct5: result.correct5,
      seconds: result.seconds,
      imagesPerSec: result.imagesPerSec,
      modelSeconds: result.modelSeconds,
      batchSize: result.batchSize,
      backend: backend.name,
      preprocess: {
        imgSize: p.imgSize,
        cropPct: p.cropPct,
        scaleSize: p.scaleSize,
        interpolation: p.interpolation,
        mean: p.mean,
        std: p.std,
      },
    };
    process.stderr.write(
      `evaluated ${result.n} images in ${result.seconds.toFixed(2)} s: ${result.imagesPerSec.toFixed(1)} images/s (model ${result.modelSeconds.toFixed(2)} s; batch ${batchSize}, backend ${backend.name})\n`,
    );
    if (flags.json === true) {
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return 0;
    }
    const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
    const lines = [
      `model       ${name}${randomInit ? " (RANDOM-INIT weights: chance accuracy, smoke check only)" : ` (${loaded.source}${loaded.layout ? `, ${loaded.layout} layout` : ""})`}`,
      `data        ${data.root} (${data.layout}, ${data.numClasses} classes; ${result.n} of ${result.total} images)`,
      `preprocess  resize shorter side to ${p.scaleSize} (${p.interpolation}), centre crop ${p.imgSize}, mean ${p.mean.join(",")} std ${p.std.join(",")}`,
      `top-1       ${pct(result.top1)} (${result.correct1}/${result.n})`,
      `top-5       ${pct(result.top5)} (${result.correct5}/${result.n})${result.topK < 5 ? ` (top-${result.topK}: the model has ${result.topK} classes)` : ""}`,
      `throughput  ${result.imagesPerSec.toFixed(1)} images/s end to end (${result.seconds.toFixed(2)} s; batch ${batchSize}, backend ${backend.name})`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};
