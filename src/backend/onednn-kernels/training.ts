/**
 * The onednn backend's implementations of our training kernels (src/ops/kernel-names.ts): the
 * SGD step in one native pass per weight, training batch norm forward and backward as oneDNN
 * primitives, the moving-statistic update as one loop over C values, and the standard SE block
 * and the SGE block forward and backward in one addon call each (native/src/attention.cc). Each replaces several
 * tfjs kernels per weight or layer and step; the ops run tf ops on backends without them.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs";
import { InternalError } from "../../errors.js";
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  type BatchNormTrainAttrs,
  MOVING_AVERAGE,
  type MovingAverageAttrs,
  SGD_UPDATE,
  type SgdUpdateAttrs,
  SPATIAL_GROUP_ENHANCE,
  SPATIAL_GROUP_ENHANCE_GRAD,
  type SpatialGroupEnhanceAttrs,
  SQUEEZE_EXCITE,
  SQUEEZE_EXCITE_GRAD,
  type SqueezeExciteAttrs,
} from "../../ops/kernel-names.js";
import { alloc, f32, type NativeBackend, output } from "./util.js";

type Inputs = Record<string, TensorInfo | undefined | null>;

/** The float32 storage of each named input; throws naming the first that has none. */
function values(kernel: string, backend: NativeBackend, inputs: Inputs, names: string[]) {
  return names.map((n) => {
    const v = f32(backend, inputs[n]);
    if (!v)
      throw new InternalError(`${kernel}: input ${n} is not a float32 tensor of this backend`);
    return v;
  });
}

/** SGD_UPDATE: new weight (and buffer) arrays from w, g and b in one addon call. */
const sgdUpdate: KernelFunc = ({ inputs, backend, attrs }) => {
  const nb = backend as NativeBackend;
  const a = attrs as unknown as SgdUpdateAttrs;
  const [wv, gv] = values(SGD_UPDATE, nb, inputs as Inputs, ["w", "g"]);
  const b = (inputs as Inputs).b;
  const bv = b ? values(SGD_UPDATE, nb, inputs as Inputs, ["b"])[0]! : null;
  const wOut = alloc(wv!.length);
  const bOut = bv ? alloc(bv.length) : null;
  nb.addon.sgdUpdate(wv!, bv, gv!, wOut, bOut, [
    a.lr,
    a.momentum,
    a.weightDecay,
    a.nesterov ? 1 : 0,
  ]);
  const w = (inputs as Inputs).w!;
  const out = [output(nb, [...w.shape], wOut)];
  if (b && bOut) out.push(output(nb, [...b.shape], bOut));
  return out;
};

/** [rows, C, N] of an x shaped [N, ..., C], as the addon's batch-norm passes take it. */
function bnShape(x: TensorInfo): [number, number, number] {
  const c = x.shape[x.shape.length - 1]!;
  const size = x.shape.reduce((p, d) => p * d, 1);
  return [size / c, c, x.shape[0]!];
}

/** BATCH_NORM_TRAIN: y, batch mean and biased variance in one oneDNN forward-training pass. */
const batchNormTrain: KernelFunc = ({ inputs, backend, attrs }) => {
  const nb = backend as NativeBackend;
  const { epsilon } = attrs as unknown as BatchNormTrainAttrs;
  const [xv, gv, bv] = values(BATCH_NORM_TRAIN, nb, inputs as Inputs, ["x", "gamma", "beta"]);
  const x = (inputs as Inputs).x!;
  const shape = bnShape(x);
  const y = alloc(xv!.length);
  const mean = new Float32Array(shape[1]);
  const variance = new Float32Array(shape[1]);
  nb.addon.batchNormForward(xv!, gv!, bv!, y, mean, variance, shape, epsilon);
  return [
    output(nb, [...x.shape], y),
    output(nb, [shape[1]], mean),
    output(nb, [shape[1]], variance),
  ];
};

