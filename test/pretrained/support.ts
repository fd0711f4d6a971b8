/** Shared helpers of the pretrained-weight tests: the PyTorch fixtures (scripts/fixtures/gen_pretrained_fixtures.py) and the error measure. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { type LayoutName, loadPretrained, readSafetensors } from "../../src/pretrained/index.js";
import { SYSTEM_PYTHON } from "../../src/setup/system.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

/** The committed fixtures. */
export const FIXTURES = path.join(PROJECT_ROOT, "test", "fixtures", "pretrained");
/** The generator (for the cases made at test time). */
export const GENERATOR = path.join(
  PROJECT_ROOT,
  "scripts",
  "fixtures",
  "gen_pretrained_fixtures.py",
);

/** One case of a manifest.json. */
export interface ParityCase {
  /** Zoo model. */
  model: string;
  /** Weight layout of the file. */
  layout: LayoutName;
  /** Config overrides of the slim network. */
  overrides: Record<string, unknown>;
  /** Classes. */
  numClasses: number;
  /** Input [H, W, C]. */
  inputShape: [number, number, number];
  /** Stored dtype. */
  dtype: string;
  /** Weight file, relative to the manifest. */
  file: string;
  /** Input file (NCHW float32 under key "input"). */
  input: string;
  /** PyTorch's float64 logits, flattened. */
  logits: number[];
  /** PyTorch float32 against float64, same measure. */
  torch_f32_rel_err: number;
  /** A DataParallel-style .pth of the same weights, when generated with --pth. */
  pth?: string;
}

/** Reads a manifest.json's cases. */
export function readManifest(dir: string): Record<string, ParityCase> {
  return (
    JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as {
      cases: Record<string, ParityCase>;
    }
  ).cases;
}

/** The relative error every parity check uses: max|a − b| / max|b| over all logits (b = PyTorch's float64 reference). */
export function relativeError(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (ours.length !== reference.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - reference[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return diff / scale;
}

/** Reads an NCHW input file as an NHWC tensor. */
export async function readInput(file: string): Promise<tf.Tensor4D> {
  const t = (await readSafetensors(file)).tensors.get("input")!;
  return tf.tidy(() =>
    tf.transpose(
      tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]),
      [0, 2, 3, 1],
    ),
  );
}

/** Imports a case's weights into our zoo network, runs the batch in inference mode, returns the relative error. */
export async function caseError(dir: string, c: ParityCase, file = c.file): Promise<number> {
  const { model } = await loadPretrained(c.model, path.join(dir, file), {
    layout: c.layout,
    overrides: c.overrides,
    inputShape: c.inputShape,
  });
  const x = await readInput(path.join(dir, c.input));
  const y = model.predict(x) as tf.Tensor;
  const ours = await y.data();
  tf.dispose([x, y]);
  model.dispose();
  return relativeError(ours, c.logits);
}

/** Whether /usr/bin/python3 has torch and torchvision (the cases generated at test time need both), with the reason when not. */
export function torchAvailable(): { ok: boolean; reason: string } {
  const r = spawnSync(SYSTEM_PYTHON, ["-c", "import torch, torchvision"], { encoding: "utf8" });
  if (r.error) return { ok: false, reason: `no ${SYSTEM_PYTHON}: ${r.error.message}` };
  if (r.status !== 0) {
    return {
      ok: false,
      reason: `${SYSTEM_PYTHON} lacks torch/torchvision (apt-get install python3-torch python3-torchvision): ${r.stderr.trim().split("\n").pop()}`,
    };
  }
  return { ok: true, reason: "" };
}

/** Runs the generator for some cases into `dir` (throws with its stderr on failure). */
export function generate(dir: string, cases: string[], extra: string[] = []): void {
  const args = [GENERATOR, "--out", dir, ...cases.flatMap((c) => ["--case", c]), ...extra];
  const r = spawnSync(SYSTEM_PYTHON, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`generator failed (${r.status}): ${r.stderr}`);
}
