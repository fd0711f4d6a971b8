/** `senet-lab complexity`, run for real through bin/senet-lab.js in a child process. */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/senet-lab.js", "complexity", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, SENET_LAB_QUIET: "1" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("senet-lab complexity", () => {
  it("prints one JSON object for resnet50 with --json", () => {
    const r = cli("resnet50", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!);
    expect(report.model).toBe("resnet50");
    expect(report.params).toBe(25_557_032);
    // SE paper Table 2: 3.86 GFLOPs (multiply-adds), stride in the first 1×1.
    expect(Math.abs(report.macs / 1e9 - 3.86) / 3.86).toBeLessThan(0.005);
    expect(report.config.strideIn).toBe("1x1");
    expect(report.layers).toBeUndefined();
  });

  it("applies --set overrides and --input, and prints the per-layer table", () => {
    const r = cli(
      "se_resnet50",
      "--set",
      "stages=4,5",
      "--set",
      "reduction=8",
      "--input",
      "64",
      "--layers",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/input\s+64×64×3/);
    expect(r.stdout).toMatch(/^se_4_1\s+SqueezeExcite/m);
    expect(r.stdout).not.toMatch(/^se_3_1\s/m);
  });

  it("rejects a bad override with exit code 2 and a message naming the value", () => {
    const r = cli("resnet20", "--set", "depth=21", "--json");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("6n+2");
    expect(r.stderr).toContain("21");
  });
});
