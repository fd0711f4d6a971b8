/**
 * Running a child as nobody, for the read-only cases: root ignores permission bits, so a test of
 * an unwritable folder drops to nobody with setpriv. Shared by the fs and CLI output tests.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { PROJECT_ROOT } from "../../src/util/fs.js";

/** True when this process runs as root (permission bits do not apply to it). */
export const IS_ROOT = process.getuid?.() === 0;

/** setpriv arguments that drop root to nobody, so permission bits apply. */
export const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/**
 * Whether root can run this checkout as nobody: setpriv is present and nobody can read the
 * project (a checkout under a 0700 folder, such as a mktemp clone, cannot be read).
 */
export const HAS_SETPRIV =
  spawnSync("setpriv", [
    ...NOBODY,
    process.execPath,
    "-e",
    `require("fs").accessSync(${JSON.stringify(path.join(PROJECT_ROOT, "node_modules", "tsx", "package.json"))})`,
  ]).status === 0;
