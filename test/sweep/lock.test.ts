import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { clearStaleLock, lockState, ownLockInfo, readLock, tryLock } from "../../src/sweep/lock.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-lock-"));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const RACER = path.join(path.dirname(new URL(import.meta.url).pathname), "lock-racer.ts");
const children: ReturnType<typeof spawn>[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Starts `n` processes that all try to take `file` at the same instant; resolves their verdicts. */
async function race(file: string, n: number, mode: "hold" | "die"): Promise<string[]> {
  const startAt = Date.now() + 2500; // after every racer has loaded
  const verdicts = Array.from({ length: n }, () => {
    const c = spawn(process.execPath, ["--import", TSX, RACER, file, String(startAt), mode], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(c);
    return new Promise<string>((resolve) => {
      let out = "";
      c.stdout!.on("data", (d) => {
        out += d;
        // A holder answers at once; a dying racer answers when it has exited.
        if (mode === "hold" && out.includes("\n")) resolve(out.trim());
      });
      c.on("close", () => resolve(out.trim()));
    });
  });
  return Promise.all(verdicts);
}

describe("run claims", () => {
  it("lets one holder in and names it to the others", () => {
    const file = path.join(dir, "a.lock");
    const first = tryLock(file);
    expect("lock" in first).toBe(true);
    const second = tryLock(file);
    expect("heldBy" in second && second.heldBy?.pid).toBe(process.pid);
    expect(lockState(file)).toBe("held");
    if ("lock" in first) first.lock.release();
    expect(fs.existsSync(file)).toBe(false);
    expect(lockState(file)).toBe("free");
  });

  it("takes over a claim whose owner died, or whose pid now belongs to another process", async () => {
    const file = path.join(dir, "b.lock");
    expect(await race(file, 1, "die")).toEqual(["won"]);
    const stale = readLock(file)!;
    expect(stale.pid).not.toBe(process.pid);
    expect(lockState(file)).toBe("stale");
    const r = tryLock(file);
    expect("lock" in r && r.lock.info.pid).toBe(process.pid);
    if ("lock" in r) r.lock.release();
    // A live pid with another start time is a reused pid: stale.
    fs.writeFileSync(file, JSON.stringify({ ...ownLockInfo(), procStart: "1" }));
    expect(lockState(file)).toBe("stale");
    fs.rmSync(file);
  }, 30_000);

  it("clears a dead owner's lock (a done run's, which no claim would take over), never a live one", async () => {
    const file = path.join(dir, "c.lock");
    expect(clearStaleLock(file)).toBe(false); // no lock
    expect(await race(file, 1, "die")).toEqual(["won"]);
    expect(lockState(file)).toBe("stale");
    expect(clearStaleLock(file)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
    const live = tryLock(file);
    expect(clearStaleLock(file)).toBe(false);
    expect(lockState(file)).toBe("held");
    if ("lock" in live) live.lock.release();
  }, 30_000);

  it("never admits two of many processes racing for one claim, fresh or stale", async () => {
    const fresh = path.join(dir, "c.lock");
    const v1 = await race(fresh, 6, "hold");
    expect(v1.filter((v) => v === "won")).toHaveLength(1);
    expect(v1.filter((v) => v === "lost")).toHaveLength(5);
    const stale = path.join(dir, "d.lock");
    fs.writeFileSync(
      stale,
      JSON.stringify({ ...ownLockInfo(), pid: 2 ** 22 + 7, procStart: null }),
    );
    expect(lockState(stale)).toBe("stale");
    const v2 = await race(stale, 6, "hold");
    expect(v2.filter((v) => v === "won")).toHaveLength(1);
  }, 60_000);
});
