/**
 * The system pieces npm cannot install, each with the Debian packages that provide it, a check,
 * and what stops working without it. `senet-lab setup` installs the missing ones when it can and
 * otherwise prints the exact command; `senet-lab env` shows the same table.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../util/fs.js";

/** Debian's python, which has nbclient and torch; a pyenv `python3` earlier on PATH lacks them. */
export const SYSTEM_PYTHON = process.env.SENET_LAB_PYTHON ?? "/usr/bin/python3";

/** Where the project-local Jupyter data (the tslab kernelspec) lives; JUPYTER_PATH points here. */
export const JUPYTER_DIR = path.join(PROJECT_ROOT, ".jupyter", "share", "jupyter");

/** Folder of Debian's Fashion-MNIST package. */
export const DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

/** One piece of the system outside npm. */
export interface SystemPiece {
  /** Short id used in messages and `env --json`. */
  id: string;
  /** What it is, for people. */
  what: string;
  /** Debian packages that provide it. */
  apt: string[];
  /** True when present. */
  check: () => boolean;
  /** What does not work without it. */
  without: string;
}

function pythonHas(modules: string[]): boolean {
  const r = spawnSync(SYSTEM_PYTHON, ["-c", `import ${modules.join(", ")}`], { stdio: "ignore" });
  return r.status === 0;
}

function onPath(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** Daemons live in /usr/sbin, which a non-login PATH may lack. */
function onPathOrSbin(cmd: string): boolean {
  return onPath(cmd) || fs.existsSync(`/usr/sbin/${cmd}`) || fs.existsSync(`/sbin/${cmd}`);
}

/** Every system piece, in install order. */
export const SYSTEM_PIECES: SystemPiece[] = [
  {
    id: "jupyter",
    what: "Jupyter runner (nbclient, nbconvert, ipykernel) under /usr/bin/python3",
    apt: [
      "jupyter-nbconvert",
      "python3-nbclient",
      "jupyter-client",
      "python3-nbformat",
      "python3-ipykernel",
    ],
    check: () => pythonHas(["nbclient", "nbconvert", "nbformat", "ipykernel", "jupyter_client"]),
    without:
      "notebooks cannot run: npm run reproduce, senet-lab notebook run and the notebook tests fail",
  },
  {
    id: "notebook-server",
    what: "Jupyter Notebook server",
    apt: ["jupyter-notebook"],
    check: () => pythonHas(["notebook"]),
    without: "npm run notebook cannot start the interactive environment",
  },
  {
    id: "fashion-mnist",
    what: `Fashion-MNIST (${DEBIAN_FASHION_MNIST})`,
    apt: ["dataset-fashion-mnist"],
    check: () => fs.existsSync(path.join(DEBIAN_FASHION_MNIST, "train-images-idx3-ubyte.gz")),
    without: "only the embedded Fashion-MNIST subset in data/ is available",
  },
  {
    id: "native-toolchain",
    what: "C++ compiler and oneDNN headers for the native onednn backend",
    apt: ["g++", "make", "libdnnl-dev"],
    check: () => onPath("g++") && onPath("make") && fs.existsSync("/usr/include/dnnl.hpp"),
    without:
      "the fast onednn backend cannot be built; training falls back to the far slower wasm backend",
  },
  {
    id: "pytorch",
    what: "PyTorch under /usr/bin/python3 (reference numerics and benchmark)",
    apt: ["python3-torch"],
    check: () => pythonHas(["torch"]),
    without: "the benchmark has no PyTorch column and test fixtures cannot be regenerated",
  },
  {
    id: "torchvision",
    what: "torchvision under /usr/bin/python3 (reference networks for pretrained-weight parity)",
    apt: ["python3-torchvision"],
    check: () => pythonHas(["torchvision"]),
    without:
      "the full-size pretrained-weight parity checks (test/pretrained/live.test.ts) skip and test/fixtures/pretrained cannot be regenerated",
  },
  {
    id: "reference-stats",
    what: "SciPy, mpmath and statsmodels under /usr/bin/python3 (statistics reference values)",
    apt: ["python3-scipy", "python3-mpmath", "python3-statsmodels"],
    check: () => pythonHas(["scipy", "mpmath", "statsmodels"]),
    without:
      "test/fixtures/stats/*.json cannot be regenerated (scripts/fixtures/gen_stats_fixtures.py, gen_power_fixtures.py); the tests read the committed JSON",
  },
  {
    id: "chromium",
    what: "headless Chromium",
    apt: ["chromium"],
    check: () => fs.existsSync("/usr/bin/chromium"),
    without: "the browser check of the HTML exports is skipped",
  },
  {
    id: "slurm",
    what: "SLURM client and daemons with munge (sbatch, squeue, slurmctld, slurmd, munged)",
    apt: ["slurmctld", "slurmd", "munge", "slurm-client"],
    check: () =>
      ["sbatch", "squeue", "sinfo", "scancel"].every(onPath) &&
      ["slurmctld", "slurmd", "munged"].every(onPathOrSbin),
    without: "sweep submit --slurm and its cluster test are skipped",
  },
];

/** Presence of every piece. */
export function checkSystem(): { piece: SystemPiece; present: boolean }[] {
  return SYSTEM_PIECES.map((piece) => ({ piece, present: piece.check() }));
}

/** The exact command a user runs to install the given pieces. */
export function installCommand(pieces: SystemPiece[]): string {
  const pkgs = [...new Set(pieces.flatMap((p) => p.apt))].join(" ");
  const sudo = process.getuid?.() === 0 ? "" : "sudo ";
  return `${sudo}apt-get update && ${sudo}DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs}`;
}

/** Why this process cannot install Debian packages itself, or undefined if it can. */
export function cannotInstallReason(): string | undefined {
  if (!fs.existsSync("/etc/debian_version")) return "this is not a Debian system";
  if (process.getuid?.() !== 0) return "installing needs root";
  if (!onPath("apt-get")) return "apt-get is not on PATH";
  return undefined;
}

/**
 * Installs the pieces' Debian packages; returns undefined on success or apt's last lines.
 * Output is captured so a successful setup stays quiet.
 */
export function aptInstall(pieces: SystemPiece[]): string | undefined {
  const pkgs = [...new Set(pieces.flatMap((p) => p.apt))];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", "--no-install-recommends", ...pkgs],
  ]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) {
      const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-5).join("\n");
      return `apt-get ${args[0]} failed (exit ${r.status}): ${tail}`;
    }
  }
  return undefined;
}

