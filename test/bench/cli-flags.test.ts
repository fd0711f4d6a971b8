/**
 * `senet-lab bench`'s new flags through the real CLI: --help documents them, and bad values are
 * refused before any process starts, quoting the value and saying what is allowed.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/util/fs.js";

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "bin", "senet-lab.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, SENET_LAB_QUIET: "1" },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("senet-lab bench flags", () => {
  it("--help documents --rounds, --sweep and --no-bf16", () => {
    const r = cli(["bench", "--help"]);
    expect(r.code).toBe(0);
    for (const f of ["--rounds N", "--sweep LIST", "--no-bf16", "--throughput N", "onednn-bf16"]) {
      expect(r.out).toContain(f);
    }
  });

  it("refuses bad values, quoting them and listing what is allowed", () => {
    const sweep = cli(["bench", "--no-write", "--sweep", "32,big"]);
    expect(sweep.code).toBe(2);
    expect(sweep.err).toContain(
      '--sweep: batch size "big" is not an integer >= 1; allowed: comma-separated integers >= 1 (e.g. 32,64,128,256) or "none"',
    );
    const rounds = cli(["bench", "--no-write", "--rounds", "1"]);
    expect(rounds.code).toBe(2);
    expect(rounds.err).toContain('--rounds must be an integer >= 2; got "1"');
    const backends = cli(["bench", "--no-write", "--backends", "onednn,onednn-fp8"]);
    expect(backends.code).toBe(2);
    expect(backends.err).toContain(
      '--backends: unknown backend "onednn-fp8"; allowed: tensorflow, onednn, onednn-bf16, wasm, cpu',
    );
    const tp = cli(["bench", "--no-write", "--throughput", "0"]);
    expect(tp.code).toBe(2);
    expect(tp.err).toContain(
      '--throughput: batch "0" is not an integer >= 1; allowed: an integer >= 1 (e.g. 32) or "none"',
    );
  });
});
