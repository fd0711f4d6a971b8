/**
 * Builds the native onednn addon during setup. `npm ci` already tries (the package's install
 * script), but on a fresh machine g++ and libdnnl-dev arrive only with setup's apt step, so setup
 * builds it then. Silent when the addon is already built or the toolchain is absent (setup has
 * reported the missing toolchain with the command that installs it).
 */
import { SYSTEM_PIECES } from "./system.js";

/** Builds the addon if the toolchain is present and the addon is not built; logs what it does. */
export async function ensureNative(log: (line: string) => void): Promise<void> {
  if (process.env.SENET_LAB_SKIP_NATIVE === "1") return;
  const { nativeBuildStatus, buildNative } = await import("../backend/index.js");
  if (nativeBuildStatus().built) return;
  if (!SYSTEM_PIECES.find((p) => p.id === "native-toolchain")?.check()) return;
  log("senet-lab setup: building the native oneDNN backend (about a minute) ...");
  const status = await buildNative(log);
  if (!status.built) log(`senet-lab setup: the onednn backend is unavailable: ${status.reason}`);
}
