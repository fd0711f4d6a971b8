/**
 * The training-code hash is the import graph of the training loop and the backends, plus the
 * native sources and the tfjs versions: a change there makes a new run identity, a change in a
 * module training never imports (reports, downloads, sweeps) does not orphan finished runs.
 * Checked on a copy of the checkout, edited file by file.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainingCodeFiles, trainingCodeHash } from "../../src/util/code-hash.js";
import { PROJECT_ROOT } from "../../src/util/fs.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "senet-code-hash-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A copy of the checkout's sources (node_modules linked), so edits leave the real one alone. */
function copyCheckout(name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  for (const p of ["src", "native/src", "native/binding.gyp", "package.json"]) {
    fs.cpSync(path.join(PROJECT_ROOT, p), path.join(dir, p), { recursive: true });
  }
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

describe("trainingCodeHash", () => {
  it("covers the loop, models, layers, data, backends and native sources, not the orchestration", () => {
    const files = trainingCodeFiles();
    for (const f of [
      "src/train/run.ts",
      "src/train/step.ts",
      "src/models/resnet-cifar.ts",
      "src/layers/squeeze-excite.ts",
      "src/layers/spatial-group-enhance.ts",
      "src/data/batches.ts",
      "src/backend/onednn.ts",
      "src/ops/sgd-update.ts",
      "native/binding.gyp",
    ]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith("native/src/"))).toBe(true);
    for (const prefix of ["src/sweep/", "src/report/", "src/notebook/", "src/cli/", "src/bench/"]) {
      expect(files.filter((f) => f.startsWith(prefix))).toEqual([]);
    }
    expect(files).not.toContain("src/data/download.ts");
  });

  it("changes with a training file or a tfjs version, not with a module training never imports", () => {
    const a = copyCheckout("a");
    const base = trainingCodeHash(a);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(trainingCodeHash(PROJECT_ROOT)).toBe(base); // same files, same hash

    const report = copyCheckout("report");
    fs.appendFileSync(path.join(report, "src/report/stats.ts"), "\n// a comment\n");
    fs.appendFileSync(path.join(report, "src/data/download.ts"), "\n// a comment\n");
    expect(trainingCodeHash(report)).toBe(base);

    const model = copyCheckout("model");
    fs.appendFileSync(path.join(model, "src/models/resnet-cifar.ts"), "\n// a comment\n");
    expect(trainingCodeHash(model)).not.toBe(base);

    const native = copyCheckout("native");
    fs.appendFileSync(path.join(native, "native/binding.gyp"), "\n");
    expect(trainingCodeHash(native)).not.toBe(base);

    // Another tfjs version installed: node_modules/@tensorflow with one manifest edited.
    const tfjs = copyCheckout("tfjs");
    fs.rmSync(path.join(tfjs, "node_modules"));
    const scope = path.join(tfjs, "node_modules", "@tensorflow");
    fs.mkdirSync(scope, { recursive: true });
    for (const name of fs.readdirSync(path.join(PROJECT_ROOT, "node_modules", "@tensorflow"))) {
      const src = path.join(PROJECT_ROOT, "node_modules", "@tensorflow", name, "package.json");
      if (!fs.existsSync(src)) continue;
      fs.mkdirSync(path.join(scope, name));
      fs.copyFileSync(src, path.join(scope, name, "package.json"));
    }
    expect(trainingCodeHash(tfjs)).toBe(base);
    const core = path.join(scope, "tfjs-core", "package.json");
    const manifest = JSON.parse(fs.readFileSync(core, "utf8"));
    fs.writeFileSync(core, JSON.stringify({ ...manifest, version: "9.9.9" }));
    const tfjs2 = path.join(root, "tfjs2");
    fs.cpSync(tfjs, tfjs2, { recursive: true });
    expect(trainingCodeHash(tfjs2)).not.toBe(base);
  });
});