/** The kernelspec senet-lab runs notebooks with: tslab under this Node, loading TS via tsx. */
export function kernelSpec(): Record<string, unknown> {
  const tslabBin = path.join(PROJECT_ROOT, "node_modules", "tslab", "bin", "tslab");
  const tsxLoader = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "loader.mjs");
  return {
    argv: [process.execPath, tslabBin, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (senet-lab)",
    language: "typescript",
    // tsx lets notebooks import the library's TypeScript sources by package name, live.
    env: { NODE_OPTIONS: `--import=${new URL(`file://${tsxLoader}`).href}` },
  };
}

/** Path of the project-local tslab kernelspec. */
export const KERNEL_JSON = path.join(JUPYTER_DIR, "kernels", "tslab", "kernel.json");

/** Writes the project-local kernelspec if absent or stale; returns true when it wrote. */
export function registerKernel(): boolean {
  linkSelf();
  const text = `${JSON.stringify(kernelSpec(), null, 2)}\n`;
  if (fs.existsSync(KERNEL_JSON) && fs.readFileSync(KERNEL_JSON, "utf8") === text) return false;
  fs.mkdirSync(path.dirname(KERNEL_JSON), { recursive: true });
  fs.writeFileSync(KERNEL_JSON, text);
  return true;
}

/**
 * tslab type-checks notebooks with Node10 module resolution, which ignores the `exports` map, so a
 * notebook's `import ... from "senet-lab"` needs node_modules/senet-lab. A link to the project root
 * makes the live sources resolve with their types (npm ci removes it; setup puts it back).
 */
export function linkSelf(): boolean {
  const link = path.join(PROJECT_ROOT, "node_modules", "senet-lab");
  try {
    if (fs.readlinkSync(link) === "..") return false;
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    /* absent */
  }
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync("..", link, "dir");
  return true;
}

/** True when the project-local kernelspec is current. */
export function kernelRegistered(): boolean {
  return (
    fs.existsSync(path.join(PROJECT_ROOT, "node_modules", "senet-lab", "package.json")) &&
    fs.existsSync(KERNEL_JSON) &&
    fs.readFileSync(KERNEL_JSON, "utf8") === `${JSON.stringify(kernelSpec(), null, 2)}\n`
  );
}

/** Environment for Jupyter processes: finds the project-local kernel first. */
export function jupyterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const jp = process.env.JUPYTER_PATH
    ? `${JUPYTER_DIR}${path.delimiter}${process.env.JUPYTER_PATH}`
    : JUPYTER_DIR;
  return { ...process.env, JUPYTER_PATH: jp, PYTHONUNBUFFERED: "1", ...extra };
}
