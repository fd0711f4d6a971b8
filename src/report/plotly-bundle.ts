/**
 * The Plotly bundle, made small enough to inline once per notebook. plotly.js-dist is ~10 MB of
 * unminified JavaScript; an executed notebook must stay under 6 MB. We minify it with esbuild
 * (licence comments kept), gzip it and inline it as base64 (~2 MB), and the page inflates it with
 * the browser's DecompressionStream before running it. The result is cached on disk per Plotly
 * version, so only the first chart on a machine pays the ~1–2 s of minifying.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { PROJECT_ROOT, writeFileAtomic } from "../util/fs.js";

const require = createRequire(import.meta.url);

/** The global promise the bundle script sets; chart scripts wait on it. */
export const PLOTLY_GLOBAL = "__senetLabPlotly";

/** plotly.js-dist's version. */
export function plotlyVersion(): string {
  return (require("plotly.js-dist/package.json") as { version: string }).version;
}

function cacheFile(version: string): string {
  const dir = fs.existsSync(path.join(PROJECT_ROOT, "node_modules"))
    ? path.join(PROJECT_ROOT, "node_modules", ".cache", "senet-lab")
    : path.join(os.tmpdir(), "senet-lab-cache");
  return path.join(dir, `plotly-${version}.min.js.gz`);
}

let memo: { version: string; gz: Buffer } | undefined;

/** Minifies plotly.js with esbuild (transitive dependency through tsx); null if unavailable. */
async function minify(source: string): Promise<string | null> {
  try {
    const esbuild = (await import("esbuild")) as typeof import("esbuild");
    const out = await esbuild.transform(source, { minify: true, legalComments: "eof" });
    return out.code;
  } catch {
    return null;
  }
}

/**
 * The gzipped Plotly bundle (minified when esbuild is available), from the disk cache or built
 * now. Returns the bytes and the version.
 */
export async function plotlyBundleGzip(): Promise<{ version: string; gz: Buffer }> {
  const version = plotlyVersion();
  if (memo?.version === version) return memo;
  const file = cacheFile(version);
  let gz: Buffer | undefined;
  try {
    gz = fs.readFileSync(file); // written atomically, so complete when present
    if (gz[0] !== 0x1f || gz[1] !== 0x8b) gz = undefined;
  } catch {
    gz = undefined;
  }
  if (!gz) {
    const source = fs.readFileSync(require.resolve("plotly.js-dist"), "utf8");
    const code = (await minify(source)) ?? source;
    gz = zlib.gzipSync(code, { level: 9 });
    try {
      writeFileAtomic(file, gz);
    } catch {
      /* read-only install: keep it in memory only */
    }
  }
  memo = { version, gz };
  return memo;
}

/**
 * A `<script>` that defines `window.__senetLabPlotly`, a promise of the Plotly object, by
 * inflating the inlined bundle (or reusing a Plotly already on the page). Include it once per
 * page or notebook; every chart script waits on the promise.
 */
export async function plotlyBundleScript(): Promise<string> {
  const { version, gz } = await plotlyBundleGzip();
  const b64 = gz.toString("base64");
  return [
    `<script data-senet-lab-plotly="${version}">`,
    `(function(){if(window.${PLOTLY_GLOBAL})return;`,
    `var b64="${b64}";`,
    `window.${PLOTLY_GLOBAL}=(window.Plotly?Promise.resolve(window.Plotly):(async function(){`,
    `if(typeof DecompressionStream==="undefined")throw new Error("this browser lacks DecompressionStream; Plotly cannot load");`,
    `var bin=atob(b64),bytes=new Uint8Array(bin.length);for(var i=0;i<bin.length;i++)bytes[i]=bin.charCodeAt(i);`,
    `var code=await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();`,
    `(0,eval)(code);return window.Plotly;})());`,
    `})();</script>`,
  ].join("");
}
