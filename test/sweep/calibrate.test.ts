/**
 * Pool calibration: the shape choice on fabricated numbers, which calibration files a sweep
 * trusts (this host, these cores, this backend, under 30 days; otherwise the reason is said),
 * runSweep's first line and pool record naming the shape's source, flag errors naming the value,
 * and one real calibration on a tiny model (~1 s per shape) written into a temporary folder.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dispatch } from "../../src/cli/command.js";
import { sweepCommand } from "../../src/cli/sweep.js";
import { ConfigError } from "../../src/errors.js";
import { calibratePool, calibrationTable, parseInputShape } from "../../src/sweep/calibrate.js";
import {
  CALIBRATION_MAX_AGE_DAYS,
  CalibrationError,
  calibrationShapes,
  chooseShape,
  defaultPoolFile,
  describeCalibration,
  type PoolCalibration,
  readPoolCalibration,
  resolvePoolShape,
  type ShapeMeasurement,
} from "../../src/sweep/pool-shape.js";
import { checkSweep, runSweep } from "../../src/sweep/run-sweep.js";
import { tinyBase } from "./support.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-calibrate-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function shape(workers: number, threads: number, imagesPerSec: number, error?: string) {
  const m: ShapeMeasurement = { workers, threads, imagesPerSec, perProcess: [] };
  if (error !== undefined) m.error = error;
  return m;
}

/** A calibration as `sweep calibrate` writes it, on host "vm" with 2 cores. */
function fabricated(overrides: Partial<PoolCalibration> = {}): PoolCalibration {
  return {
    version: 1,
    measuredAt: "2026-12-02T10:00:00.000Z",
    host: "vm",
    cpu: "Test CPU",
    cores: 2,
    backend: "onednn",
    backendRequested: "auto",
    model: "resnet20",
    input: [28, 28, 1],
    batch: 64,
    seconds: 12,
    loadAverage: 0.1,
    shapes: [shape(2, 1, 443.2), shape(1, 2, 250.4)],
    chosen: { workers: 2, threads: 1 },
    ...overrides,
  };
}

