/**
 * One loader per backend. Each registers its tfjs backend and returns what runs, or throws an
 * Error whose message is the reason it cannot load here (shown by `senet-lab env`).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { BackendUnavailableError } from "../errors.js";
import type { LoadedBackend } from "./types.js";

const require = createRequire(import.meta.url);

/** libtensorflow through @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node (CPU). */
export async function loadTensorflow(): Promise<LoadedBackend> {
  const failures: string[] = [];
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    let dir: string;
    try {
      dir = path.dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      continue; // not installed
    }
    // A failed libtensorflow download leaves the package without its binding. Requiring it
    // anyway registers ~150 kernels before failing (and warns on every retry), so look first.
    const lib = path.join(dir, "lib");
    const hasBinding =
      fs.existsSync(lib) &&
      fs.readdirSync(lib).some((d) => fs.existsSync(path.join(lib, d, "tfjs_binding.node")));
    if (!hasBinding) {
      failures.push(
        `${pkg} is installed without its libtensorflow binary (the download at install time failed)`,
      );
      continue;
    }
    try {
      require(pkg);
      const version = (require(`${pkg}/package.json`) as { version: string }).version;
      return { tfBackend: "tensorflow", detail: `${pkg} ${version} (libtensorflow)` };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const missing = e?.code === "MODULE_NOT_FOUND" && String(e.message).includes(pkg);
      if (missing) continue;
      const msg = String(e?.message ?? err);
      failures.push(
        msg.includes("tfjs_binding.node")
          ? `${pkg} is installed without its libtensorflow binary (the download at install time failed)`
          : `${pkg} failed to load: ${msg.split("\n")[0]}`,
      );
    }
  }
  throw new BackendUnavailableError(
    failures.length > 0
      ? failures.join("; ")
      : "@tensorflow/tfjs-node(-gpu) not installed (its install downloads libtensorflow, which needs internet)",
  );
}

/** Our native oneDNN backend (native/); see src/backend/onednn.ts. */
export async function loadOnednn(threads: number): Promise<LoadedBackend> {
  const { registerOnednnBackend } = await import("./onednn.js");
  return registerOnednnBackend(threads);
}

/** XNNPACK through WebAssembly, with the gradient kernels it lacks added (wasm-kernels.ts). */
export async function loadWasm(): Promise<LoadedBackend> {
  await import("@tensorflow/tfjs-backend-wasm");
  const { registerWasmTrainingKernels } = await import("./wasm-kernels.js");
  registerWasmTrainingKernels();
  const version = (require("@tensorflow/tfjs-backend-wasm/package.json") as { version: string })
    .version;
  return { tfBackend: "wasm", detail: `@tensorflow/tfjs-backend-wasm ${version} (SIMD, 1 thread)` };
}

/** The pure-JS cpu backend, with its slow Conv2DBackpropFilter replaced (cpu-kernels.ts). */
export async function loadCpu(): Promise<LoadedBackend> {
  const { registerCpuTrainingKernels } = await import("./cpu-kernels.js");
  registerCpuTrainingKernels();
  return { tfBackend: "cpu", detail: `@tensorflow/tfjs-backend-cpu ${tf.version_core} (pure JS)` };
}
