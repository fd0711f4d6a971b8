/**
 * Backend selection, in one place. `SENET_LAB_BACKEND` (or the `choice` argument) names one of
 * BACKEND_CHOICES; "auto" takes the fastest that loads on this machine. Every loader either
 * registers its tfjs backend or throws with the reason it cannot, so `senet-lab env` and the
 * auto choice can say why a faster backend was passed over.
 */
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { BackendUnavailableError, ConfigError, quote } from "../errors.js";
import { registerExtraGradients } from "../ops/index.js";
import { loadCpu, loadOnednn, loadTensorflow, loadWasm } from "./loaders.js";
import type { LoadedBackend } from "./types.js";

// The native oneDNN backend and the fused batch norm, so senet-lab/backend is the whole module.
export * from "./onednn-api.js";
export type { LoadedBackend } from "./types.js";

/** Values accepted by SENET_LAB_BACKEND, fastest first after "auto". */
export const BACKEND_CHOICES = ["auto", "tensorflow", "onednn", "wasm", "cpu"] as const;
/** A value of SENET_LAB_BACKEND. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** A backend that actually runs tensors. */
export type BackendName = Exclude<BackendChoice, "auto">;

/** The outcome of backend selection, recorded with every result. */
export interface BackendInfo extends LoadedBackend {
  /** Our name of the backend in use. */
  name: BackendName;
  /** What was asked for. */
  requested: BackendChoice;
  /** Faster backends that auto passed over, with the reason each failed to load. */
  skipped: { name: BackendName; reason: string }[];
  /** Threads the native backends use (SENET_LAB_THREADS, default: all cores). */
  threads: number;
}

/** Order auto tries: GPU/libtensorflow, then our oneDNN addon, then wasm, then pure JS. */
export const AUTO_ORDER: readonly BackendName[] = ["tensorflow", "onednn", "wasm", "cpu"];

const LOADERS: Record<BackendName, (threads: number) => Promise<LoadedBackend>> = {
  tensorflow: loadTensorflow,
  onednn: loadOnednn,
  wasm: loadWasm,
  cpu: loadCpu,
};

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;
const loaded = new Map<BackendName, LoadedBackend>();

/** Threads for native kernels: SENET_LAB_THREADS or every core. */
export function threadCount(): number {
  const raw = process.env.SENET_LAB_THREADS;
  if (raw === undefined || raw === "") return os.availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`SENET_LAB_THREADS must be a positive integer; got ${quote(raw)}`);
  }
  return n;
}

/** Reads SENET_LAB_BACKEND, validating it; "auto" when unset. */
export function requestedBackend(): BackendChoice {
  const raw = process.env.SENET_LAB_BACKEND;
  if (raw === undefined || raw === "") return "auto";
  if ((BACKEND_CHOICES as readonly string[]).includes(raw)) return raw as BackendChoice;
  throw new ConfigError(
    `SENET_LAB_BACKEND must be one of ${BACKEND_CHOICES.join(", ")}; got ${quote(raw)}`,
  );
}

/** Tries to load one backend without switching to it; returns the reason on failure. */
export async function probeBackend(
  name: BackendName,
): Promise<{ ok: true; loaded: LoadedBackend } | { ok: false; reason: string }> {
  const have = loaded.get(name);
  if (have) return { ok: true, loaded: have };
  try {
    // Gradients are global in tfjs: ours are registered here, for whichever loader runs, so
    // that no backend can miss one.
    registerExtraGradients();
    const l = await LOADERS[name](threadCount());
    loaded.set(name, l);
    return { ok: true, loaded: l };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Selects and activates a backend (memoised: later calls with the same choice are free).
 * Prints one line to stderr saying which backend runs and why, unless `quiet` or
 * SENET_LAB_QUIET=1. A named backend that cannot load throws BackendUnavailableError.
 */
export async function initBackend(
  choice: BackendChoice = requestedBackend(),
  options: { quiet?: boolean } = {},
): Promise<BackendInfo> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new ConfigError(
      `backend must be one of ${BACKEND_CHOICES.join(", ")}; got ${quote(choice)}`,
    );
  }
  if (current && current.requested === choice) return current;
  if (pending) await pending.catch(() => undefined);
  if (current && current.requested === choice) return current;
  pending = select(choice, options.quiet ?? process.env.SENET_LAB_QUIET === "1");
  try {
    current = await pending;
    return current;
  } finally {
    pending = undefined;
  }
}

async function select(choice: BackendChoice, quiet: boolean): Promise<BackendInfo> {
  const threads = threadCount();
  const order = choice === "auto" ? AUTO_ORDER : [choice];
  const skipped: BackendInfo["skipped"] = [];
  for (const name of order) {
    const probe = await probeBackend(name);
    if (!probe.ok) {
      if (choice !== "auto") {
        throw new BackendUnavailableError(`backend ${quote(name)} cannot load: ${probe.reason}`);
      }
      skipped.push({ name, reason: probe.reason });
      continue;
    }
    const ok = await tf.setBackend(probe.loaded.tfBackend);
    if (!ok) {
      const reason = `tfjs could not initialise backend ${quote(probe.loaded.tfBackend)}`;
      if (choice !== "auto") throw new BackendUnavailableError(reason);
      skipped.push({ name, reason });
      continue;
    }
    await tf.ready();
    silenceNodeBanner();
    const info: BackendInfo = { ...probe.loaded, name, requested: choice, skipped, threads };
    if (!quiet) process.stderr.write(`${describeBackend(info)}\n`);
    return info;
  }
  // The cpu loader cannot fail, so auto always returns above.
  throw new BackendUnavailableError("no backend could be loaded");
}

/** One line: which backend runs, and why faster ones were skipped. */
export function describeBackend(info: BackendInfo): string {
  const why =
    info.requested === "auto"
      ? info.skipped.length === 0
        ? "fastest available"
        : `auto; skipped ${info.skipped.map((s) => `${s.name} (${s.reason})`).join("; ")}`
      : "SENET_LAB_BACKEND";
  return `[senet-lab] backend ${info.name}: ${info.detail} [${why}]`;
}

/** The backend in use, if initBackend has run. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * tfjs's cpu backend prints an "install tfjs-node" banner on its first tensor. We chose the
 * backend deliberately, so the advice is noise; clear the flag on every backend that has it
 * instead of switching tfjs to PROD mode, which would change other behaviour.
 */
function silenceNodeBanner(): void {
  for (const name of ["cpu", tf.getBackend()]) {
    const b = tf.findBackend(name) as unknown as { firstUse?: boolean } | null;
    if (b && "firstUse" in b) b.firstUse = false;
  }
}