let fileCount = 0;
function writeCalibration(value: unknown): string {
  const file = path.join(root, `pool-${++fileCount}.json`);
  fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

const HERE = { host: "vm", cores: 2, now: new Date("2026-12-10T00:00:00Z"), env: {} };

describe("chooseShape", () => {
  it("takes the highest aggregate images/s, skipping failed shapes", () => {
    expect(chooseShape([shape(2, 1, 443), shape(1, 2, 250)])).toEqual({ workers: 2, threads: 1 });
    expect(chooseShape([shape(2, 1, 200), shape(1, 2, 250)])).toEqual({ workers: 1, threads: 2 });
    expect(
      chooseShape([
        shape(4, 1, 900, "process 12: out of memory"),
        shape(2, 2, 500),
        shape(1, 4, 0),
      ]),
    ).toEqual({ workers: 2, threads: 2 });
  });

  it("gives an exact tie to fewer workers, and fails when nothing was measured", () => {
    expect(chooseShape([shape(2, 1, 300), shape(1, 2, 300)])).toEqual({ workers: 1, threads: 2 });
    expect(() => chooseShape([shape(2, 1, 0, "timed out after 5 s")])).toThrow(CalibrationError);
    expect(() => chooseShape([shape(2, 1, 0, "timed out after 5 s")])).toThrow(
      "no shape was measured (2×1: timed out after 5 s)",
    );
    expect(() => chooseShape([shape(2, 1, Number.NaN)])).toThrow(CalibrationError);
  });
});

describe("calibrationShapes", () => {
  it("pairs every divisor of the cores, at most five spread from 1 thread to all", () => {
    expect(calibrationShapes(2)).toEqual([
      { workers: 2, threads: 1 },
      { workers: 1, threads: 2 },
    ]);
    expect(calibrationShapes(1)).toEqual([{ workers: 1, threads: 1 }]);
    expect(calibrationShapes(12).map((s) => `${s.workers}×${s.threads}`)).toEqual([
      "12×1",
      "6×2",
      "3×4",
      "2×6",
      "1×12",
    ]);
    for (const s of calibrationShapes(64)) expect(s.workers * s.threads).toBe(64);
    expect(calibrationShapes(64)).toHaveLength(5);
  });
});

describe("resolvePoolShape", () => {
  it("uses a calibration measured here and names it", () => {
    const file = writeCalibration(fabricated());
    const r = resolvePoolShape({ ...HERE, poolFile: file });
    expect(r).toEqual({
      workers: 2,
      threadsPerWorker: 1,
      origin: "calibrated",
      source: "calibrated 2026-12-02 on vm: 2×1 at 443 img/s vs 1×2 at 250",
    });
    // The backend a sweep asks for must be the one measured (by name or as asked).
    expect(resolvePoolShape({ ...HERE, poolFile: file, backend: "onednn" }).origin).toBe(
      "calibrated",
    );
    const chosen12 = writeCalibration(fabricated({ chosen: { workers: 1, threads: 2 } }));
    expect(resolvePoolShape({ ...HERE, poolFile: chosen12 })).toMatchObject({
      workers: 1,
      threadsPerWorker: 2,
      source: "calibrated 2026-12-02 on vm: 1×2 at 250 img/s vs 2×1 at 443",
    });
  });

  it("ignores stale, other-host, other-core, other-backend and broken files, saying why", () => {
    const cases: [unknown, Record<string, unknown>, RegExp][] = [
      [
        fabricated(),
        { now: new Date("2027-01-05T10:00:00Z") },
        new RegExp(`measured 34 days ago \\(older than ${CALIBRATION_MAX_AGE_DAYS}\\)`),
      ],
      [fabricated(), { host: "other" }, /measured on host "vm", this is "other"/],
      [fabricated(), { cores: 4 }, /measured with 2 cores, this process has 4/],
      [
        fabricated(),
        { backend: "wasm" },
        /measured with backend onednn \(asked: auto\), this sweep asks for wasm/,
      ],
      [fabricated(), { env: { SENET_LAB_BACKEND: "wasm" } }, /this sweep asks for wasm/],
      ["{ not json", {}, /is not valid JSON/],
      [{ ...fabricated(), chosen: { workers: 0, threads: 1 } }, {}, /is malformed \(chosen /],
      [{ ...fabricated(), version: 2 }, {}, /is malformed \(version 2\)/],
    ];
    for (const [content, context, why] of cases) {
      const file = writeCalibration(content);
      const r = resolvePoolShape({ ...HERE, ...context, poolFile: file });
      expect(r.origin, JSON.stringify(context)).toBe("default");
      expect(r.workers).toBe(((context.cores as number) ?? 2) / 1);
      expect(r.threadsPerWorker).toBe(1);
      expect(r.ignored).toMatch(why);
      expect(r.ignored).toContain(`${file} ignored: `);
      expect(r.source).toBe(`default: cores ÷ 1 thread; ${r.ignored}`);
    }
    // No file at all: the plain default, nothing to explain.
    const none = resolvePoolShape({ ...HERE, poolFile: path.join(root, "absent.json") });
    expect(none).toEqual({
      workers: 2,
      threadsPerWorker: 1,
      origin: "default",
      source: "default: cores ÷ 1 thread",
    });
    expect(readPoolCalibration(path.join(root, "absent.json"))).toEqual({});
  });

  it("never reads the file when the caller or SENET_LAB_THREADS sets the shape", () => {
    const file = writeCalibration(fabricated({ chosen: { workers: 1, threads: 2 } }));
    expect(resolvePoolShape({ ...HERE, poolFile: file, workers: 3 })).toEqual({
      workers: 3,
      threadsPerWorker: 1,
      origin: "given",
      source: "given: 3 workers × 1 thread (default)",
    });
    expect(resolvePoolShape({ ...HERE, poolFile: file, threadsPerWorker: 2 })).toMatchObject({
      workers: 1,
      threadsPerWorker: 2,
      source: "given: 1 worker (cores ÷ threads) × 2 threads",
    });
    expect(resolvePoolShape({ ...HERE, poolFile: file, env: { SENET_LAB_THREADS: "2" } })).toEqual({
      workers: 1,
      threadsPerWorker: 2,
      origin: "env",
      source: "SENET_LAB_THREADS=2: cores ÷ 2 threads",
    });
    expect(
      resolvePoolShape({ ...HERE, poolFile: file, workers: 2, env: { SENET_LAB_THREADS: "2" } })
        .source,
    ).toBe("given: 2 workers × 2 threads (SENET_LAB_THREADS)");
    expect(
      resolvePoolShape({ ...HERE, poolFile: file, env: { SENET_LAB_THREADS: "two" } }),
    ).toMatchObject({
      origin: "default",
      source: 'default: cores ÷ 1 thread (SENET_LAB_THREADS="two" is not a positive integer)',
    });
    expect(() => resolvePoolShape({ ...HERE, workers: 1.5 })).toThrow(
      new ConfigError("workers must be an integer >= 1; got 1.5"),
    );
    expect(() => resolvePoolShape({ ...HERE, threadsPerWorker: 0 })).toThrow(
      "threadsPerWorker must be an integer >= 1; got 0",
    );
  });
});

describe("runSweep's default shape", () => {
  it("comes from the calibration file, named in the first line and the pool record", async () => {
    const spec = { name: "calib", base: tinyBase({ epochs: 1 }), grid: {}, seeds: [1] };
    const outDir = path.join(root, "sweep");
    // One run, finished already (a summary.json): runSweep resolves its shape and trains nothing.
    const { runs } = checkSweep(spec, outDir);
    fs.mkdirSync(path.join(outDir, runs[0]!.id), { recursive: true });
    fs.writeFileSync(path.join(outDir, runs[0]!.id, "summary.json"), '{"status":"completed"}');
    const cores = os.availableParallelism();
    const cal = fabricated({
      host: os.hostname(),
      cores,
      backend: "wasm",
      backendRequested: "wasm",
      measuredAt: new Date().toISOString(),
      shapes: [shape(cores, 1, 100), shape(1, cores, 150)],
      chosen: { workers: 1, threads: cores },
    });
    const poolFile = writeCalibration(cal);
    const saved = process.env.SENET_LAB_THREADS;
    delete process.env.SENET_LAB_THREADS;
    try {
      const lines: string[] = [];
      const r = await runSweep(spec, {
        outDir,
        poolFile,
        backend: "wasm",
        log: (l) => lines.push(l),
      });
      expect(r.counts.done).toBe(1);
      expect(r.threadsPerWorker).toBe(cores);
      expect(r.pool.shapeSource).toBe(describeCalibration(cal));
      expect(lines[0]).toContain(
        `× ${cores} thread${cores === 1 ? "" : "s"} (calibrated ${cal.measuredAt.slice(0, 10)} on ${os.hostname()}: 1×${cores} at 150 img/s`,
      );
      // Another backend than the one measured: the default, with the reason in the first line.
      lines.length = 0;
      const other = await runSweep(spec, {
        outDir,
        poolFile,
        backend: "cpu",
        log: (l) => lines.push(l),
      });
      expect(other.threadsPerWorker).toBe(1);
      expect(other.pool.shapeSource).toMatch(
        /^default: cores ÷ 1 thread; .* ignored: measured with backend wasm/,
      );
      expect(lines[0]).toContain("(default: cores ÷ 1 thread; ");
    } finally {
      if (saved !== undefined) process.env.SENET_LAB_THREADS = saved;
    }
  });
});

describe("bad calibration flags and options", () => {
  const calibrate = (args: string[]) =>
    dispatch(sweepCommand, ["calibrate", ...args], ["senet-lab", "sweep"]);

  it("name the flag and the value, before any process starts", async () => {
    await expect(calibrate(["--input", "28x28"])).rejects.toThrow(ConfigError);
    await expect(calibrate(["--input", "28x28"])).rejects.toThrow(
      '--input must be H,W,C: three integers >= 1 separated by commas (e.g. 28,28,1); got "28x28"',
    );
    await expect(calibrate(["--input", "28,28,0"])).rejects.toThrow('got "28,28,0"');
    await expect(calibrate(["--input", "28,,1"])).rejects.toThrow('got "28,,1"');
    await expect(calibrate(["--batch", "0"])).rejects.toThrow(
      '--batch must be an integer >= 1; got "0"',
    );
    await expect(calibrate(["--seconds", "abc"])).rejects.toThrow(
      '--seconds must be a number > 0; got "abc"',
    );
    await expect(calibrate(["--seconds=-2"])).rejects.toThrow('got "-2"');
    await expect(calibrate(["--workers", "2"])).rejects.toThrow(/--workers/);
    await expect(calibrate(["extra"])).rejects.toThrow('takes no arguments; got "extra"');
    expect(parseInputShape(" 32, 32 ,3")).toEqual([32, 32, 3]);
  });

  it("calibratePool checks its options the same way", async () => {
    const file = path.join(root, "never", "pool.json");
    const bad: [Parameters<typeof calibratePool>[0], string][] = [
      [{ model: "resnet21" }, 'unknown model "resnet21"'],
      [{ batch: 2.5 }, "batch must be an integer >= 1; got 2.5"],
      [{ seconds: 0 }, "seconds must be a number > 0; got 0"],
      [{ input: [28, 28] as never }, "input must be [height, width, channels]; got [28,28]"],
      [{ input: [28, -1, 1] }, "input[1] must be an integer >= 1; got -1"],
      [{ shapes: [{ workers: 0, threads: 2 }] }, "shape workers must be an integer >= 1; got 0"],
      [{ backend: "gpu" as never }, 'backend must be one of "auto"'],
    ];
    for (const [options, message] of bad) {
      await expect(calibratePool({ ...options, file })).rejects.toThrow(ConfigError);
      await expect(calibratePool({ ...options, file })).rejects.toThrow(message);
    }
    expect(fs.existsSync(path.dirname(file))).toBe(false);
  });
});

describe("a real calibration", () => {
  it("times each shape on a tiny model and writes pool.json atomically where told", async () => {
    const real = defaultPoolFile();
    const realBefore = fs.existsSync(real) ? fs.statSync(real).mtimeMs : null;
    const cores = os.availableParallelism();
    // Two small shapes on a big machine: the test checks the mechanics, not that machine.
    const shapes =
      cores <= 4
        ? calibrationShapes(cores)
        : [
            { workers: 2, threads: 1 },
            { workers: 1, threads: 2 },
          ];
    const file = path.join(root, "project", ".senet-lab", "pool.json");
    const lines: string[] = [];
    const t0 = performance.now();
    const { calibration, file: written } = await calibratePool({
      input: [12, 12, 3],
      batch: 8,
      seconds: 1,
      warmupSteps: 1,
      backend: "wasm",
      shapes,
      file,
      log: (l) => lines.push(l),
    });
    const wall = (performance.now() - t0) / 1000;
    console.log(
      `calibration of ${shapes.length} shapes in ${wall.toFixed(1)} s:\n${lines.join("\n")}`,
    );
    console.log(calibrationTable(calibration));
    expect(written).toBe(file);
    const onDisk = JSON.parse(fs.readFileSync(file, "utf8")) as PoolCalibration;
    expect(onDisk).toEqual(calibration);
    // Atomic: no temporary file left beside it.
    expect(fs.readdirSync(path.dirname(file))).toEqual(["pool.json"]);
    expect(onDisk).toMatchObject({
      version: 1,
      host: os.hostname(),
      cores,
      backend: "wasm",
      backendRequested: "wasm",
      model: "resnet20",
      input: [12, 12, 3],
      batch: 8,
      seconds: 1,
    });
    expect(Date.now() - Date.parse(onDisk.measuredAt)).toBeLessThan(60_000);
    expect(onDisk.shapes.map((s) => [s.workers, s.threads])).toEqual(
      shapes.map((s) => [s.workers, s.threads]),
    );
    for (const s of onDisk.shapes) {
      expect(s.error, s.error).toBeUndefined();
      expect(s.perProcess).toHaveLength(s.workers);
      for (const p of s.perProcess) {
        expect(p).toMatchObject({ threads: s.threads, backend: "wasm" });
        expect(p.steps).toBeGreaterThanOrEqual(2);
        expect(p.seconds).toBeGreaterThanOrEqual(1);
        expect(p.imagesPerSec).toBeCloseTo((p.steps * 8) / p.seconds, 0);
        expect(p.medianStepMs).toBeGreaterThan(0);
      }
      // Every process of a shape ran at once: distinct pids, throughput summed.
      expect(new Set(s.perProcess.map((p) => p.pid)).size).toBe(s.workers);
      const sum = s.perProcess.reduce((a, p) => a + p.imagesPerSec, 0);
      expect(Math.abs(s.imagesPerSec - sum)).toBeLessThan(0.1 * s.perProcess.length + 0.01);
    }
    // The choice follows the numbers it measured.
    expect(onDisk.chosen).toEqual(chooseShape(onDisk.shapes));
    const best = Math.max(...onDisk.shapes.map((s) => s.imagesPerSec));
    expect(onDisk.shapes.find((s) => s.imagesPerSec === best)).toMatchObject(onDisk.chosen);
    // And a sweep with this backend on this machine takes it.
    const r = resolvePoolShape({ poolFile: file, backend: "wasm", env: {} });
    expect(r.origin).toBe("calibrated");
    expect({ workers: r.workers, threads: r.threadsPerWorker }).toEqual(onDisk.chosen);
    expect(r.source).toBe(describeCalibration(onDisk));
    // The project's own .senet-lab/pool.json was not touched.
    expect(fs.existsSync(real) ? fs.statSync(real).mtimeMs : null).toBe(realBefore);
  }, 180_000);

  it("a shape whose processes do not get ready in time fails; with no shape measured nothing is written", async () => {
    const file = path.join(root, "timeout", "pool.json");
    const err = await calibratePool({
      input: [12, 12, 3],
      batch: 8,
      seconds: 1,
      backend: "wasm",
      shapes: [{ workers: 1, threads: 1 }],
      timeoutSeconds: 0.3,
      file,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalibrationError);
    expect(String(err)).toContain("1×1: timed out after 0.3 s");
    expect(fs.existsSync(file)).toBe(false);
  }, 60_000);
});
