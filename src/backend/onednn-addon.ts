/**
 * Loading the native oneDNN addon (native/, built by scripts/build-native.mjs at install time)
 * and reporting why it is missing when it is. The addon's functions are synchronous and read
 * and write Float32Arrays in place; shapes travel as plain integer arrays.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BackendUnavailableError } from "../errors.js";
import { nativeSourceHash } from "./native-source-hash.mjs";

export { ACTIVATION_CODES, BINARY_OPS, ELTWISE_OPS, REDUCE_OPS } from "./op-codes.js";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where node-gyp leaves the addon (SENET_LAB_ONEDNN_ADDON overrides, for tests). */
export const ADDON_PATH =
  process.env.SENET_LAB_ONEDNN_ADDON ??
  path.join(root, "native", "build", "Release", "senet_onednn.node");
/** Where the build script records its outcome, with the reason when it could not build (SENET_LAB_NATIVE_STATUS overrides). */
export const BUILD_STATUS_PATH =
  process.env.SENET_LAB_NATIVE_STATUS ?? path.join(root, "native", "build-status.json");
/** The build script run by `npm install` and by buildNative(). */
export const BUILD_SCRIPT = path.join(root, "scripts", "build-native.mjs");

/**
 * The geometry of one 2-D convolution or pooling window over NHWC data, by name: what the
 * addon's conv and pool functions take (native/src/common.h Geometry reads these fields).
 */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  filterHeight: number;
  filterWidth: number;
  /** Output channels (pooling: = inChannels). */
  outChannels: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  /** Groups: 1 plain, inChannels depthwise (pooling: 1). */
  groups: number;
}

