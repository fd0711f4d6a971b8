import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FAILURE_DIR, removeDeadTempFiles } from "../../src/sweep/layout.js";
import { clearRunTempFiles as removeTempFiles } from "../../src/train/run-folder.js";

const DEAD_PID = 2 ** 22 + 11; // above Linux's pid_max: never a live process

describe("leftovers of killed writers", () => {
  it("a claimed run folder loses every temporary file, nested ones included", () => {
    const run = fs.mkdtempSync(path.join(os.tmpdir(), "senet-run-"));
    fs.mkdirSync(path.join(run, "checkpoint"));
    fs.writeFileSync(path.join(run, "config.json"), "{}");
    fs.writeFileSync(path.join(run, `.summary.json.${DEAD_PID}.ab12cd34.tmp`), '{"stat');
    fs.writeFileSync(path.join(run, "checkpoint", `.epoch-2.bin.${DEAD_PID}.00ff00ff.tmp`), "x");
    expect(removeTempFiles(run)).toBe(2);
    expect(fs.readdirSync(run).sort()).toEqual(["checkpoint", "config.json"]);
    expect(fs.readdirSync(path.join(run, "checkpoint"))).toEqual([]);
  });

  it("the sweep folder loses only the temporary files of dead processes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-sweepdir-"));
    fs.mkdirSync(path.join(dir, FAILURE_DIR));
    const dead = `.sweep.json.${DEAD_PID}.deadbeef.tmp`;
    const live = `.sweep.json.${process.pid}.cafebabe.tmp`;
    const failure = path.join(FAILURE_DIR, `.x.json.${DEAD_PID}.01234567.tmp`);
    for (const f of [dead, live, failure]) fs.writeFileSync(path.join(dir, f), "{");
    expect(removeDeadTempFiles(dir)).toBe(2);
    expect(fs.readdirSync(dir).sort()).toEqual([FAILURE_DIR, live].sort());
    expect(fs.readdirSync(path.join(dir, FAILURE_DIR))).toEqual([]);
  });
});
