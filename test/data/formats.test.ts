/**
 * The IDX and CIFAR parsers on small files written here in the published formats, and the
 * errors a truncated, mislabelled or missing dataset gives (each naming the file or the
 * folders searched).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { CIFAR_VARIANTS, encodeCifar, loadCifar, parseCifar } from "../../src/data/cifar.js";
import { loadDataset } from "../../src/data/dataset.js";
import { encodeIdx, parseIdx, readIdx } from "../../src/data/idx.js";
import { loadMnistFormat, MNIST_FILES } from "../../src/data/mnist-format.js";
import { candidateDirs, DATA_DIR_ENV } from "../../src/data/registry.js";
import { DatasetError } from "../../src/errors.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-data-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes a tiny MNIST-layout folder: n train and m test images of h×w, pixel = (i*7 + k) % 256. */
function writeMnist(dir: string, n: number, m: number, h = 4, w = 5, gz = true) {
  fs.mkdirSync(dir, { recursive: true });
  const put = (stem: string, dims: number[], data: Uint8Array) => {
    const bytes = encodeIdx(dims, data);
    fs.writeFileSync(path.join(dir, gz ? `${stem}.gz` : stem), gz ? gzipSync(bytes) : bytes);
  };
  const imgs = (c: number) => Uint8Array.from({ length: c * h * w }, (_, k) => (k * 7 + 3) % 256);
  const labels = (c: number) => Uint8Array.from({ length: c }, (_, i) => i % 10);
  put(MNIST_FILES.trainImages, [n, h, w], imgs(n));
  put(MNIST_FILES.trainLabels, [n], labels(n));
  put(MNIST_FILES.testImages, [m, h, w], imgs(m));
  put(MNIST_FILES.testLabels, [m], labels(m));
}

