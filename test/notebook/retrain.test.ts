/**
 * Retrain staging without kernels: the marker starts, resumes and refuses other arguments, and
 * promotion swaps staged sweep folders in by rename, keeps the replaced ones, and finishes a
 * promotion that was killed half-way. Also the index's training summary from runs.json.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { type IndexEntry, renderIndex } from "../../src/notebook/reproduce.js";
import {
  openRetrain,
  promoteRetrain,
  readRetrainMarker,
  retrainPaths,
} from "../../src/notebook/retrain.js";
import { describeTraining, summarizeTraining } from "../../src/notebook/training.js";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "senet-retrain-"));
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

describe("retrain staging", () => {
  it("starts a marker, resumes it with the same arguments, refuses other ones", () => {
    const paths = retrainPaths(tmp());
    const args = { command: "reproduce", notebooks: ["02", "03"], params: { preset: "smoke" } };
    const a = openRetrain(paths, args);
    expect(a.resumed).toBe(false);
    expect(fs.existsSync(paths.sweeps)).toBe(true);
    const b = openRetrain(paths, { ...args, params: { preset: "smoke" } });
    expect(b.resumed).toBe(true);
    expect(b.marker.startedAt).toBe(a.marker.startedAt);
    expect(() => openRetrain(paths, { ...args, notebooks: ["02"] })).toThrow(ConfigError);
    expect(() => openRetrain(paths, { ...args, notebooks: ["02"] })).toThrow(/retrain\.json/);
  });

  it("promotes by rename, keeps what it replaced, and finishes after a kill mid-way", () => {
    const results = tmp();
    const sweeps = path.join(results, "sweeps");
    const paths = retrainPaths(results);
    const { marker } = openRetrain(paths, {
      command: "reproduce",
      notebooks: ["02_x", "03_y", "00_none"],
      params: {},
    });
    write(path.join(sweeps, "02_x", "smoke", "s", "old.txt"), "old 02");
    write(path.join(sweeps, "03_y", "smoke", "s", "old.txt"), "old 03");
    write(path.join(paths.sweeps, "02_x", "smoke", "s", "new.txt"), "new 02");
    write(path.join(paths.sweeps, "03_y", "smoke", "s", "new.txt"), "new 03");
    write(path.join(paths.out, "02_x.ipynb"), "new nb");
    write(path.join(results, "02_x.ipynb"), "old nb");
    marker.completed = {
      "02_x": { preset: "smoke" },
      "03_y": { preset: "smoke" },
      "00_none": { preset: null },
    };
    // A promotion killed after moving 03's committed folder aside, before moving the new one in.
    const stamp = "2026-01-01T00-00-00-000Z";
    marker.phase = "promoting";
    marker.stamp = stamp;
    const aside = path.join(paths.root, `previous-${stamp}`, "sweeps", "03_y", "smoke");
    fs.mkdirSync(path.dirname(aside), { recursive: true });
    fs.renameSync(path.join(sweeps, "03_y", "smoke"), aside);
    const moves = promoteRetrain(paths, marker, { sweepsDir: sweeps, resultsDir: results });
    expect(moves.map((m) => m.what).sort()).toEqual([
      "02_x.ipynb",
      "02_x/smoke sweeps",
      "03_y/smoke sweeps",
    ]);
    expect(fs.readFileSync(path.join(sweeps, "02_x", "smoke", "s", "new.txt"), "utf8")).toBe(
      "new 02",
    );
    expect(fs.existsSync(path.join(sweeps, "02_x", "smoke", "s", "old.txt"))).toBe(false);
    expect(fs.readFileSync(path.join(sweeps, "03_y", "smoke", "s", "new.txt"), "utf8")).toBe(
      "new 03",
    );
    const prev = path.join(paths.root, `previous-${stamp}`);
    expect(
      fs.readFileSync(path.join(prev, "sweeps", "02_x", "smoke", "s", "old.txt"), "utf8"),
    ).toBe("old 02");
    expect(
      fs.readFileSync(path.join(prev, "sweeps", "03_y", "smoke", "s", "old.txt"), "utf8"),
    ).toBe("old 03");
    expect(fs.readFileSync(path.join(results, "02_x.ipynb"), "utf8")).toBe("new nb");
    expect(fs.readFileSync(path.join(prev, "notebooks", "02_x.ipynb"), "utf8")).toBe("old nb");
    expect(readRetrainMarker(paths)).toBeUndefined();
    expect(fs.existsSync(paths.sweeps)).toBe(false);
  });
});

describe("training summary (runs.json + env.json)", () => {
  const root = tmp();
  const folder = path.join(root, "04_depth", "quick");
  const env = (startedAt: string, host: string, commit: string | null, dirty = false) =>
    JSON.stringify({
      startedAt,
      machine: { cpu: "AMD EPYC", cores: 2, hostname: host },
      backend: { name: "onednn", threads: 1 },
      code: { codeHash: "x", commit, dirty },
    });
  write(
    path.join(folder, "d", "a", "env.json"),
    env("2026-11-20T10:00:00.000Z", "vm", "0123456789abcdef"),
  );
  write(path.join(folder, "d", "a", "summary.json"), JSON.stringify({ wallSeconds: 10 }));
  write(
    path.join(folder, "d", "b", "env.json"),
    env("2026-12-02T09:00:00.000Z", "box", "fedcba9876543210", true),
  );
  write(path.join(folder, "d", "b", "summary.json"), JSON.stringify({ wallSeconds: 30 }));
  const runsFile = path.join(folder, "runs.json");
  write(
    runsFile,
    JSON.stringify({
      notebook: "04_depth",
      preset: "quick",
      updated: "2026-12-02T09:05:00.000Z",
      runs: [
        { sweep: "d", id: "a", dir: "d/a", status: "done", key: "k1" },
        { sweep: "d", id: "b", dir: "d/b", status: "trained", key: "k2" },
        { sweep: "d", id: "c", dir: "d/c", status: "done", key: null },
      ],
    }),
  );

  it("counts trained now vs reused, the date range and the distinct machines, backends, commits", () => {
    const t = summarizeTraining(runsFile, "2026-12-02T08:00:00.000Z");
    expect(t).toMatchObject({
      mode: "mixed",
      preset: "quick",
      runs: 3,
      trainedNow: 1,
      reused: 1,
      unknown: 1,
      firstStartedAt: "2026-11-20T10:00:00.000Z",
      lastStartedAt: "2026-12-02T09:00:00.000Z",
      machines: ["box (AMD EPYC, 2 cores)", "vm (AMD EPYC, 2 cores)"],
      backends: ["onednn, 1 thread"],
      commits: ["0123456789", "fedcba9876+dirty"],
      trainSeconds: 40,
      trainedSeconds: 30,
    });
    expect(describeTraining(t)).toBe(
      "1 trained now, 1 reused, 1 without env.json (3 runs, preset quick)",
    );
    // A retrain that began before run a started counts a "done" run as its own.
    expect(summarizeTraining(runsFile, "2026-11-01T00:00:00.000Z").trainedNow).toBe(2);
  });

  it("ignores a runs.json older than the execution, and says 'no training' without one", () => {
    expect(summarizeTraining(runsFile, "2026-12-03T00:00:00.000Z").mode).toBe("none");
    expect(summarizeTraining(path.join(root, "nope", "runs.json")).mode).toBe("none");
    expect(describeTraining(summarizeTraining(path.join(root, "nope", "runs.json")))).toBe(
      "no training",
    );
  });

  it("renders old index entries, failures with their last success, and training columns", () => {
    const t = summarizeTraining(runsFile, "2026-12-02T08:00:00.000Z");
    const entries: IndexEntry[] = [
      {
        name: "00_old",
        status: "completed",
        startTime: "2026-11-23T16:46:42+00:00",
        duration: 14.6,
        parameters: { preset: "quick" },
      },
      {
        name: "04_depth",
        status: "failed",
        startTime: "2026-12-02T10:00:00+00:00",
        duration: 3,
        parameters: { preset: "quick" },
        error: "Error: boom\n    at cell 3",
        failedCopy: "04_depth.failed.ipynb",
        lastSuccess: {
          startTime: "2026-12-02T09:00:00+00:00",
          duration: 99,
          parameters: { preset: "quick" },
          training: t,
        },
      },
    ];
    const html = renderIndex(entries);
    expect(html).toContain('href="00_old.html"');
    expect(html).toContain("no training");
    expect(html).toContain('href="04_depth.failed.ipynb"');
    expect(html).toContain("Error: boom");
    expect(html).not.toContain("at cell 3");
    expect(html).toContain("shown: the last completed run, 2026-12-02 09:00 UTC");
    expect(html).toContain("1 trained now, 1 reused");
    expect(html).toContain("box (AMD EPYC, 2 cores); vm (AMD EPYC, 2 cores)");
    expect(html).toContain("commit 0123456789, fedcba9876+dirty");
    expect(html).toContain("99.0 s");
  });
});
