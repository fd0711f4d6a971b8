/**
 * Checks that need PyTorch at test time (skipped, with the reason printed, where
 * /usr/bin/python3 lacks torch / torchvision): full-size networks generated now (too large to
 * commit: ~100 MB each) — torchvision ResNet-50 at 224×224, torchvision ResNeXt-50 32×4d, timm
 * and Caffe-layout SE-ResNeXt-50 32×4d — imported and compared with PyTorch's float64 logits
 * (bound 1e-4 relative, max|ours − torch| / max|torch|); the .pth bridge; and our exports loaded
 * back into the PyTorch networks with load_state_dict(strict=True).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend, probeBackend } from "../../src/backend/index.js";
import {
  exportPretrained,
  loadPretrained,
  TORCH_INSTALL_HINT,
  WeightFileError,
} from "../../src/pretrained/index.js";
import { SYSTEM_PYTHON } from "../../src/setup/system.js";
import {
  caseError,
  FIXTURES,
  GENERATOR,
  generate,
  readManifest,
  relativeError,
  torchAvailable,
} from "./support.js";

const TOL = 1e-4;
const TORCH = torchAvailable();
if (!TORCH.ok) process.stderr.write(`[pretrained live tests] skipped: ${TORCH.reason}\n`);
const FULL = [
  "resnet50_full",
  "resnext50_full",
  "se_resnext50_timm_full",
  "se_resnext50_legacy_full",
];

describe.skipIf(!TORCH.ok)("with PyTorch at test time", () => {
  let dir = "";
  beforeAll(async () => {
    await initBackend("wasm", { quiet: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "senet-lab-live-"));
    generate(path.join(dir, "pth"), ["resnet18_w8"], ["--pth"]);
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.for(FULL)(
    `full-size %s within ${TOL} of PyTorch on wasm, onednn, cpu`,
    { timeout: 600_000 },
    async (name) => {
      const out = path.join(dir, name);
      generate(out, [name]);
      const c = readManifest(out)[name]!;
      for (const backend of ["wasm", "onednn", "cpu"] as const) {
        const probe = await probeBackend(backend);
        if (!probe.ok) {
          if (backend !== "onednn") throw new Error(`${backend} must load: ${probe.reason}`);
          process.stderr.write(`[parity] onednn skipped: ${probe.reason}\n`);
          continue;
        }
        await initBackend(backend, { quiet: true });
        const err = await caseError(out, c);
        process.stdout.write(
          `[parity] ${backend} ${name}: relative error ${err.toExponential(2)}\n`,
        );
        expect(err, backend).toBeLessThanOrEqual(TOL);
      }
      await initBackend("wasm", { quiet: true });
      fs.rmSync(out, { recursive: true });
    },
  );

  it("reads a DataParallel .pth checkpoint through PyTorch and gets the same logits", async () => {
    const out = path.join(dir, "pth");
    const c = readManifest(out).resnet18_w8!;
    expect(c.pth).toBe("resnet18_w8.pth");
    const err = await caseError(out, c, c.pth);
    expect(err).toBeLessThanOrEqual(TOL);
  });

  it("a .pth without PyTorch says what to install", async () => {
    // A python that cannot see the system's site-packages, hence has no torch.
    const fake = path.join(dir, "python-without-torch");
    fs.writeFileSync(fake, `#!/bin/sh\nexec ${SYSTEM_PYTHON} -I -S "$@"\n`, { mode: 0o755 });
    const saved = process.env.SENET_LAB_PYTHON;
    process.env.SENET_LAB_PYTHON = fake;
    try {
      const err = await loadPretrained("resnet18", path.join(dir, "pth", "resnet18_w8.pth"), {
        overrides: { width: 8 },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WeightFileError);
      expect((err as Error).message).toContain("PyTorch is not installed");
      expect((err as Error).message).toContain(TORCH_INSTALL_HINT);
      process.env.SENET_LAB_PYTHON = path.join(dir, "no-such-python");
      await expect(
        loadPretrained("resnet18", path.join(dir, "pth", "resnet18_w8.pth")),
      ).rejects.toThrowError(/no Python at .*no-such-python.*apt-get install python3-torch/);
    } finally {
      if (saved === undefined) delete process.env.SENET_LAB_PYTHON;
      else process.env.SENET_LAB_PYTHON = saved;
    }
  });

  it.for(Object.keys(readManifest(FIXTURES)))(
    "%s: our export loads into the PyTorch network with strict=True and gives its logits",
    async (name) => {
      const c = readManifest(FIXTURES)[name]!;
      const { model, layout } = await loadPretrained(c.model, path.join(FIXTURES, c.file), {
        overrides: c.overrides,
      });
      const file = path.join(dir, `${name}.export.safetensors`);
      await exportPretrained(model, file, { layout });
      model.dispose();
      const r = spawnSync(
        SYSTEM_PYTHON,
        [GENERATOR, "--case", name, "--check-export", file, path.join(FIXTURES, c.input)],
        { encoding: "utf8" },
      );
      expect(r.status, r.stderr).toBe(0);
      const logits = JSON.parse(r.stdout) as number[];
      expect(relativeError(logits, c.logits)).toBeLessThanOrEqual(1e-12);
    },
  );
});
