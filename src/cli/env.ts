/** `senet-lab env`: what this machine runs, and what to do about what is missing. */
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  AUTO_ORDER,
  describeBackend,
  initBackend,
  probeBackend,
  threadCount,
} from "../backend/index.js";
import {
  checkSystem,
  DEBIAN_FASHION_MNIST,
  installCommand,
  KERNEL_JSON,
  kernelRegistered,
  SYSTEM_PYTHON,
} from "../setup/system.js";
import { PROJECT_ROOT } from "../util/fs.js";
import type { CommandSpec } from "./command.js";

const require = createRequire(import.meta.url);

function pkgVersion(name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Gathers the environment report as one JSON-serialisable object. */
export async function environmentReport(): Promise<Record<string, unknown>> {
  const backends: Record<string, string> = {};
  for (const name of AUTO_ORDER) {
    const p = await probeBackend(name);
    backends[name] = p.ok ? `available: ${p.loaded.detail}` : `unavailable: ${p.reason}`;
  }
  const info = await initBackend(undefined, { quiet: true });
  const system = checkSystem();
  const missing = system.filter((s) => !s.present).map((s) => s.piece);
  const embedded = path.join(PROJECT_ROOT, "data", "fashion-mnist-mini");
  return {
    backend: { chosen: info.name, line: describeBackend(info), all: backends },
    threads: threadCount(),
    machine: {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.availableParallelism(),
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
    },
    versions: {
      node: process.versions.node,
      "senet-lab": pkgVersion("senet-lab"),
      "@tensorflow/tfjs": tf.version.tfjs,
      "@tensorflow/tfjs-backend-wasm": pkgVersion("@tensorflow/tfjs-backend-wasm"),
      "@tensorflow/tfjs-node": pkgVersion("@tensorflow/tfjs-node") ?? "not installed",
      "@tensorflow/tfjs-node-gpu": pkgVersion("@tensorflow/tfjs-node-gpu") ?? "not installed",
      tslab: pkgVersion("tslab"),
      "danfojs-node": pkgVersion("danfojs-node"),
      "plotly.js-dist": pkgVersion("plotly.js-dist"),
    },
    python: SYSTEM_PYTHON,
    system: Object.fromEntries(
      system.map((s) => [s.piece.id, s.present ? "present" : `missing: ${s.piece.without}`]),
    ),
    kernel: kernelRegistered()
      ? `registered (${path.relative(PROJECT_ROOT, KERNEL_JSON)})`
      : "not registered: run `npm run setup`",
    datasets: {
      "fashion-mnist": fs.existsSync(path.join(DEBIAN_FASHION_MNIST, "train-images-idx3-ubyte.gz"))
        ? DEBIAN_FASHION_MNIST
        : "missing",
      "fashion-mnist-mini": fs.existsSync(path.join(embedded, "train-images-idx3-ubyte.gz"))
        ? "data/fashion-mnist-mini (embedded 2,000/500 subset)"
        : "missing",
      cifar: process.env.SENET_LAB_DATA_DIR
        ? `looked for under SENET_LAB_DATA_DIR=${process.env.SENET_LAB_DATA_DIR}`
        : "not configured (download it and set SENET_LAB_DATA_DIR, see README)",
    },
    fix:
      missing.length > 0
        ? installCommand(missing)
        : kernelRegistered()
          ? "nothing to fix"
          : "npm run setup",
  };
}

function printReport(r: Record<string, unknown>, indent = ""): void {
  for (const [k, v] of Object.entries(r)) {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      process.stdout.write(`${indent}${k}:\n`);
      printReport(v as Record<string, unknown>, `${indent}  `);
    } else {
      process.stdout.write(`${indent}${k}: ${String(v)}\n`);
    }
  }
}

/** The env command. */
export const envCommand: CommandSpec = {
  name: "env",
  summary: "Show the backend, versions, threads and which system pieces are present.",
  flags: { json: { type: "boolean", description: "Print one JSON object instead of text." } },
  run: async (flags) => {
    const report = await environmentReport();
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report);
    return 0;
  },
};