/** A batched matmul C[b] = op(A[b]) op(B[b]), by name: A is [batchA, m, k] (or [batchA, k, m] transposed), B [batchB, k, n]; a batch of 1 broadcasts. */
export interface MatmulShape {
  batchA: number;
  batchB: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** The functions native/src/*.cc export. Each returns the oneDNN implementation it ran. */
export interface OnednnAddon {
  /** "oneDNN 2.6.3 (OpenMP)". */
  version(): string;
  /** Sets OpenMP threads; returns the count in effect. */
  setThreads(n: number): number;
  /** OpenMP threads in effect. */
  threads(): number;
  /** Number of cached primitives (one per op and shape). */
  cacheSize(): number;
  /** Drops every cached primitive. */
  cacheClear(): void;
  /** y = act(conv(x, w) + bias) over `geometry` (plain, grouped or depthwise); weightId (> 0, from weightIdOf) lets the addon reuse w's reordered copy on the next call with the same array; precision 0 multiplies in f32, 1 in bf16 (x and w rounded; y f32); xId (roundedIdOf) lets the addon keep x's bf16 copy for the filter gradient. */
  conv2dForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    geometry: ConvGeometry,
    activation: number,
    alpha: number,
    weightId?: number,
    precision?: number,
    xId?: number,
  ): string;
  /** dx from dy and the filter (the forward's geometry); weightId and precision as in conv2dForward (dx stays f32); dyId keeps dy's bf16 copy for the filter gradient. */
  conv2dBackwardData(
    dy: Float32Array,
    w: Float32Array,
    dx: Float32Array,
    geometry: ConvGeometry,
    weightId?: number,
    precision?: number,
    dyId?: number,
  ): string;
  /** dw (and optionally dbias) from x and dy; precision as in conv2dForward (dw stays f32); xId and dyId find the bf16 copies the forward and the input gradient made. */
  conv2dBackwardWeights(
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    dbias: Float32Array | null,
    geometry: ConvGeometry,
    precision?: number,
    xId?: number,
    dyId?: number,
  ): string;
  /** c = act(op(a) op(b) + bias) for the named `shape`. */
  matmul(
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | null,
    c: Float32Array,
    shape: MatmulShape,
    activation: number,
    alpha: number,
  ): string;
  /** Max or average pooling over `geometry` (outChannels = inChannels). */
  pool2dForward(x: Float32Array, y: Float32Array, geometry: ConvGeometry, isMax: boolean): string;
  /** Pooling gradient; x is needed for max pooling only. */
  pool2dBackward(
    dy: Float32Array,
    x: Float32Array | null,
    dx: Float32Array,
    geometry: ConvGeometry,
    isMax: boolean,
  ): string;
  /** Training batch norm over [rows, C] (rows a multiple of the batch N); writes y, batch mean and biased variance; shape = [rows, C, N]. */
  batchNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    shape: [number, number, number],
    epsilon: number,
  ): string;
  /** Batch-norm gradient: dx, dgamma, dbeta. */
  batchNormBackward(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    shape: [number, number, number],
    epsilon: number,
  ): string;
  /** y[r, c] = x[r, c] * scale[c] + shift[c] over [rows, C]: inference batch norm, statistics folded in. */
  channelAffine(
    x: Float32Array,
    scale: Float32Array,
    shift: Float32Array,
    y: Float32Array,
    shape: [number, number],
  ): void;
  /** c = a (op) b; b's dims equal a's or are 1 (broadcast); same rank, 1..6. */
  binary(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    aDims: number[],
    bDims: number[],
    op: number,
  ): void;
  /** y = f(x) elementwise. */
  eltwise(x: Float32Array, y: Float32Array, op: number): void;
  /** dst[dstOffset + i·dstStrides] = src[srcOffset + i·srcStrides] over the index box dims. */
  stridedCopy(
    src: Float32Array,
    dst: Float32Array,
    dims: number[],
    srcStrides: number[],
    srcOffset: number,
    dstStrides: number[],
    dstOffset: number,
  ): void;
  /** dx = dy · step(x) in one pass (the Relu gradient). */
  reluGrad(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Gradient of a · b with a, dy [P, Q, S] and b [P, 1, S]: da = dy · b and db = Σ_q dy · a, one pass. */
  mulGrad(
    dy: Float32Array,
    a: Float32Array,
    b: Float32Array,
    da: Float32Array,
    db: Float32Array,
    shape: [number, number, number],
  ): void;
  /** dx = dy · (y · (1 − y)) from the sigmoid's output y, in one pass (the Sigmoid gradient). */
  sigmoidGrad(y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** y[p, q, s] = x[p, s] · scale: the adjoint of reduce(), for the Mean and Sum gradients. */
  expand(x: Float32Array, y: Float32Array, shape: [number, number, number], scale: number): void;
  /** The standard SE block forward (average squeeze, FC, ReLU, FC, sigmoid, scale) over x [N, HW, C]; writes y and the gate, hidden and pooled values the backward needs; shape = [N, HW, C, Cr]. */
  seForward(
    x: Float32Array,
    w1: Float32Array,
    b1: Float32Array | null,
    w2: Float32Array,
    b2: Float32Array | null,
    y: Float32Array,
    gate: Float32Array,
    hidden: Float32Array,
    pooled: Float32Array,
    shape: [number, number, number, number],
  ): void;
  /** Every gradient of the SE block for upstream dy (dx, dw1, db1, dw2, db2; the bias gradients may be null); shape as in seForward. */
  seBackward(
    dy: Float32Array,
    x: Float32Array,
    w1: Float32Array,
    w2: Float32Array,
    gate: Float32Array,
    hidden: Float32Array,
    pooled: Float32Array,
    dx: Float32Array,
    dw1: Float32Array,
    db1: Float32Array | null,
    dw2: Float32Array,
    db2: Float32Array | null,
    shape: [number, number, number, number],
  ): void;
  /** Spatial Group-wise Enhance forward over x [N, HW, G, C/G]; writes y and the gate, centred similarity t ([N, HW, G]), per-channel mean avg ([N, C]) and unbiased std sigma ([N, G]) the backward needs; shape = [N, HW, C, G]. */
  sgeForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    gate: Float32Array,
    t: Float32Array,
    avg: Float32Array,
    sigma: Float32Array,
    shape: [number, number, number, number],
    epsilon: number,
  ): void;
  /** Every gradient of sgeForward for upstream dy: dx, dgamma, dbeta; shape and epsilon as in sgeForward. */
  sgeBackward(
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    gate: Float32Array,
    t: Float32Array,
    avg: Float32Array,
    sigma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    shape: [number, number, number, number],
    epsilon: number,
  ): void;
  /** One SGD-with-momentum step of one weight into fresh arrays; hyper = [lr, momentum, weightDecay, nesterov ? 1 : 0]. */
  sgdUpdate(
    w: Float32Array,
    buf: Float32Array | null,
    g: Float32Array,
    wOut: Float32Array,
    bufOut: Float32Array | null,
    hyper: [number, number, number, number],
  ): void;
  /** y = x > 0 ? 1 : alpha (NaN stays NaN), as tfjs's Step. */
  step(x: Float32Array, y: Float32Array, alpha: number): void;
  /** y[p, s] = op over q of x[p, q, s]; shape = [P, Q, S]. */
  reduce(x: Float32Array, y: Float32Array, shape: [number, number, number], op: number): void;
  /** Copies the region of src at srcOffsets into dst at dstOffsets (slice, pad). */
  copyRegion(
    src: Float32Array,
    dst: Float32Array,
    srcDims: number[],
    dstDims: number[],
    regionDims: number[],
    srcOffsets: number[],
    dstOffsets: number[],
  ): void;
}

