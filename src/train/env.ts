/** What a run records about where it ran (env.json): backend, versions, machine. */
import { createRequire } from "node:module";
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import type { BackendInfo } from "../backend/index.js";
import { type CodeInfo, describeCode } from "../util/code-hash.js";

/** The content of env.json. */
export interface RunEnv {
  /** The backend that trained (name, tfjs backend, detail, threads, what auto skipped). */
  backend: BackendInfo | { name: string; tfBackend: string; detail: string };
  /** Versions of what computes. */
  versions: { node: string; tfjs: string; tfjsCore: string; senetLab: string };
  /** The machine. */
  machine: {
    platform: string;
    arch: string;
    cpu: string;
    cores: number;
    memoryGiB: number;
    hostname: string;
  };
  /** When this process started (or resumed) the run, ISO time. */
  startedAt: string;
  /** Epochs already done when this process started (0: fresh start). */
  resumedFromEpoch: number;
  /** The code that trained: training-code hash, git commit, uncommitted changes. */
  code: CodeInfo;
  /** The data as loaded: where from, split sizes, normalisation statistics. */
  data?: DataInfo;
}

/** What env.json records about the dataset a run loaded. */
export interface DataInfo {
  /** Folder (or "embedded:…", "synthetic") the files came from. */
  source: string;
  /** Images in the train, val and test splits. */
  counts: { train: number; val: number; test: number };
  /** Per-channel mean used for normalisation (from the training split, in [0, 1]). */
  mean: number[];
  /** Per-channel standard deviation used for normalisation. */
  std: number[];
}

/** Describes this process's environment; `backend` from currentBackend(), or tfjs's own name. */
export function describeEnv(backend: BackendInfo | undefined, resumedFromEpoch: number): RunEnv {
  const require = createRequire(import.meta.url);
  const pkg = require("../../package.json") as { version: string };
  return {
    backend: backend ?? {
      name: tf.getBackend(),
      tfBackend: tf.getBackend(),
      detail: "set outside senet-lab",
    },
    versions: {
      node: process.version,
      tfjs: tf.version.tfjs,
      tfjsCore: tf.version_core,
      senetLab: pkg.version,
    },
    machine: {
      platform: `${os.type()} ${os.release()}`,
      arch: os.arch(),
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.availableParallelism(),
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      hostname: os.hostname(),
    },
    startedAt: new Date().toISOString(),
    resumedFromEpoch,
    code: describeCode(),
  };
}
