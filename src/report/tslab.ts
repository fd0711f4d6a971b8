/**
 * Rich output in a tslab notebook kernel, without loading tslab anywhere else: tslab is only
 * used when this process is a tslab kernel (its jupyter module is already loaded), so scripts and
 * tests never pay for loading the TypeScript compiler it pulls in.
 */
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/** The loaded tslab's jupyter module path, when this process is a tslab kernel. */
function kernelModule(): string | undefined {
  const suffix = path.join("tslab", "dist", "jupyter.js");
  return Object.keys(require.cache).find((k) => k.endsWith(suffix));
}

/** Whether this process is a running tslab kernel. */
export function inTslab(): boolean {
  return kernelModule() !== undefined;
}

/** Shows HTML in the notebook; returns false (showing nothing) outside a tslab kernel. */
export function displayHtml(html: string): boolean {
  const jupyter = kernelModule();
  if (!jupyter) return false;
  // The kernel's own tslab instance (not whichever one `require("tslab")` would find).
  const tslab = require(path.join(path.dirname(jupyter), "public.js")) as {
    display: { html(s: string): void };
  };
  try {
    tslab.display.html(html);
    return true;
  } catch (err) {
    if (err instanceof Error && err.message === "Not ready") return false;
    throw err;
  }
}
