/**
 * Rebuilds what a fresh `git clone` has of the results, so a test can run a notebook the way a
 * reader will: only the files git tracks (committed runs without checkpoints or other ignored
 * files), under a temporary sweep root that $SENET_LAB_SWEEP_DIR points at.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../src/util/fs.js";

/** The repository folder whose committed runs a clean clone gets. */
const SWEEPS = "results/sweeps";

function git(args: string[], input?: string): string {
  return execFileSync("git", ["-C", PROJECT_ROOT, ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 2 ** 20,
    ...(input !== undefined ? { input } : {}),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/**
 * Copies the git-tracked files of results/sweeps (`git ls-files`, as committed in the index)
 * into `dest` (becoming dest/<notebook>/<preset>/...), and returns the environment that points
 * a notebook kernel at it, with the number of files copied.
 */
export function cloneTrackedSweeps(dest: string): {
  env: { SENET_LAB_SWEEP_DIR: string };
  files: number;
} {
  const files = git(["ls-files", "-z", "--", SWEEPS]).split("\0").filter(Boolean);
  for (const rel of files) {
    const from = path.join(PROJECT_ROOT, rel);
    if (!fs.existsSync(from)) continue; // deleted in the work tree, not yet in a commit
    const to = path.join(dest, path.relative(SWEEPS, rel));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
  fs.mkdirSync(dest, { recursive: true });
  return { env: { SENET_LAB_SWEEP_DIR: path.resolve(dest) }, files: files.length };
}

/** Every file under `root`, relative to it, with "/" separators. */
function listFiles(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out;
}

/**
 * Deletes from a sweep root every file that git would not commit were the root results/sweeps
 * (the project's .gitignore decides: checkpoint/, .locks/, model/ except where re-included), so
 * freshly trained runs look as they would after commit and clone. Returns the deleted paths.
 */
export function pruneUncommittable(root: string): string[] {
  const files = listFiles(root);
  if (files.length === 0) return [];
  const asRepo = files.map((f) => `${SWEEPS}/${f}`);
  let ignored: string[] = [];
  try {
    ignored = git(["check-ignore", "--no-index", "-z", "--stdin"], `${asRepo.join("\0")}\0`)
      .split("\0")
      .filter(Boolean);
  } catch (err) {
    // Exit status 1: nothing is ignored.
    if ((err as { status?: number }).status !== 1) throw err;
  }
  const removed = ignored.map((p) => path.posix.relative(SWEEPS, p));
  for (const rel of removed) fs.rmSync(path.join(root, rel), { force: true });
  removeEmptyDirs(root);
  return removed;
}

function removeEmptyDirs(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removeEmptyDirs(path.join(dir, e.name));
  }
  if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
}
