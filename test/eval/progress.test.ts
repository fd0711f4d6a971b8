/** The eval progress display: a rewritten line on a terminal, sparse plain lines elsewhere. */
import { describe, expect, it } from "vitest";
import { EvalProgressBar, progressLine } from "../../src/eval/progress.js";

const at = (done: number, seconds: number) => ({
  done,
  total: 100,
  correct1: Math.floor(done / 2),
  correct5: done,
  seconds,
});

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } };
}

describe("eval progress", () => {
  it("the line shows fraction, counts, running top-1, rate and ETA", () => {
    expect(progressLine(at(40, 4))).toBe(
      "[##########--------------]   40%  40/100  top-1 50.0%  10.0 img/s  ETA 6s",
    );
    expect(progressLine(at(100, 10))).not.toContain("ETA");
  });

  it("on a terminal: one line rewritten in place, at most every 100 ms, cleared at the end", () => {
    const { out, stream } = sink(true);
    const bar = new EvalProgressBar({ stream, tty: true });
    bar.update(at(10, 1));
    bar.update(at(11, 1.05)); // within 100 ms: skipped
    bar.update(at(20, 2));
    bar.end();
    expect(out).toHaveLength(3);
    expect(out[0]!.startsWith("\r[") && out[0]!.endsWith("\x1b[K")).toBe(true);
    expect(out[2]).toBe("\r\x1b[K");
  });

  it("off a terminal (or with $CI): plain lines, the first at once then every logEvery seconds", () => {
    const { out, stream } = sink(false);
    const bar = new EvalProgressBar({ stream, logEvery: 30 });
    expect(bar.tty).toBe(false);
    for (let s = 1; s <= 70; s++) bar.update(at(s, s));
    bar.end();
    expect(out.map((l) => /(\d+\/100)/.exec(l)?.[1])).toEqual(["1/100", "31/100", "61/100"]);
    expect(out.every((l) => l.startsWith("eval [") && l.endsWith("\n") && !l.includes("\r"))).toBe(
      true,
    );
  });

  it("$CI turns the bar off even on a terminal", () => {
    const before = process.env.CI;
    process.env.CI = "1";
    try {
      expect(new EvalProgressBar({ stream: sink(true).stream }).tty).toBe(false);
    } finally {
      if (before === undefined) delete process.env.CI;
      else process.env.CI = before;
    }
  });
});
