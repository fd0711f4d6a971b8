import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/util/fs.js";

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "bin", "senet-lab.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, SENET_LAB_QUIET: "1", ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("senet-lab CLI", () => {
  it("--help lists every command with a summary", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["env", "setup", "notebook", "reproduce"])
      expect(r.out).toMatch(new RegExp(`\\n  ${c} +\\S`));
  });

  it("an unknown command is an error naming it and the valid ones", () => {
    const r = cli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "frobnicate"');
    expect(r.err).toContain("env");
  });

  it("an unknown flag is an error naming it", () => {
    const r = cli(["notebook", "run", "x.ipynb", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--bogus");
  });

  it("subcommand help documents every flag", () => {
    const r = cli(["notebook", "run", "--help"]);
    expect(r.code).toBe(0);
    for (const f of ["--out FILE", "-p, --param KEY=VALUE", "--html", "--timeout SECONDS"])
      expect(r.out).toContain(f);
  });

  it("env --json reports the backend, versions and system pieces", () => {
    const r = cli(["env", "--json"]);
    expect(r.code, r.err).toBe(0);
    const env = JSON.parse(r.out) as {
      backend: { chosen: string; all: Record<string, string> };
      versions: Record<string, string>;
      system: Record<string, string>;
      fix: string;
    };
    expect(["tensorflow", "onednn", "wasm", "cpu"]).toContain(env.backend.chosen);
    expect(env.backend.all.cpu).toMatch(/^available/);
    expect(env.versions["@tensorflow/tfjs"]).toBe("4.22.0");
    expect(Object.keys(env.system)).toEqual(
      expect.arrayContaining(["jupyter", "fashion-mnist", "native-toolchain"]),
    );
  });

  it("a bad SENET_LAB_BACKEND names the value and the allowed ones", () => {
    const r = cli(["env"], { SENET_LAB_BACKEND: "tpu" });
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'SENET_LAB_BACKEND must be one of auto, tensorflow, onednn, wasm, cpu; got "tpu"',
    );
  });
});
