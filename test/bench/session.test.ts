/**
 * MeasureProcess with real child processes (no fakes): replies are matched to commands in order
 * and lines without the marker are ignored; a program that cannot start, dies, or overruns a
 * command's limit answers `{ ok: false, error }` naming why, and so does every later command.
 */
import { describe, expect, it } from "vitest";
import { RESULT_PREFIX } from "../../src/bench/protocol.js";
import { MeasureProcess } from "../../src/bench/session.js";

const node = process.execPath;
const opts = { cwd: process.cwd() };

describe("MeasureProcess", () => {
  it("answers commands in order and ignores unmarked stdout lines", async () => {
    const script = `
      const rl = require("node:readline").createInterface({ input: process.stdin });
      let n = 0;
      rl.on("line", (l) => {
        const cmd = JSON.parse(l);
        process.stdout.write("library noise\\n");
        process.stdout.write(${JSON.stringify(RESULT_PREFIX)} + JSON.stringify({ ok: true, detail: cmd.cmd + " " + n++ }) + "\\n");
        if (cmd.cmd === "exit") process.exit(0);
      });`;
    const lines: string[] = [];
    const p = new MeasureProcess("echo", node, ["-e", script], {
      ...opts,
      log: (l) => lines.push(l),
    });
    expect(await p.request({ cmd: "info" })).toEqual({ ok: true, detail: "info 0" });
    expect(await p.request({ cmd: "release", ids: [] })).toEqual({ ok: true, detail: "release 1" });
    expect(await p.close()).toEqual({ ok: true, detail: "exit 2" });
    expect(p.deadReason).toMatch(/exited \(code 0\)/);
  });

  it("reports a program that cannot start, one that dies, and one that overruns", async () => {
    const missing = new MeasureProcess("ghost", "/nonexistent/senet-lab-python", [], opts);
    expect((await missing.request({ cmd: "info" })).error).toMatch(
      /ghost: could not start \/nonexistent\/senet-lab-python: .*ENOENT/,
    );
    const dies = new MeasureProcess(
      "dies",
      node,
      ["-e", "process.stdin.once('data', () => { console.error('bad input'); process.exit(3); })"],
      opts,
    );
    const r = await dies.request({ cmd: "info" });
    expect(r).toEqual({ ok: false, error: "dies: process exited (code 3): bad input" });
    expect((await dies.request({ cmd: "info" })).error).toBe(r.error);
    const slow = new MeasureProcess("slow", node, ["-e", "setTimeout(() => {}, 60000)"], opts);
    const t0 = Date.now();
    expect((await slow.request({ cmd: "info" }, 300)).error).toBe(
      "slow: no answer to info within 0.3 s; killed",
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
    await slow.close();
    expect(slow.deadReason).toMatch(/no answer to info/);
  });
});
