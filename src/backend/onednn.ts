/** The native oneDNN tfjs backend. Built under issue #5; until then it reports itself missing. */
import type { LoadedBackend } from "./index.js";

/** Registers the "onednn" tfjs backend, or throws with the reason it cannot load. */
export async function registerOnednnBackend(_threads: number): Promise<LoadedBackend> {
  throw new Error("the native oneDNN addon is not part of this build yet");
}