/** Whether the addon is built and loads, and if not, why. */
export interface NativeBuildStatus {
  /** True when the addon file exists and loads. */
  built: boolean;
  /** Why it is unavailable (absent when built). */
  reason?: string;
}

let addon: OnednnAddon | undefined;
let loadError: string | undefined;

function recordedReason(): string | undefined {
  try {
    const s = JSON.parse(readFileSync(BUILD_STATUS_PATH, "utf8")) as {
      built?: boolean;
      reason?: string;
    };
    return s.built === false && typeof s.reason === "string" ? s.reason : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why the built addon no longer matches native/src (a pull changed the C++ after the build),
 * or undefined when it matches or no hash was recorded (a build by hand with node-gyp).
 */
export function staleReason(): string | undefined {
  if (process.env.SENET_LAB_ONEDNN_ADDON) return undefined; // an addon chosen by hand (tests)
  let recorded: unknown;
  try {
    recorded = (JSON.parse(readFileSync(BUILD_STATUS_PATH, "utf8")) as { sourceHash?: unknown })
      .sourceHash;
  } catch {
    return undefined;
  }
  if (typeof recorded !== "string") return undefined;
  let now: string;
  try {
    now = nativeSourceHash(path.join(root, "native"));
  } catch {
    return undefined; // sources not shipped (an installed package): trust the build
  }
  return recorded === now
    ? undefined
    : "the oneDNN addon was built from older sources than native/src holds now; rebuild it with `npm run build:native` or `senet-lab setup`";
}

/** Loads the addon once; throws an Error whose message says why it is unavailable. */
export function loadAddon(): OnednnAddon {
  if (addon) return addon;
  if (!existsSync(ADDON_PATH)) {
    const why = recordedReason() ?? "the build has not run";
    throw new BackendUnavailableError(
      `the oneDNN addon is not built (${why}); build it with \`npm run build:native\` or \`senet-lab setup\``,
    );
  }
  // OpenMP keeps libgomp's default wait policy (spin briefly, then sleep), as PyTorch does. Measured
  // here on SE-ResNet-20 training steps: 20% faster than OMP_WAIT_POLICY=passive on the idle
  // machine, and no slower with a busy process beside it; a user's OMP_WAIT_POLICY is honoured.
  const stale = staleReason();
  if (stale) throw new BackendUnavailableError(stale);
  try {
    addon = require(ADDON_PATH) as OnednnAddon;
    loadError = undefined;
    return addon;
  } catch (err) {
    loadError = err instanceof Error ? err.message : String(err);
    throw new BackendUnavailableError(`the oneDNN addon does not load: ${loadError}`, {
      cause: err,
    });
  }
}

/** Reports whether the addon is built and loadable, with the reason when it is not. */
export function nativeBuildStatus(): NativeBuildStatus {
  try {
    loadAddon();
    return { built: true };
  } catch (err) {
    return { built: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Runs the build script (node-gyp against Debian's libdnnl-dev) and reports the outcome.
 * Never rejects for a failed build: the reason is in the returned status. `log` receives the
 * script's one-line summary.
 */
export async function buildNative(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<NativeBuildStatus> {
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [BUILD_SCRIPT], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", (err) => {
      out += err.message;
      resolve(-1);
    });
    child.on("close", (c) => {
      for (const line of out.split("\n").filter((l) => l.trim() !== "")) log(line);
      resolve(c ?? -1);
    });
  });
  if (code !== 0 && !existsSync(ADDON_PATH)) {
    return { built: false, reason: `build script exited with code ${code}` };
  }
  return nativeBuildStatus();
}
