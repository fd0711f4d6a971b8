/**
 * The hash of the native addon's sources (native/binding.gyp and native/src/*), recorded by
 * scripts/build-native.mjs when it builds and compared by src/backend/onednn-addon.ts when it
 * loads: an addon built from older sources (a pull that changed native/src) is rebuilt by
 * `senet-lab setup` instead of failing later on a kernel it lacks.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** sha256 over binding.gyp and every file in native/src, by sorted name; hex. */
export function nativeSourceHash(nativeDir) {
  const h = createHash("sha256");
  const files = [
    "binding.gyp",
    ...readdirSync(path.join(nativeDir, "src"))
      .sort()
      .map((f) => path.join("src", f)),
  ];
  for (const f of files) {
    h.update(`${f}\0`);
    h.update(readFileSync(path.join(nativeDir, f)));
    h.update("\0");
  }
  return h.digest("hex");
}