/** BATCH_NORM_TRAIN_GRAD: dx, dgamma, dbeta in one oneDNN backward pass. */
const batchNormTrainGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const nb = backend as NativeBackend;
  const { epsilon } = attrs as unknown as BatchNormTrainAttrs;
  const [dyv, xv, gv, mv, vv] = values(BATCH_NORM_TRAIN_GRAD, nb, inputs as Inputs, [
    "dy",
    "x",
    "gamma",
    "mean",
    "variance",
  ]);
  const x = (inputs as Inputs).x!;
  const shape = bnShape(x);
  const dx = alloc(xv!.length);
  const dg = new Float32Array(shape[1]);
  const db = new Float32Array(shape[1]);
  nb.addon.batchNormBackward(xv!, dyv!, gv!, mv!, vv!, dx, dg, db, shape, epsilon);
  return [output(nb, [...x.shape], dx), output(nb, [shape[1]], dg), output(nb, [shape[1]], db)];
};

/** MOVING_AVERAGE: C values in a JS loop, rounded as tfjs's three float32 kernels round. */
const movingAverage: KernelFunc = ({ inputs, backend, attrs }) => {
  const nb = backend as NativeBackend;
  const [ov, bv] = values(MOVING_AVERAGE, nb, inputs as Inputs, ["moving", "batch"]);
  const k = Math.fround(1 - (attrs as unknown as MovingAverageAttrs).momentum);
  const out = new Float32Array(ov!.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = ov![i]! - Math.fround(Math.fround(ov![i]! - bv![i]!) * k);
  }
  return output(nb, [...(inputs as Inputs).moving!.shape], out);
};

/** [N, HW, C, Cr] of the SE block's x [N,H,W,C] and w1 [C,Cr]. */
function seShape(x: TensorInfo, w1: TensorInfo): [number, number, number, number] {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  return [n, h * w, c, w1.shape[1]!];
}

/** SQUEEZE_EXCITE: y, gate, hidden and pooled in one addon call (two passes over x). */
const squeezeExcite: KernelFunc = ({ inputs, backend, attrs }) => {
  const nb = backend as NativeBackend;
  const a = attrs as unknown as SqueezeExciteAttrs;
  const ins = inputs as Inputs;
  const [xv, w1v, w2v] = values(SQUEEZE_EXCITE, nb, ins, ["x", "w1", "w2"]);
  const b1v = a.bias1 ? values(SQUEEZE_EXCITE, nb, ins, ["b1"])[0]! : null;
  const b2v = a.bias2 ? values(SQUEEZE_EXCITE, nb, ins, ["b2"])[0]! : null;
  const x = ins.x!;
  const shape = seShape(x, ins.w1!);
  const [n, , c, cr] = shape;
  const y = alloc(xv!.length);
  const gate = new Float32Array(n * c);
  const hidden = new Float32Array(n * cr);
  const pooled = new Float32Array(n * c);
  nb.addon.seForward(xv!, w1v!, b1v, w2v!, b2v, y, gate, hidden, pooled, shape);
  return [
    output(nb, [...x.shape], y),
    output(nb, [n, c], gate),
    output(nb, [n, cr], hidden),
    output(nb, [n, c], pooled),
  ];
};

/** SQUEEZE_EXCITE_GRAD: dx, dw1, dw2, db1, db2 in one addon call (two passes over dy). */
const squeezeExciteGrad: KernelFunc = ({ inputs, backend }) => {
  const nb = backend as NativeBackend;
  const ins = inputs as Inputs;
  const [dyv, xv, w1v, w2v, gv, hv, pv] = values(SQUEEZE_EXCITE_GRAD, nb, ins, [
    "dy",
    "x",
    "w1",
    "w2",
    "gate",
    "hidden",
    "pooled",
  ]);
  const x = ins.x!;
  const shape = seShape(x, ins.w1!);
  const [, , c, cr] = shape;
  const dx = alloc(xv!.length);
  const dw1 = new Float32Array(c * cr);
  const dw2 = new Float32Array(cr * c);
  const db1 = new Float32Array(cr);
  const db2 = new Float32Array(c);
  nb.addon.seBackward(dyv!, xv!, w1v!, w2v!, gv!, hv!, pv!, dx, dw1, db1, dw2, db2, shape);
  return [
    output(nb, [...x.shape], dx),
    output(nb, [c, cr], dw1),
    output(nb, [cr, c], dw2),
    output(nb, [cr], db1),
    output(nb, [c], db2),
  ];
};

