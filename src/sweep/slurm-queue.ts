/**
 * Asking SLURM about jobs: which array task this process is (from the environment SLURM sets),
 * whether a job that holds a run's claim on another host is still queued or running, and what
 * state each task of a submitted array is in. Every question goes through `squeue`; where it is
 * missing or fails, the answer is "unknown" and callers keep their cautious default.
 */
import { spawnSync } from "node:child_process";

/** The SLURM ids of a process running inside a job (recorded in run claims). */
export interface SlurmIds {
  /** SLURM_JOB_ID: the job's own id (each array task has its own). */
  jobId: string;
  /** SLURM_ARRAY_JOB_ID: the array's id (the number sbatch printed), for array tasks. */
  arrayJobId?: string;
  /** SLURM_ARRAY_TASK_ID: the task's index in the array, for array tasks. */
  arrayTaskId?: string;
}

/** The SLURM ids of the current process from its environment, or undefined outside SLURM. */
export function slurmIdsFromEnv(env: NodeJS.ProcessEnv = process.env): SlurmIds | undefined {
  const jobId = env.SLURM_JOB_ID;
  if (!jobId || !/^\d+$/.test(jobId)) return undefined;
  const arrayJobId = env.SLURM_ARRAY_JOB_ID;
  const arrayTaskId = env.SLURM_ARRAY_TASK_ID;
  return {
    jobId,
    ...(arrayJobId && /^\d+$/.test(arrayJobId) ? { arrayJobId } : {}),
    ...(arrayTaskId && /^\d+$/.test(arrayTaskId) ? { arrayTaskId } : {}),
  };
}

/** How a job is named to squeue and in messages: "<array>_<task>" for array tasks, else the id. */
export function slurmJobLabel(ids: SlurmIds): string {
  return ids.arrayJobId !== undefined && ids.arrayTaskId !== undefined
    ? `${ids.arrayJobId}_${ids.arrayTaskId}`
    : ids.jobId;
}

/** Job states after which nothing of the job runs any more (squeue's %T names). */
export const SLURM_ENDED_STATES = [
  "BOOT_FAIL",
  "CANCELLED",
  "COMPLETED",
  "DEADLINE",
  "FAILED",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "PREEMPTED",
  "REVOKED",
  "SPECIAL_EXIT",
  "TIMEOUT",
] as const;

/** One line of squeue output for an array task (or a plain job). */
export interface SlurmTaskState {
  /** The task as squeue names it, e.g. "12_3" (or "12" for a plain job). */
  label: string;
  /** The array's job id ("12"); the job id itself for a plain job. */
  arrayJobId: string;
  /** The task index, or undefined for a plain job. */
  taskId?: number;
  /** squeue's state name, e.g. "PENDING", "RUNNING", "COMPLETING". */
  state: string;
  /** squeue's reason (why pending), e.g. "Resources", "Priority"; "None" when running. */
  reason: string;
}

/** Result of one squeue call: the rows, or why there are none ("missing" when not installed). */
type SqueueAnswer = { rows: SlurmTaskState[] } | { error: string; missing?: true };

/** Runs `squeue -h -r -j <ids> -o ...`; an unknown job id is an empty answer, not an error. */
function squeue(jobIds: string[]): SqueueAnswer {
  const r = spawnSync("squeue", ["-h", "-r", "-j", jobIds.join(","), "-o", "%i|%F|%K|%T|%r"], {
    encoding: "utf8",
    timeout: 15_000,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? { error: "squeue is not installed", missing: true }
      : { error: `squeue failed: ${r.error.message}` };
  }
  if (r.status !== 0) {
    // A single id the controller no longer knows is reported as an error; it is simply gone.
    if (/invalid job id/i.test(r.stderr)) return { rows: [] };
    return { error: `squeue exited ${r.status}: ${r.stderr.trim().split("\n").pop() ?? ""}` };
  }
  const rows: SlurmTaskState[] = [];
  for (const line of r.stdout.split("\n")) {
    const f = line.trim().split("|");
    if (f.length < 5) continue;
    const [label, arrayJobId, task, state, reason] = f as [string, string, string, string, string];
    const taskId = /^\d+$/.test(task) ? Number(task) : undefined;
    rows.push({ label, arrayJobId, ...(taskId !== undefined ? { taskId } : {}), state, reason });
  }
  return { rows };
}

const cache = new Map<string, { at: number; answer: SqueueAnswer }>();
/** How long an squeue answer is reused (one `sweep status` asks about many claims at once). */
const CACHE_MS = 3_000;

function cachedSqueue(jobIds: string[]): SqueueAnswer {
  const key = jobIds.join(",");
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.answer;
  const answer = squeue(jobIds);
  cache.set(key, { at: Date.now(), answer });
  return answer;
}

/**
 * Whether SLURM still has the job (queued, running, or finishing): true or false when squeue
 * answered, undefined when it could not be asked (not installed, controller unreachable).
 */
export function slurmJobAlive(ids: SlurmIds): boolean | undefined {
  const label = slurmJobLabel(ids);
  const answer = cachedSqueue([label]);
  if ("error" in answer) return undefined;
  const row = answer.rows.find((r) => r.label === label) ?? answer.rows[0];
  if (!row) return false;
  return !(SLURM_ENDED_STATES as readonly string[]).includes(row.state);
}

/** The tasks of the given array jobs that SLURM still holds, or why they cannot be listed. */
export function slurmArrayTasks(
  arrayJobIds: string[],
): { tasks: SlurmTaskState[] } | { error: string; missing?: true } {
  if (arrayJobIds.length === 0) return { tasks: [] };
  const answer = cachedSqueue(arrayJobIds);
  if ("error" in answer) return answer;
  return {
    tasks: answer.rows.filter(
      (r) =>
        arrayJobIds.includes(r.arrayJobId) &&
        !(SLURM_ENDED_STATES as readonly string[]).includes(r.state),
    ),
  };
}

/** Forgets cached squeue answers (after a submission, or in tests). */
export function clearSlurmCache(): void {
  cache.clear();
}
