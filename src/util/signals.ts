/**
 * Stop signals in processes that train: a guard for the second copy of a stop. Kept apart from
 * process.ts, which the training code imports, so that this file is not part of the training-code
 * hash (src/util/code-hash.ts): it decides how a process stops, never a run's numbers.
 */

/**
 * Keeps a stop signal that reaches a training process outside the training loop's own handlers
 * from killing it. Stops come twice: a sweep forwards SIGTERM/SIGINT to its workers and Ctrl-C
 * signals the whole process group; SLURM's scancel signals the task's processes and the batch
 * script forwards the same SIGTERM. The copy that arrives after the loop has checkpointed and
 * removed its handlers would otherwise take the default action and kill the process before it
 * records "preempted" (seen on loaded machines: a sweep worker, and a scancel'd SLURM task).
 * Rules: while the loop's handlers are installed they decide (this one only notes the time);
 * a repeat within 2 s of a stop the loop took is ignored (the worker exits 4 by itself); any
 * other signal (an idle worker, a start-up before training, a second stop 2 s or more later,
 * which the loop re-raises) takes the default action as before.
 */
export function guardStopSignals(): void {
  let stopAt: number | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    const now = performance.now();
    if (process.listenerCount(sig) > 1) {
      stopAt ??= now; // the training loop's handler has it
      return;
    }
    if (stopAt !== undefined && now - stopAt < 2000) return; // the same stop, delivered twice
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    process.kill(process.pid, sig);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
