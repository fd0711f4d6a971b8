/**
 * The published ImageNet checkpoints of the SE paper's Table 2 networks and of the SGE table, with
 * the accuracy their authors report and the paper's number beside it. Notebook 09 evaluates the
 * ones a user has put in a folder; this table is data (sources named per row), not code.
 *
 * Published accuracies: torchvision's model docs (IMAGENET1K_V1 weights); the pretrainedmodels
 * package README ("Our porting" rows: its PyTorch ports of the SE authors' Caffe models, which
 * timm's legacy_* models load too); the PytorchInsight README (the SGE paper's own table).
 * Paper columns: SE paper Table 2 printed as top-1 / top-5 error, stored here as 100 − error;
 * the SGE table's numbers are accuracies already.
 */
import fs from "node:fs";
import path from "node:path";
import { defaultDataRoot } from "../data/registry.js";
import type { LayoutName } from "./key-maps.js";
import { PYTORCH_EXTENSIONS } from "./pth.js";

/** Environment variable naming the folder notebook 09 looks for checkpoint files in. */
export const WEIGHTS_DIR_ENV = "SENET_LAB_WEIGHTS_DIR";

/** One published checkpoint: what to load it as, and the numbers to compare with. */
export interface PublishedCheckpoint {
  /** Zoo model name it loads into. */
  model: string;
  /** Key layout of the file. */
  layout: LayoutName;
  /** Who published it, and under which name. */
  checkpoint: string;
  /** The file name it is published under (what a user downloads or finds in a cache). */
  fileHint: string;
  /** Which paper table the paper columns come from. */
  table: string;
  /** Top-1 accuracy (%) its publisher reports on ImageNet-val. */
  publishedTop1: number;
  /** Top-5 accuracy (%) its publisher reports. */
  publishedTop5: number;
  /** The paper's top-1 accuracy (%) for this network; null when the table has no row for it. */
  paperTop1: number | null;
  /** The paper's top-5 accuracy (%). */
  paperTop5: number | null;
}

/** A row whose paper columns come from SE Table 2, which prints top-1 / top-5 error. */
function table2Row(
  model: string,
  layout: LayoutName,
  checkpoint: string,
  table: string,
  [fileHint, publishedTop1, publishedTop5]: [string, number, number],
  [top1Err, top5Err]: [number, number],
): PublishedCheckpoint {
  const paperTop1 = round3(100 - top1Err);
  const paperTop5 = round3(100 - top5Err);
  return {
    model,
    layout,
    checkpoint,
    fileHint,
    table,
    publishedTop1,
    publishedTop5,
    paperTop1,
    paperTop5,
  };
}

/** torchvision's IMAGENET1K_V1 weights, beside Table 2's re-implementation column. */
const tv = (model: string, file: string, top1: number, top5: number, paperErr: [number, number]) =>
  table2Row(
    model,
    "torchvision",
    `torchvision ${model} IMAGENET1K_V1`,
    "SE Table 2 (re-implementation)",
    [file, top1, top5],
    paperErr,
  );

/** The SE authors' Caffe models as ported by pretrainedmodels, beside Table 2's SE column. */
const senet = (
  model: string,
  file: string,
  top1: number,
  top5: number,
  paperErr: [number, number],
) =>
  table2Row(
    model,
    "legacy-senet",
    `pretrainedmodels ${model} (port of the SE authors' Caffe model)`,
    "SE Table 2 (SE, r = 16)",
    [file, top1, top5],
    paperErr,
  );

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Every checkpoint notebook 09 knows, Table 2 order then the SGE table. */
export const PUBLISHED_CHECKPOINTS: readonly PublishedCheckpoint[] = [
  tv("resnet50", "resnet50-0676ba61.pth", 76.13, 92.862, [24.8, 7.48]),
  senet("se_resnet50", "se_resnet50-ce0d4300.pth", 77.636, 93.752, [23.29, 6.62]),
  tv("resnet101", "resnet101-63fe2227.pth", 77.374, 93.546, [23.17, 6.52]),
  senet("se_resnet101", "se_resnet101-7e38fcc6.pth", 78.396, 94.258, [22.38, 6.07]),
  tv("resnet152", "resnet152-394f9c45.pth", 78.312, 94.046, [22.42, 6.34]),
  senet("se_resnet152", "se_resnet152-d17c99b7.pth", 78.658, 94.374, [21.57, 5.73]),
  tv("resnext50_32x4d", "resnext50_32x4d-7cdf4587.pth", 77.618, 93.698, [22.11, 5.9]),
  senet("se_resnext50_32x4d", "se_resnext50_32x4d-a260b3a4.pth", 79.076, 94.434, [21.1, 5.49]),
  senet("se_resnext101_32x4d", "se_resnext101_32x4d-3b2fe3d8.pth", 80.236, 95.028, [20.7, 5.01]),
  ...(["sge_resnet50", "sge_resnet101"] as const).map(
    (model, i): PublishedCheckpoint => ({
      model,
      layout: "pytorchinsight",
      checkpoint: `PytorchInsight ${model}`,
      fileHint: `${model}.pth (PytorchInsight README's download link)`,
      table: "SGE table",
      publishedTop1: i === 0 ? 77.584 : 78.798,
      publishedTop5: i === 0 ? 93.664 : 94.368,
      // The SGE paper's table is the same checkpoints' evaluation.
      paperTop1: i === 0 ? 77.584 : 78.798,
      paperTop5: i === 0 ? 93.664 : 94.368,
    }),
  ),
];

/** Where checkpoint files are looked for: $SENET_LAB_WEIGHTS_DIR, else <cache>/senet-lab/weights beside the datasets. */
export function defaultWeightsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[WEIGHTS_DIR_ENV];
  return fromEnv ? path.resolve(fromEnv) : path.join(path.dirname(defaultDataRoot(env)), "weights");
}

/** Suffixes a checkpoint file may have: safetensors, or a PyTorch pickle. */
const CHECKPOINT_SUFFIXES = [".safetensors", ...PYTORCH_EXTENSIONS];

/**
 * The checkpoint file for `entry` in `dir`, or null: its published file name, else a file named
 * `<model>` or `<model>-…`/`<model>_…`/`<model>.…` with a checkpoint suffix (so `resnet50` never
 * matches `se_resnet50…`). Several candidates: the published name wins, then the first by name.
 */
export function findCheckpointFile(dir: string, entry: PublishedCheckpoint): string | null {
  if (!fs.existsSync(dir)) return null;
  const names = fs.readdirSync(dir).sort();
  if (names.includes(entry.fileHint)) return path.join(dir, entry.fileHint);
  const stem = new RegExp(`^${entry.model.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([-_.]|$)`);
  const hit = names.find(
    (n) => stem.test(n) && CHECKPOINT_SUFFIXES.some((s) => n.toLowerCase().endsWith(s)),
  );
  return hit ? path.join(dir, hit) : null;
}
