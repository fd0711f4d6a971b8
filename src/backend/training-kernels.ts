/**
 * Kernel configs that put the op-built convolution and max-pool gradients (conv-grads.ts,
 * pool-grads.ts) under the kernel
 * names tfjs's gradient functions call, for any backend, plus the register-or-replace helper the
 * wasm and cpu loaders use. A replaced kernel's original is kept so tests can compare with it.
 */
import * as tf from "@tensorflow/tfjs";
import { InternalError } from "../errors.js";
import { reduceByAvgPool, tileByBroadcast } from "./broadcast-kernels.js";
import {
  type ConvFilterGradArgs,
  type ConvInputGradArgs,
  conv2dFilterGrad,
  conv2dInputGrad,
  type DepthwiseFilterGradArgs,
  type DepthwiseInputGradArgs,
  depthwiseFilterGrad,
  depthwiseInputGrad,
} from "./conv-grads.js";
import { type MaxPoolGradArgs, maxPoolGrad } from "./pool-grads.js";

/** Kernel names this module can provide. */
export const TRAINING_KERNEL_NAMES = [
  "Conv2DBackpropFilter",
  "Conv2DBackpropInput",
  "DepthwiseConv2dNativeBackpropFilter",
  "DepthwiseConv2dNativeBackpropInput",
  "MaxPoolGrad",
  "Sum",
  "Mean",
  "Tile",
] as const;
/** One of TRAINING_KERNEL_NAMES. */
export type TrainingKernelName = (typeof TRAINING_KERNEL_NAMES)[number];

type KernelInputs = Record<string, tf.TensorInfo | undefined>;

/**
 * Kernels receive TensorInfos; the engine passes real Tensors when an op or gradient calls it, but
 * a backend calling a kernel directly may not. Wraps a bare TensorInfo (borrowed, refcounted).
 */
function withTensors<T>(inputs: KernelInputs, names: string[], fn: (...t: tf.Tensor4D[]) => T): T {
  const owned: tf.Tensor[] = [];
  const ts = names.map((name) => {
    const info = inputs[name];
    if (!info) throw new InternalError(`kernel input ${name} missing`);
    if (info instanceof tf.Tensor) return info as tf.Tensor4D;
    const t = tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
    owned.push(t);
    return t;
  });
  try {
    return fn(...ts);
  } finally {
    for (const t of owned) t.dispose();
  }
}

const FIXED_FUNCS: Partial<Record<TrainingKernelName, tf.KernelFunc>> = {
  Conv2DBackpropFilter: ({ inputs, attrs }) =>
    withTensors(inputs as KernelInputs, ["x", "dy"], (x, dy) =>
      conv2dFilterGrad(x!, dy!, attrs as unknown as ConvFilterGradArgs),
    ),
  Conv2DBackpropInput: ({ inputs, attrs }) =>
    withTensors(inputs as KernelInputs, ["dy", "filter"], (dy, w) =>
      conv2dInputGrad(dy!, w!, attrs as unknown as ConvInputGradArgs),
    ),
  DepthwiseConv2dNativeBackpropFilter: ({ inputs, attrs }) =>
    withTensors(inputs as KernelInputs, ["x", "dy"], (x, dy) =>
      depthwiseFilterGrad(x!, dy!, attrs as unknown as DepthwiseFilterGradArgs),
    ),
  DepthwiseConv2dNativeBackpropInput: ({ inputs, attrs }) =>
    withTensors(inputs as KernelInputs, ["dy", "filter"], (dy, w) =>
      depthwiseInputGrad(dy!, w!, attrs as unknown as DepthwiseInputGradArgs),
    ),
  MaxPoolGrad: ({ inputs, attrs }) =>
    withTensors(inputs as KernelInputs, ["dy", "input", "output"], (dy, x, y) =>
      maxPoolGrad(dy!, x!, y!, attrs as unknown as MaxPoolGradArgs),
    ),
};

/** Runs the kernel that was registered before ours (fallback for cases we do not rewrite). */
function fallback(name: string, backendName: string, args: Parameters<tf.KernelFunc>[0]) {
  const original = originals.get(`${backendName}/${name}`);
  if (!original)
    throw new InternalError(`${name}: no original ${backendName} kernel to fall back to`);
  return original.kernelFunc(args);
}

