/**
 * openImageFolder: torchvision ImageFolder's class order and file walk, the ILSVRC2012 validation
 * layout (bare labels, "<file> <label>" lines, label base, WNID mapping through labelNames and
 * classes), and every refusal naming its value before an image is decoded.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openImageFolder } from "../../src/data/image-folder.js";
import { DatasetError } from "../../src/errors.js";
import { writeImage } from "../eval/images.js";

let tmp: string;
const rel = (files: { file: string; label: number }[], root: string) =>
  files.map((e) => [path.relative(root, e.file), e.label]);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "senet-imgfolder-"));
  // Class folders, deliberately created out of order, with a nested folder, a non-image file,
  // an upper-case extension and a PNG.
  const cf = path.join(tmp, "classes");
  await writeImage(path.join(cf, "n02", "b.jpg"), 20, 16, 1);
  await writeImage(path.join(cf, "n02", "a.JPEG"), 16, 20, 2);
  await writeImage(path.join(cf, "n01", "z.png"), 18, 18, 3);
  await writeImage(path.join(cf, "n01", "sub", "y.jpg"), 18, 18, 4);
  await writeImage(path.join(cf, "n01", "sub more", "w.jpg"), 18, 18, 6);
  await writeImage(path.join(cf, "n01", "sub", "deep", "v.jpg"), 18, 18, 7);
  await writeImage(path.join(cf, "N10", "x.jpg"), 18, 18, 5);
  fs.writeFileSync(path.join(cf, "n01", "notes.txt"), "not an image");
  fs.writeFileSync(path.join(cf, "README"), "a file at the top is ignored");
  // Flat validation layout.
  const val = path.join(tmp, "val");
  for (let i = 1; i <= 4; i++) {
    await writeImage(
      path.join(val, `ILSVRC2012_val_${String(i).padStart(8, "0")}.JPEG`),
      24,
      18,
      i,
    );
  }
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const write = (name: string, text: string): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

describe("class folders (torchvision ImageFolder)", () => {
  it("classes are the sorted folder names (code point order: upper case first); files walked sorted", () => {
    const root = path.join(tmp, "classes");
    const ds = openImageFolder(root);
    expect(ds.layout).toBe("class-folders");
    expect(ds.classes).toEqual(["N10", "n01", "n02"]);
    expect(ds.numClasses).toBe(3);
    expect(rel(ds.entries, root)).toEqual([
      ["N10/x.jpg", 0],
      ["n01/z.png", 1],
      // sorted(os.walk) orders folders by full path: ".../sub" < ".../sub more" < ".../sub/deep"
      // (" " sorts before "/"), not depth first; checked against torchvision's make_dataset.
      ["n01/sub/y.jpg", 1],
      ["n01/sub more/w.jpg", 1],
      ["n01/sub/deep/v.jpg", 1],
      ["n02/a.JPEG", 2],
      ["n02/b.jpg", 2],
    ]);
  });

  it("a classes file maps folders to the model's outputs by name", () => {
    const root = path.join(tmp, "classes");
    const classes = write("model-classes.txt", "n00 first\nn01 tench\nn02\nn03\nN10 last\n");
    const ds = openImageFolder(root, { classes });
    expect(ds.numClasses).toBe(5);
    expect(ds.entries.map((e) => e.label)).toEqual([4, 1, 1, 1, 1, 2, 2]);
  });

  it("refuses a folder the classes file lacks, naming it", () => {
    const classes = write("short-classes.txt", "n01\nn02\n");
    expect(() => openImageFolder(path.join(tmp, "classes"), { classes })).toThrow(
      /1 class folder of .* not in the classes file .*: "N10"/,
    );
  });

  it("refuses an empty class folder, naming it", () => {
    const root = path.join(tmp, "with-empty");
    fs.mkdirSync(path.join(root, "cat"), { recursive: true });
    fs.mkdirSync(path.join(root, "dog"), { recursive: true });
    fs.writeFileSync(path.join(root, "dog", "x.txt"), "");
    fs.copyFileSync(path.join(tmp, "classes", "n02", "b.jpg"), path.join(root, "cat", "c.jpg"));
    expect(() => openImageFolder(root)).toThrow(DatasetError);
    expect(() => openImageFolder(root)).toThrow(/class folder "dog" of .* holds no image/);
  });

  it("refuses a missing folder, a file, and a folder without class folders", () => {
    expect(() => openImageFolder(path.join(tmp, "nope"))).toThrow(
      /image folder ".*nope" does not exist/,
    );
    expect(() => openImageFolder(path.join(tmp, "classes", "README"))).toThrow(/is not a folder/);
    expect(() => openImageFolder(path.join(tmp, "val"))).toThrow(
      /has no class sub-folders \(it holds 4 images directly: .*--labels FILE --label-base 0\|1\)/,
    );
  });

  it("refuses image formats the decoder cannot read instead of skipping them", () => {
    const root = path.join(tmp, "with-bmp");
    fs.mkdirSync(path.join(root, "a"), { recursive: true });
    fs.writeFileSync(path.join(root, "a", "x.bmp"), "BM");
    expect(() => openImageFolder(root)).toThrow(/1 image file under .* \(\.ppm, \.pgm, \.bmp\)/);
  });
});

describe("ILSVRC2012 validation layout", () => {
  const root = () => path.join(tmp, "val");

  it("bare labels in file-name order, 1-based", () => {
    const labels = write("gt1.txt", "3\n1\n2\n3\n");
    const ds = openImageFolder(root(), { labels, labelBase: 1 });
    expect(ds.layout).toBe("ilsvrc2012-val");
    expect(ds.classes).toBeNull();
    expect(ds.entries.map((e) => e.label)).toEqual([2, 0, 1, 2]);
    expect(ds.numClasses).toBe(3);
    expect(path.basename(ds.entries[0]!.file)).toBe("ILSVRC2012_val_00000001.JPEG");
  });

  it("'<file> <label>' lines (Caffe's val.txt), 0-based; names must match", () => {
    const good = write(
      "val.txt",
      [1, 2, 3, 4].map((i) => `ILSVRC2012_val_0000000${i}.JPEG ${i % 2}`).join("\n"),
    );
    expect(
      openImageFolder(root(), { labels: good, labelBase: 0 }).entries.map((e) => e.label),
    ).toEqual([1, 0, 1, 0]);
    const swapped = write(
      "val-bad.txt",
      "ILSVRC2012_val_00000002.JPEG 0\nILSVRC2012_val_00000001.JPEG 0\nx 1\ny 1\n",
    );
    expect(() => openImageFolder(root(), { labels: swapped, labelBase: 0 })).toThrow(
      /line 1 names "ILSVRC2012_val_00000002.JPEG" but the 1th image in name order is "ILSVRC2012_val_00000001.JPEG"/,
    );
  });

  it("labelNames maps devkit IDs to WNIDs and WNIDs to sorted class indices", () => {
    // ID order differs from sorted order: ID 1 = n03, ID 2 = n01, ID 3 = n02.
    const labelNames = write("meta-wnids.txt", "n03\nn01\nn02\n");
    const labels = write("gt2.txt", "1\n2\n3\n1\n");
    const ds = openImageFolder(root(), { labels, labelBase: 1, labelNames });
    expect(ds.classes).toEqual(["n01", "n02", "n03"]);
    expect(ds.entries.map((e) => e.label)).toEqual([2, 0, 1, 2]);
    expect(ds.notes).toEqual([]);
    // A sorted list maps labels to themselves: allowed, but noted (the usual mistake).
    const sorted = write("sorted-wnids.txt", "n01 tench\nn02 goldfish\nn03 shark\n");
    const same = openImageFolder(root(), { labels, labelBase: 1, labelNames: sorted });
    expect(same.entries.map((e) => e.label)).toEqual([0, 1, 2, 0]);
    expect(same.notes[0]).toMatch(/already in class order.*ILSVRC2012_ID order/);
  });

  it("refuses a label count that differs from the image count, naming both", () => {
    const labels = write("gt-short.txt", "1\n2\n3\n");
    expect(() => openImageFolder(root(), { labels, labelBase: 1 })).toThrow(
      /labels file ".*gt-short.txt" has 3 lines but .* holds 4 images/,
    );
  });

  it("refuses labels below the base, out of range or not integers, naming the line", () => {
    const zero = write("gt-zero.txt", "1\n0\n2\n3\n");
    expect(() => openImageFolder(root(), { labels: zero, labelBase: 1 })).toThrow(
      /line 2: label "0" is not an integer in \[1, ∞\] \(labelBase 1\)/,
    );
    const labelNames = write("three.txt", "a\nb\nc\n");
    const big = write("gt-big.txt", "1\n2\n3\n4\n");
    expect(() => openImageFolder(root(), { labels: big, labelBase: 1, labelNames })).toThrow(
      /line 4: label "4" is not an integer in \[1, 3\]/,
    );
    const frac = write("gt-frac.txt", "1\n2.5\n2\n3\n");
    expect(() => openImageFolder(root(), { labels: frac, labelBase: 1 })).toThrow(
      /line 2: label "2.5"/,
    );
  });

  it("needs an explicit label base, 0 or 1", () => {
    const labels = write("gt3.txt", "1\n2\n3\n1\n");
    expect(() => openImageFolder(root(), { labels })).toThrow(
      /labelBase must be 0 or 1 .*got undefined/,
    );
    expect(() => openImageFolder(root(), { labels, labelBase: 2 as 0 })).toThrow(/got 2/);
    expect(() => openImageFolder(path.join(tmp, "classes"), { labelBase: 1 })).toThrow(
      /give labels too/,
    );
  });

  it("refuses an empty or missing labels file and repeated class names", () => {
    expect(() =>
      openImageFolder(root(), { labels: path.join(tmp, "none.txt"), labelBase: 0 }),
    ).toThrow(/cannot read the labels file ".*none.txt"/);
    const empty = write("empty.txt", "\n");
    expect(() => openImageFolder(root(), { labels: empty, labelBase: 0 })).toThrow(/is empty/);
    const labels = write("gt4.txt", "1\n2\n1\n2\n");
    const twice = write("twice.txt", "n01\nn02\nn01\n");
    expect(() => openImageFolder(root(), { labels, labelBase: 1, labelNames: twice })).toThrow(
      /"n01" appears on lines 1 and 3/,
    );
  });
});
