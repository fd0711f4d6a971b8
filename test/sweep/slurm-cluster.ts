/**
 * A real one-node SLURM cluster for tests, from Debian's packages (munge, slurmctld, slurmd,
 * slurm-client), living entirely in a temporary folder: its own munge key and socket, its own
 * slurm.conf (found through SLURM_CONF), free ports, state and logs, and the three daemons in
 * the foreground as children of the test process. `stop()` cancels every job, stops the
 * daemons and removes the folder.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../src/notebook/serve.js";

/** A running test cluster. */
export interface TestCluster {
  /** Its temporary folder (config, key, state, logs). */
  dir: string;
  /** Environment for SLURM clients and everything that submits: SLURM_CONF points at it. */
  env: NodeJS.ProcessEnv;
  /** Seconds from starting munged until sinfo showed the node idle. */
  startSeconds: number;
  /** Cancels all jobs, stops the daemons, removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}

const DAEMONS = ["munged", "slurmctld", "slurmd"] as const;
const CLIENTS = ["sbatch", "squeue", "sinfo", "scancel"] as const;

/** Finds a program on PATH or in /usr/sbin and /sbin (daemons live there; PATH may lack them). */
function which(cmd: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/sbin"];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Why a cluster cannot be started here, or undefined if it can be tried. */
export function clusterUnavailable(): string | undefined {
  if (process.platform !== "linux") return "SLURM test cluster needs Linux";
  if (process.getuid?.() !== 0)
    return "slurmd must run as root to start jobs; run the tests as root";
  const missing = [...DAEMONS, ...CLIENTS].filter((c) => !which(c));
  if (missing.length > 0) {
    return `${missing.join(", ")} not installed: apt-get install slurmctld slurmd munge slurm-client`;
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file: string, n = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trim().split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Waits for a child to exit, SIGKILLing it after `ms`. */
function stopChild(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts munged, slurmctld and slurmd in a fresh temporary folder and waits until the node is
 * idle. Returns the cluster, or the reason it could not start (with the daemons' log tails);
 * on failure everything started is stopped again.
 */
export async function startTestCluster(
  options: { cpus?: number; timeoutMs?: number } = {},
): Promise<TestCluster | { error: string }> {
  const why = clusterUnavailable();
  if (why) return { error: why };
  const cpus = options.cpus ?? 2;
  const t0 = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-slurm-"));
  fs.chmodSync(dir, 0o700);
  const node = os.hostname().split(".")[0]!;
  const key = path.join(dir, "munge.key");
  fs.writeFileSync(key, crypto.randomBytes(1024), { mode: 0o600 });
  const socket = path.join(dir, "munge.socket");
  for (const d of ["state", "spool", "log"]) fs.mkdirSync(path.join(dir, d));
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, "slurm.conf");
  fs.writeFileSync(
    conf,
    [
      "ClusterName=senettest",
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      "AuthType=auth/munge",
      `AuthInfo=socket=${socket}`,
      "CredType=cred/munge",
      "SlurmUser=root",
      "SlurmdUser=root",
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "MpiDefault=none",
      "ReturnToService=2",
      "SchedulerType=sched/backfill",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      // Pick up new jobs at once rather than on the default schedule.
      "SchedulerParameters=sched_interval=1",
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      "",
    ].join("\n"),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[], log: string) => {
    const out = fs.openSync(path.join(dir, "log", log), "a");
    const child = spawn(which(cmd)!, args, { env, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.on("error", () => {});
    children.push(child);
    return child;
  };
  // If the test process dies without stop(), take the daemons with it.
  const onExit = () => {
    for (const c of children) c.kill("SIGKILL");
  };
  process.once("exit", onExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    spawnSync(which("scancel")!, ["--user", "root", "--quiet"], { env, timeout: 10_000 });
    for (let i = 0; i < 50; i++) {
      const q = spawnSync(which("squeue")!, ["-h", "-o", "%i"], { env, encoding: "utf8" });
      if (q.status !== 0 || q.stdout.trim() === "") break;
      await sleep(200);
    }
    for (const c of [...children].reverse()) await stopChild(c, 5_000);
    process.removeListener("exit", onExit);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  start(
    "munged",
    [
      "--foreground",
      "--force",
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${dir}/munged.pid`,
      `--log-file=${dir}/log/munged.log`,
      `--seed-file=${dir}/munged.seed`,
    ],
    "munged.out",
  );
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!fs.existsSync(socket) && Date.now() < deadline) await sleep(50);
  start("slurmctld", ["-D", "-c"], "slurmctld.out");
  start("slurmd", ["-D", "-N", node], "slurmd.out");
  while (Date.now() < deadline) {
    const r = spawnSync(which("sinfo")!, ["-h", "-o", "%t"], { env, encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim() === "idle") {
      return { dir, env, startSeconds: (performance.now() - t0) / 1000, stop };
    }
    if (children.some((c) => c.exitCode !== null)) break;
    await sleep(250);
  }
  const logs = ["munged.out", "slurmctld.out", "slurmctld.log", "slurmd.out", "slurmd.log"]
    .map((f) => `--- ${f}\n${tail(path.join(dir, "log", f))}`)
    .join("\n");
  await stop();
  return { error: `the SLURM test cluster did not come up (node not idle):\n${logs}` };
}