/** Kernels that rewrite some cases and hand the rest to the backend's original kernel. */
const FALLBACK_FUNCS: Partial<Record<TrainingKernelName, (backendName: string) => tf.KernelFunc>> =
  {
    Sum: (be) => (args) => reduceKernel("Sum", be, args, false),
    Mean: (be) => (args) => reduceKernel("Mean", be, args, true),
    Tile: (be) => (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype !== "float32" && x.dtype !== "int32") return fallback("Tile", be, args);
      return withTensors(args.inputs as KernelInputs, ["x"], (t) =>
        tileByBroadcast(t!, (args.attrs as unknown as { reps: number[] }).reps),
      );
    },
  };

function reduceKernel(
  name: string,
  be: string,
  args: Parameters<tf.KernelFunc>[0],
  mean: boolean,
): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const { axis, keepDims } = args.attrs as unknown as {
    axis: number | number[];
    keepDims: boolean;
  };
  if (x.dtype !== "float32") return fallback(name, be, args);
  const out = withTensors(args.inputs as KernelInputs, ["x"], (t) =>
    reduceByAvgPool(t!, axis, keepDims, mean),
  );
  return out ?? fallback(name, be, args);
}

const made = new Map<string, tf.KernelFunc>();

/** The kernel function of `name` for `backendName` (one instance per pair, for idempotency). */
function kernelFuncFor(name: TrainingKernelName, backendName: string): tf.KernelFunc {
  const key = `${backendName}/${name}`;
  let f = made.get(key);
  if (!f) {
    f = FIXED_FUNCS[name] ?? FALLBACK_FUNCS[name]!(backendName);
    made.set(key, f);
  }
  return f;
}

const originals = new Map<string, tf.KernelConfig>();

/**
 * Registers the op-built kernel `name` for `backendName`, replacing (and remembering) any kernel
 * already registered under that name. Idempotent.
 */
export function installTrainingKernel(name: TrainingKernelName, backendName: string): void {
  const key = `${backendName}/${name}`;
  const existing = tf.getKernel(name, backendName);
  const func = kernelFuncFor(name, backendName);
  if (existing?.kernelFunc === func) return;
  if (existing) {
    if (!originals.has(key)) originals.set(key, existing);
    tf.unregisterKernel(name, backendName);
  }
  // Keep the original's setup/dispose: the wasm backend binds its C functions in setupFunc when
  // it initialises, and our fallbacks call the original kernel.
  const original = originals.get(key);
  tf.registerKernel({
    kernelName: name,
    backendName,
    kernelFunc: func,
    ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
    ...(original?.disposeFunc ? { disposeFunc: original.disposeFunc } : {}),
  });
}

/** The kernel that `installTrainingKernel` replaced, if any (for tests and comparisons). */
export function originalKernel(
  name: TrainingKernelName,
  backendName: string,
): tf.KernelConfig | undefined {
  return originals.get(`${backendName}/${name}`);
}

/**
 * Runs a kernel config directly on its backend's data, outside the op registry, and wraps the
 * result as a Tensor. Lets a test call an original kernel after it has been replaced.
 */
export function runKernelConfig(
  config: tf.KernelConfig,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
): tf.Tensor {
  const backend = tf.findBackend(config.backendName);
  if (!backend) throw new InternalError(`backend ${config.backendName} is not registered`);
  const out = config.kernelFunc({
    inputs,
    backend,
    attrs: attrs as tf.NamedAttrMap,
  }) as tf.TensorInfo;
  if (out instanceof tf.Tensor) return out;
  return tf.engine().makeTensorFromTensorInfo(out, backend);
}

/** Puts back the kernel that `installTrainingKernel` replaced (tests compare the two). */
export function restoreOriginalKernel(name: TrainingKernelName, backendName: string): void {
  const original = originals.get(`${backendName}/${name}`);
  if (!original) return;
  tf.unregisterKernel(name, backendName);
  tf.registerKernel(original);
}
