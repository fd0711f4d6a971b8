/**
 * Headless Chromium (Debian's) for checking what a person sees: the DOM of an HTML export after
 * its scripts ran, and screenshots. Flags keep it off the network (this machine has none to spare).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** Debian's Chromium. */
export const CHROMIUM = process.env.SENET_LAB_CHROMIUM ?? "/usr/bin/chromium";

function chromium(args: string[], file: string): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "senet-chromium-"));
  try {
    return execFileSync(
      CHROMIUM,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=15000",
        ...args,
        /^https?:\/\//.test(file) ? file : pathToFileURL(path.resolve(file)).href,
      ],
      {
        encoding: "utf8",
        maxBuffer: 256 << 20,
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 120_000,
      },
    );
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM after its scripts ran (charts drawn); `htmlFile` may also be an http(s) URL. */
export function renderedDom(htmlFile: string): string {
  return chromium(["--dump-dom"], htmlFile);
}

/** Saves a PNG screenshot of the page (a file or an http(s) URL). */
export function screenshot(htmlFile: string, png: string, size = "1200,2400"): void {
  chromium([`--window-size=${size}`, `--screenshot=${path.resolve(png)}`], htmlFile);
}
