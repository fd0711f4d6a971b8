/**
 * The reproduce progress line without kernels: the events file is tailed line by line, the ETA
 * follows the previous durations and the live sweep rate, a terminal gets one line rewritten in
 * place and a log gets a plain line at most every 30 s.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  expectedSeconds,
  formatDuration,
  JsonlTail,
  Progress,
} from "../../src/notebook/progress.js";

function capture(isTTY = false) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 200, write: (s: string) => out.push(s) } };
}

describe("reproduce progress", () => {
  it("tails a growing JSON-lines file, holding back a half-written line", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "senet-tail-")), "p.jsonl");
    const tail = new JsonlTail(file);
    expect(tail.poll()).toEqual([]); // not there yet
    fs.writeFileSync(
      file,
      '{"event":"sweep","notebook":"n","sweep":"s","runs":3,"pending":2}\n{"event":"run"',
    );
    expect(tail.poll().map((e) => e.event)).toEqual(["sweep"]);
    fs.appendFileSync(file, ',"notebook":"n","sweep":"s","id":"a","status":"trained"}\nnot json\n');
    const evs = tail.poll();
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ event: "run", id: "a", status: "trained" });
    expect(tail.poll()).toEqual([]);
  });

  it("expects the last duration, plus reused training under --retrain, minus training now reused", () => {
    const past = { duration: 100, training: { trainSeconds: 80, trainedSeconds: 20, runs: 4 } };
    expect(expectedSeconds(undefined, false, 2)).toBeUndefined();
    expect(expectedSeconds({ duration: 42 }, true, 2)).toBe(42);
    expect(expectedSeconds(past, true, 2)).toBe(100 + 60 / 2);
    expect(expectedSeconds(past, false, 2)).toBe(100 - 20 / 2);
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(185)).toBe("3m05s");
    expect(formatDuration(3720)).toBe("1h02m");
  });

  it("plain lines at most every 30 s; the ETA takes the slower of plan and live sweep rate", () => {
    let t = 0;
    const { out, stream } = capture(false);
    const p = new Progress({ stream, now: () => t, expected: [100, 50] });
    p.startNotebook(1, "02_reduction_ratio");
    expect(out).toHaveLength(1); // a notebook start always prints
    expect(out[0]).toContain("[reproduce] 1/2 02_reduction_ratio");
    expect(p.eta()).toBe(150);
    p.onEvent({
      event: "sweep",
      notebook: "02_reduction_ratio",
      sweep: "baseline",
      runs: 5,
      pending: 4,
    });
    t = 40_000;
    p.onEvent({
      event: "run",
      notebook: "02_reduction_ratio",
      sweep: "baseline",
      id: "seed=0",
      status: "reused",
    });
    p.onEvent({
      event: "run",
      notebook: "02_reduction_ratio",
      sweep: "baseline",
      id: "seed=1",
      status: "trained",
      seconds: 12,
    });
    // 1 of 4 pending runs trained in 40 s: 3 × 40 s left, more than the plan's 100 − 40.
    expect(p.eta()).toBe(120 + 50);
    expect(out).toHaveLength(2); // 40 s after the last line: one more, then quiet
    t = 50_000;
    p.tick();
    expect(out).toHaveLength(2);
    t = 71_000;
    p.tick();
    expect(out).toHaveLength(3);
    expect(out[2]).toBe(
      "[reproduce] 1/2 02_reduction_ratio · runs 2/5 (1 reused, 1 trained) · sweep baseline · elapsed 1m11s · ETA 4m23s\n",
    );
    const state = p.endNotebook();
    expect(state?.done).toEqual({ reused: 1, trained: 1 });
    p.startNotebook(2, "03");
    expect(p.eta()).toBe(50);
  });

  it("does not rewrite lines when $CI is set, even on a terminal", () => {
    const saved = process.env.CI;
    process.env.CI = "1";
    try {
      const { out, stream } = capture(true);
      const p = new Progress({ stream, now: () => 0, expected: [undefined] });
      p.startNotebook(1, "smoke");
      expect(out.join("")).not.toContain("\r");
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });

  it("on a terminal, rewrites one line and prints kernel lines above it", () => {
    let t = 0;
    const { out, stream } = capture(true);
    const p = new Progress({ stream, now: () => t, expected: [undefined], tty: true });
    p.startNotebook(1, "smoke");
    expect(out.join("")).toBe("\r[reproduce] 1/1 smoke · elapsed 0s · ETA ?\x1b[K");
    out.length = 0;
    p.log("worker 1: epoch 1/3");
    expect(out).toEqual([]); // a partial kernel line waits for its end
    t = 2000;
    p.log(" done\n");
    expect(out[0]).toBe("\r\x1b[K");
    expect(out[1]).toBe("worker 1: epoch 1/3 done\n");
    expect(out[2]).toContain("\r[reproduce] 1/1 smoke · elapsed 2s");
    p.endNotebook();
    expect(out[out.length - 1]).toBe("\r\x1b[K");
  });
});