/** [N, HW, C, G] of the SGE block's x [N,H,W,C]. */
function sgeShape(x: TensorInfo, groups: number): [number, number, number, number] {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  return [n, h * w, c, groups];
}

/** SPATIAL_GROUP_ENHANCE: y and the gate, t, avg and sigma the gradient needs, in one addon call. */
const spatialGroupEnhance: KernelFunc = ({ inputs, backend, attrs }) => {
  const nb = backend as NativeBackend;
  const { groups, epsilon } = attrs as unknown as SpatialGroupEnhanceAttrs;
  const ins = inputs as Inputs;
  const [xv, gv, bv] = values(SPATIAL_GROUP_ENHANCE, nb, ins, ["x", "gamma", "beta"]);
  const x = ins.x!;
  const shape = sgeShape(x, groups);
  const [n, hw, c, g] = shape;
  const y = alloc(xv!.length);
  const gate = alloc(n * hw * g);
  const t = alloc(n * hw * g);
  const avg = new Float32Array(n * c);
  const sigma = new Float32Array(n * g);
  nb.addon.sgeForward(xv!, gv!, bv!, y, gate, t, avg, sigma, shape, epsilon);
  return [
    output(nb, [...x.shape], y),
    output(nb, [n, hw, g], gate),
    output(nb, [n, hw, g], t),
    output(nb, [n, c], avg),
    output(nb, [n, g], sigma),
  ];
};

/** SPATIAL_GROUP_ENHANCE_GRAD: dx, dgamma, dbeta in one addon call. */
const spatialGroupEnhanceGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const nb = backend as NativeBackend;
  const { groups, epsilon } = attrs as unknown as SpatialGroupEnhanceAttrs;
  const ins = inputs as Inputs;
  const [dyv, xv, gv, gatev, tv, av, sv] = values(SPATIAL_GROUP_ENHANCE_GRAD, nb, ins, [
    "dy",
    "x",
    "gamma",
    "gate",
    "t",
    "avg",
    "sigma",
  ]);
  const x = ins.x!;
  const shape = sgeShape(x, groups);
  const dx = alloc(xv!.length);
  const dgamma = new Float32Array(groups);
  const dbeta = new Float32Array(groups);
  nb.addon.sgeBackward(dyv!, xv!, gv!, gatev!, tv!, av!, sv!, dx, dgamma, dbeta, shape, epsilon);
  return [output(nb, [...x.shape], dx), output(nb, [groups], dgamma), output(nb, [groups], dbeta)];
};

/** Our training kernels for the backend named `backendName` (onednn). */
export function trainingKernelConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: SGD_UPDATE, backendName, kernelFunc: sgdUpdate },
    { kernelName: BATCH_NORM_TRAIN, backendName, kernelFunc: batchNormTrain },
    { kernelName: BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: batchNormTrainGrad },
    { kernelName: MOVING_AVERAGE, backendName, kernelFunc: movingAverage },
    { kernelName: SQUEEZE_EXCITE, backendName, kernelFunc: squeezeExcite },
    { kernelName: SQUEEZE_EXCITE_GRAD, backendName, kernelFunc: squeezeExciteGrad },
    { kernelName: SPATIAL_GROUP_ENHANCE, backendName, kernelFunc: spatialGroupEnhance },
    {
      kernelName: SPATIAL_GROUP_ENHANCE_GRAD,
      backendName,
      kernelFunc: spatialGroupEnhanceGrad,
    },
  ];
}
