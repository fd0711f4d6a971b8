/**
 * Kernel configs that put the op-built convolution and max-pool gradients (conv-grads.ts,
 * pool-grads.ts) under the kernel
 * names tfjs's gradient functions call, for any backend, plus the register-or-replace helper the
 * wasm and cpu loaders use. A replaced kernel's original is kept so tests can compare with it.
 */
import * as tf from "@tensorflow/tfjs";
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
    if (!info) throw new Error(`kernel input ${name} missing`);
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

const KERNEL_FUNCS: Record<TrainingKernelName, tf.KernelFunc> = {
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

const originals = new Map<string, tf.KernelConfig>();

/**
 * Registers the op-built kernel `name` for `backendName`, replacing (and remembering) any kernel
 * already registered under that name. Idempotent.
 */
export function installTrainingKernel(name: TrainingKernelName, backendName: string): void {
  const key = `${backendName}/${name}`;
  const existing = tf.getKernel(name, backendName);
  if (existing?.kernelFunc === KERNEL_FUNCS[name]) return;
  if (existing) {
    if (!originals.has(key)) originals.set(key, existing);
    tf.unregisterKernel(name, backendName);
  }
  tf.registerKernel({ kernelName: name, backendName, kernelFunc: KERNEL_FUNCS[name] });
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
  if (!backend) throw new Error(`backend ${config.backendName} is not registered`);
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
