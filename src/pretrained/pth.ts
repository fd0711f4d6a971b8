/**
 * The bridge to PyTorch pickles: a .pth/.pt checkpoint is unpickled by PyTorch itself (running
 * scripts/pth_to_safetensors.py under /usr/bin/python3, or $SENET_LAB_PYTHON), written to a
 * temporary safetensors file and read from there. Unpickling needs Python and torch; when either
 * is missing the error says what to install instead of a stack trace.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SYSTEM_PYTHON } from "../setup/system.js";
import { PROJECT_ROOT } from "../util/fs.js";
import { WeightFileError } from "./errors.js";
import { readSafetensors, type StoredTensor } from "./safetensors.js";

/** File endings read as PyTorch pickles (everything else is read as safetensors). */
export const PYTORCH_EXTENSIONS = [".pth", ".pt", ".pth.tar", ".ckpt", ".bin"] as const;

/** The converter script run under Python. */
export const PTH_CONVERTER = path.join(PROJECT_ROOT, "scripts", "pth_to_safetensors.py");

/** What to install when PyTorch is missing (shown in the error). */
export const TORCH_INSTALL_HINT =
  "reading .pth/.pt files needs PyTorch under /usr/bin/python3 (Debian: apt-get install python3-torch, or `npx senet-lab setup`; elsewhere pip install torch and set SENET_LAB_PYTHON to that python), or convert the file to safetensors where PyTorch is installed: python3 scripts/pth_to_safetensors.py IN.pth OUT.safetensors";

/** True when `file` is read through PyTorch (by its ending). */
export function isPytorchFile(file: string): boolean {
  const lower = file.toLowerCase();
  return PYTORCH_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** Converts a PyTorch checkpoint to a safetensors file (WeightFileError with the install hint when torch is missing). */
export async function convertPthToSafetensors(file: string, out: string): Promise<void> {
  if (!fs.existsSync(file)) throw new WeightFileError(file, "no such file");
  const python = process.env.SENET_LAB_PYTHON ?? SYSTEM_PYTHON;
  await new Promise<void>((resolve, reject) => {
    execFile(
      python,
      [PTH_CONVERTER, file, out],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const code = (error as NodeJS.ErrnoException).code;
        const message = String(stderr).trim() || error.message;
        if (code === "ENOENT") {
          reject(
            new WeightFileError(file, `no Python at ${python}; ${TORCH_INSTALL_HINT}`, {
              cause: error,
            }),
          );
        } else if (error.code === 3) {
          reject(new WeightFileError(file, `${message}; ${TORCH_INSTALL_HINT}`, { cause: error }));
        } else {
          reject(
            new WeightFileError(file, `PyTorch could not convert it: ${message}`, { cause: error }),
          );
        }
      },
    );
  });
}

/** Reads a PyTorch checkpoint's state dict (through a temporary safetensors file, removed after). */
export async function readPytorchStateDict(file: string): Promise<Map<string, StoredTensor>> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "senet-lab-pth-"));
  try {
    const out = path.join(dir, "weights.safetensors");
    await convertPthToSafetensors(file, out);
    return (await readSafetensors(out)).tensors;
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