describe("IDX", () => {
  it("round-trips header and payload", () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const a = parseIdx(encodeIdx([2, 3], data), "x");
    expect(a.dims).toEqual([2, 3]);
    expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6]);
    // Big-endian magic 0x00000802 for 2-D unsigned bytes, as the format says.
    expect([...encodeIdx([2, 3], data).subarray(0, 4)]).toEqual([0, 0, 8, 2]);
  });

  it("rejects a bad magic, naming the file", () => {
    const bytes = encodeIdx([2, 3], new Uint8Array(6));
    bytes[2] = 0x0d; // float type, not MNIST's unsigned byte
    expect(() => parseIdx(bytes, "/d/train-images-idx3-ubyte")).toThrow(
      /train-images-idx3-ubyte: bad IDX magic 0x00000d02/,
    );
  });

  it("rejects a wrong length (truncated or padded), naming the file", () => {
    const bytes = encodeIdx([2, 3], new Uint8Array(6));
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 1), "f.idx")).toThrow(
      /f\.idx: wrong length.*holds 5 \(truncated\)/,
    );
    const longer = new Uint8Array(bytes.length + 2);
    longer.set(bytes);
    expect(() => parseIdx(longer, "g.idx")).toThrow(/g\.idx: wrong length/);
  });

  it("rejects a truncated gzip file, naming it", () => {
    const file = path.join(tmp, "cut.gz");
    const gz = gzipSync(encodeIdx([100], new Uint8Array(100).fill(7)));
    fs.writeFileSync(file, gz.subarray(0, gz.length - 10));
    expect(() => readIdx(file)).toThrow(DatasetError);
    expect(() => readIdx(file)).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not a valid gzip file`),
    );
  });

  it("loads an MNIST-layout folder, gzipped or plain", () => {
    for (const gz of [true, false]) {
      const dir = path.join(tmp, `mnist-${gz}`);
      writeMnist(dir, 30, 12, 4, 5, gz);
      const d = loadMnistFormat(dir);
      expect(d.shape).toEqual([4, 5, 1]);
      expect(d.train.count).toBe(30);
      expect(d.test.count).toBe(12);
      expect(d.train.labels[13]).toBe(3);
      expect(d.train.images[21]).toBe((21 * 7 + 3) % 256);
    }
  });

  it("rejects labels that disagree with the images or exceed the classes", () => {
    const dir = path.join(tmp, "mnist-bad");
    writeMnist(dir, 30, 12);
    fs.writeFileSync(
      path.join(dir, `${MNIST_FILES.testLabels}.gz`),
      gzipSync(encodeIdx([11], new Uint8Array(11))),
    );
    expect(() => loadMnistFormat(dir)).toThrow(
      /t10k-labels-idx1-ubyte\.gz holds 11 labels but .*t10k-images-idx3-ubyte\.gz holds 12 images/,
    );
    fs.writeFileSync(
      path.join(dir, `${MNIST_FILES.testLabels}.gz`),
      gzipSync(encodeIdx([12], new Uint8Array(12).fill(10))),
    );
    expect(() => loadMnistFormat(dir)).toThrow(/label 10 at index 0 is not below 10/);
  });
});

describe("CIFAR binary", () => {
  /** Random-ish NHWC images with known pixels. */
  const split = (n: number, classes: number) => ({
    images: Uint8Array.from({ length: n * 3072 }, (_, k) => (k * 13 + 5) % 251),
    labels: Uint8Array.from({ length: n }, (_, i) => (i * 7) % classes),
    count: n,
  });

  it("reads the planar R, G, B record layout into NHWC", () => {
    const v = CIFAR_VARIANTS.cifar10;
    const rec = new Uint8Array(1 + 3072);
    rec[0] = 6;
    rec[1 + 5] = 10; // red of pixel 5
    rec[1 + 1024 + 5] = 20; // green of pixel 5
    rec[1 + 2048 + 5] = 30; // blue of pixel 5
    const s = parseCifar(rec, "r.bin", v);
    expect(s.labels[0]).toBe(6);
    expect([...s.images.subarray(15, 18)]).toEqual([10, 20, 30]);
  });

  it("round-trips CIFAR-10 and CIFAR-100 (fine labels) folders", () => {
    for (const v of [CIFAR_VARIANTS.cifar10, CIFAR_VARIANTS.cifar100]) {
      const dir = path.join(tmp, v.name);
      fs.mkdirSync(dir, { recursive: true });
      const parts = v.trainFiles.map(() => split(3, v.numClasses));
      v.trainFiles.forEach((f, i) => {
        fs.writeFileSync(path.join(dir, f), encodeCifar(parts[i]!, v));
      });
      const test = split(4, v.numClasses);
      fs.writeFileSync(path.join(dir, v.testFiles[0]!), encodeCifar(test, v));
      const d = loadCifar(dir, v);
      expect(d.train.count).toBe(3 * v.trainFiles.length);
      expect(d.test.count).toBe(4);
      expect(Buffer.from(d.test.images).equals(Buffer.from(test.images))).toBe(true);
      expect([...d.test.labels]).toEqual([...test.labels]);
      expect(d.numClasses).toBe(v.numClasses);
      // Through loadDataset too, with the folder given as dataDir.
      const ds = loadDataset(v.name, { dataDir: dir, valFraction: 0 });
      expect(ds.train.count).toBe(3 * v.trainFiles.length);
      expect(ds.shape).toEqual([32, 32, 3]);
    }
  });

  it("rejects a truncated file and an out-of-range label, naming the file", () => {
    const v = CIFAR_VARIANTS.cifar10;
    const bytes = encodeCifar(split(2, 10), v);
    expect(() => parseCifar(bytes.subarray(0, 3000), "/x/data_batch_1.bin", v)).toThrow(
      /\/x\/data_batch_1\.bin: wrong length 3000: not a whole number of cifar10 records of 3073 bytes/,
    );
    bytes[0] = 42;
    expect(() => parseCifar(bytes, "/x/test_batch.bin", v)).toThrow(
      /test_batch\.bin: record 0 has label 42/,
    );
  });
});

describe("missing datasets", () => {
  it("say where they looked and how to get them", () => {
    const dir = path.join(tmp, "nothing-here");
    expect(() => loadDataset("cifar10", { dataDir: dir })).toThrow(DatasetError);
    try {
      loadDataset("cifar10", { dataDir: dir });
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toContain(dir);
      expect(msg).toContain(path.join(dir, "cifar-10-batches-bin"));
      expect(msg).toContain("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
    }
    expect(() => loadDataset("fashion-mnist", { dataDir: dir })).toThrow(
      /apt-get install -y dataset-fashion-mnist/,
    );
  });

  it("search SENET_LAB_DATA_DIR's subfolders before the system folder", () => {
    const old = process.env[DATA_DIR_ENV];
    process.env[DATA_DIR_ENV] = "/some/root";
    try {
      expect(candidateDirs("fashion-mnist")[0]).toBe(path.join("/some/root", "fashion-mnist"));
      expect(candidateDirs("fashion-mnist").at(-1)).toBe("/usr/share/datasets/fashion-mnist");
    } finally {
      if (old === undefined) delete process.env[DATA_DIR_ENV];
      else process.env[DATA_DIR_ENV] = old;
    }
  });
});
