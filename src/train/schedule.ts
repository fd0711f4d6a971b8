/**
 * Learning-rate schedules, one lookup table. A schedule maps (epoch, step within the epoch) to
 * a rate, so a resumed run recomputes exactly the rates an uninterrupted one used. Linear
 * warm-up (per step, from base/warmupSteps up to base) precedes any schedule.
 */

/** Schedule names. */
export const SCHEDULES = ["constant", "step", "multistep", "cosine", "linear"] as const;
/** A schedule name. */
export type ScheduleName = (typeof SCHEDULES)[number];

/** Everything a schedule needs (the resolved training config's fields). */
export interface ScheduleParams {
  /** Which schedule. */
  schedule: ScheduleName;
  /** Base learning rate (after warm-up). */
  lr: number;
  /** Total epochs. */
  epochs: number;
  /** "step": multiply by gamma every stepSize epochs. */
  stepSize: number | null;
  /** "multistep": multiply by gamma at each of these epochs. */
  milestones: number[] | null;
  /** Decay factor of step and multistep. */
  gamma: number | null;
  /** "cosine" and "linear": final learning rate. */
  minLr: number | null;
  /** Epochs of linear warm-up (0: none). */
  warmupEpochs: number;
}

type Rule = (p: ScheduleParams, t: number, epoch: number) => number;

/** Rate after warm-up at continuous time t (epochs, fractional) and integer epoch. */
const RULES: Record<ScheduleName, Rule> = {
  constant: (p) => p.lr,
  step: (p, _t, e) => p.lr * p.gamma! ** Math.floor(e / p.stepSize!),
  multistep: (p, _t, e) => p.lr * p.gamma! ** p.milestones!.filter((m) => e >= m).length,
  cosine: (p, t) => {
    const span = p.epochs - p.warmupEpochs;
    const x = Math.min(Math.max((t - p.warmupEpochs) / span, 0), 1);
    return p.minLr! + (p.lr - p.minLr!) * 0.5 * (1 + Math.cos(Math.PI * x));
  },
  // Linear decay to minLr at the end of training; after a linear warm-up this is the
  // triangular one-cycle schedule (Smith & Topin) that fast CIFAR training recipes use.
  linear: (p, t) => {
    const span = p.epochs - p.warmupEpochs;
    const x = Math.min(Math.max((t - p.warmupEpochs) / span, 0), 1);
    return p.minLr! + (p.lr - p.minLr!) * (1 - x);
  },
};

/** The learning rate for step `step` (0-based) of epoch `epoch` (0-based) of `stepsPerEpoch`. */
export function learningRate(
  p: ScheduleParams,
  epoch: number,
  step: number,
  stepsPerEpoch: number,
): number {
  const global = epoch * stepsPerEpoch + step;
  const warmSteps = Math.round(p.warmupEpochs * stepsPerEpoch);
  if (global < warmSteps) return (p.lr * (global + 1)) / warmSteps;
  return RULES[p.schedule](p, epoch + step / stepsPerEpoch, epoch);
}
