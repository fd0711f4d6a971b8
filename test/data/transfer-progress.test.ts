/**
 * The download progress display: a rewriting bar with bytes, rate and ETA on a terminal; only a
 * start and an end line where the stream is not a terminal or $CI is set.
 */
import { describe, expect, it } from "vitest";
import { formatBytes, TransferProgress } from "../../src/data/transfer-progress.js";

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } };
}

describe("TransferProgress", () => {
  it("draws bytes, percent, rate and ETA on a terminal, rewriting one line", () => {
    let t = 0;
    const s = sink(true);
    const p = new TransferProgress("cifar-10-binary.tar.gz", {
      stream: s.stream,
      tty: true,
      now: () => t,
    });
    p.start(0, 170_052_171, "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
    t = 4000;
    p.update(68_000_000);
    expect(s.out.at(-1)).toBe(
      `\rcifar-10-binary.tar.gz  [##########--------------]   39%  68.0 MB / 170.1 MB  17.0 MB/s  ETA 6s\x1b[K`,
    );
    t = 4050;
    p.update(69_000_000); // within 100 ms: not redrawn
    expect(s.out).toHaveLength(1);
    t = 10_000;
    p.done(170_052_171);
    expect(s.out.at(-2)).toBe("\r\x1b[K");
    expect(s.out.at(-1)).toBe("cifar-10-binary.tar.gz: 170.1 MB in 10s (17.0 MB/s)\n");
  });

  it("a resumed transfer's rate counts only the new bytes", () => {
    let t = 0;
    const p = new TransferProgress("f", { stream: sink(true).stream, tty: true, now: () => t });
    p.start(100_000_000, 200_000_000, "u");
    t = 10_000;
    expect(p.line(150_000_000)).toContain("5.00 MB/s  ETA 10s");
  });

  it("prints only a start and an end line off a terminal", () => {
    const s = sink(false);
    const p = new TransferProgress("x.gz", { stream: s.stream });
    p.start(5000, 10_000, "http://h/x.gz");
    p.update(7000);
    p.done(10_000);
    expect(s.out).toHaveLength(2);
    expect(s.out[0]).toBe("downloading x.gz (10.0 kB) from http://h/x.gz, resuming at 5.00 kB\n");
    expect(s.out[1]).toMatch(/^x\.gz: 10\.0 kB in \d+s/);
  });

  it("$CI turns the bar off even on a terminal", () => {
    const old = process.env.CI;
    process.env.CI = "true";
    try {
      expect(new TransferProgress("x", { stream: sink(true).stream }).tty).toBe(false);
      delete process.env.CI;
      expect(new TransferProgress("x", { stream: sink(true).stream }).tty).toBe(true);
    } finally {
      if (old === undefined) delete process.env.CI;
      else process.env.CI = old;
    }
  });

  it("formats sizes in SI units, as they are published", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(170_052_171)).toBe("170.1 MB");
    expect(formatBytes(1_557_161_267)).toBe("1.56 GB");
  });
});
