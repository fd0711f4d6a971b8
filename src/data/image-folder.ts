/**
 * Image-folder datasets for evaluation: the list of (file, label) pairs, built without decoding
 * anything, in one of two layouts.
 *
 * Class folders (torchvision's ImageFolder): `root/<class>/**` with image files. The classes are
 * the sub-folder names sorted by code point, class index = rank, exactly as ImageFolder's
 * find_classes (so a model trained on an ImageNet train folder with ImageFolder, i.e. every
 * torchvision and timm ImageNet model, uses the sorted WordNet IDs n01440764 … n15075141 as
 * classes 0 … 999). Files are walked recursively, sorted, and kept when their extension is an
 * image one (case-insensitive). `classes` overrides the mapping with the model's own class list
 * (one name per line, line k = output k): each folder then takes the index of its name there, so
 * a subset such as Imagenette (10 WordNet-ID folders) is scored by a 1000-class model correctly.
 *
 * The ILSVRC2012 validation layout: one flat folder of ILSVRC2012_val_00000001.JPEG …
 * ILSVRC2012_val_00050000.JPEG plus a labels file, one label per line for the image files in
 * sorted name order (or "<file name> <label>" per line, as Caffe's val.txt, where the names must
 * match). `labelBase` (0 or 1, no default) says what the first class is numbered. The devkit's
 * ILSVRC2012_validation_ground_truth.txt is 1-based **ILSVRC2012_ID**s, which are NOT the
 * sorted-WordNet-ID order models use (its first line is 490, n01751748 "sea snake", which is
 * class 65 in sorted order). For it pass `labelNames`: the WordNet ID of each ILSVRC2012_ID, one
 * per line in ID order (the devkit's data/meta.mat `synsets(1:1000).WNID`); each label is then
 * mapped to its WNID and to that WNID's index in `classes` (default: the sorted WNIDs). Without
 * `labelNames` the numbers, less `labelBase`, are taken as model outputs as they are (right for
 * Caffe's val.txt, which is 0-based sorted order; wrong for the raw ground-truth file). Simplest
 * of all: sort the validation images into class folders (the widely used valprep.sh) and use
 * the class-folder layout.
 */
import fs from "node:fs";
import path from "node:path";
import { DatasetError, quote } from "../errors.js";

/** Extensions read as images (torchvision's IMG_EXTENSIONS that libvips decodes), lower case. */
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"] as const;
/** torchvision image extensions sharp cannot decode: a folder holding them is refused, not silently shrunk. */
export const UNSUPPORTED_IMAGE_EXTENSIONS = [".ppm", ".pgm", ".bmp"] as const;

/** Which layout a folder was read as. */
export type ImageFolderLayout = "class-folders" | "ilsvrc2012-val";

/** Options of openImageFolder. */
export interface ImageFolderOptions {
  /** Labels file: selects the flat ILSVRC2012 validation layout (one label per image, sorted file-name order). */
  labels?: string;
  /** What the first class is numbered in `labels`: 0 or 1 (the devkit's ground truth is 1). Required with `labels`. */
  labelBase?: 0 | 1;
  /** The model's classes in output order, one name per line (first token of each line); default: sorted folder names, or sorted `labelNames`. */
  classes?: string;
  /** The class name of each label number, in label order (the devkit's ILSVRC2012_ID → WNID list); maps labels through names. */
  labelNames?: string;
}

/** One image of the dataset. */
export interface ImageEntry {
  /** Absolute path of the file. */
  file: string;
  /** Class index (model output) of its true class. */
  label: number;
}

/** An image-folder dataset: the files and labels, nothing decoded. */
export interface ImageFolderDataset {
  /** The folder, absolute. */
  root: string;
  /** How it was read. */
  layout: ImageFolderLayout;
  /** Class names by index when known (folder names or the `classes` file); null when labels are bare numbers. */
  classes: string[] | null;
  /** Number of classes: the class list's length, else largest label + 1. */
  numClasses: number;
  /** Every image in order (class by class for class folders; file-name order for the val layout). */
  entries: ImageEntry[];
  /** Remarks worth printing (e.g. a label mapping that looks like the identity). */
  notes: string[];
}

const extOf = (name: string): string => path.extname(name).toLowerCase();
const isImage = (name: string): boolean =>
  (IMAGE_EXTENSIONS as readonly string[]).includes(extOf(name));
const isUnsupported = (name: string): boolean =>
  (UNSUPPORTED_IMAGE_EXTENSIONS as readonly string[]).includes(extOf(name));
/** Python's str ordering (code points), which sorted() uses; JS's default sorts UTF-16 units. */
const byCodePoint = (a: string, b: string): number => {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
};

/** Reads a text file's non-empty lines (trimmed); DatasetError naming it when unreadable. */
function readLines(file: string, what: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new DatasetError(
      `cannot read the ${what} file ${quote(file)}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  const blank = lines.indexOf("");
  if (blank >= 0) {
    throw new DatasetError(`${what} file ${quote(file)}: line ${blank + 1} is empty`);
  }
  if (lines.length === 0) throw new DatasetError(`${what} file ${quote(file)} is empty`);
  return lines;
}

/** A names file: the first whitespace-separated token of each line (so "n01440764 tench" works); no repeats. */
function readNames(file: string, what: string): string[] {
  const names = readLines(file, what).map((l) => l.split(/\s+/)[0]!);
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const prev = seen.get(n);
    if (prev !== undefined) {
      throw new DatasetError(
        `${what} file ${quote(file)}: ${quote(n)} appears on lines ${prev + 1} and ${i + 1}`,
      );
    }
    seen.set(n, i);
  });
  return names;
}

/**
 * Files under `dir`, recursively, in torchvision's order: `sorted(os.walk(dir))` sorts the
 * folders by their full path (so "a b/" comes before "a/c/"), then each folder's files sorted.
 */
function walk(dir: string): string[] {
  const folders: { dir: string; files: string[] }[] = [];
  const visit = (d: string): void => {
    const files: string[] = [];
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const st = fs.statSync(full, { throwIfNoEntry: false });
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir) visit(full);
      else if (isFile) files.push(e.name);
    }
    folders.push({ dir: d, files: files.sort(byCodePoint) });
  };
  visit(dir);
  folders.sort((a, b) => byCodePoint(a.dir, b.dir));
  return folders.flatMap((f) => f.files.map((name) => path.join(f.dir, name)));
}

/** Refuses files torchvision would read as images but sharp cannot, naming a few. */
function refuseUnsupported(files: string[], root: string): void {
  const bad = files.filter((f) => isUnsupported(f));
  if (bad.length) {
    throw new DatasetError(
      `${bad.length} image file${bad.length === 1 ? "" : "s"} under ${quote(root)} in a format this decoder does not read (${UNSUPPORTED_IMAGE_EXTENSIONS.join(", ")}), e.g. ${bad
        .slice(0, 3)
        .map((f) => quote(path.relative(root, f)))
        .join(", ")}; convert them to PNG or JPEG (read: ${IMAGE_EXTENSIONS.join(", ")})`,
    );
  }
}

/**
 * Lists an image folder (see the module comment for the two layouts and the class-index
 * mapping). Reads directory entries and the small text files only; every inconsistency (missing
 * folder, empty class, label count or range, unknown class name) is a DatasetError naming it.
 */
export function openImageFolder(
  root: string,
  options: ImageFolderOptions = {},
): ImageFolderDataset {
  const dir = path.resolve(root);
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (!st) throw new DatasetError(`image folder ${quote(root)} does not exist`);
  if (!st.isDirectory()) throw new DatasetError(`image folder ${quote(root)} is not a folder`);
  if (options.labelBase !== undefined && options.labels === undefined) {
    throw new DatasetError("labelBase applies to a labels file; give labels too");
  }
  if (options.labelNames !== undefined && options.labels === undefined) {
    throw new DatasetError(
      "labelNames maps the numbers of a labels file to class names; give labels too",
    );
  }
  return options.labels !== undefined
    ? openValLayout(dir, options)
    : openClassFolders(dir, options);
}

function openClassFolders(dir: string, options: ImageFolderOptions): ImageFolderDataset {
  const top = fs.readdirSync(dir, { withFileTypes: true });
  const folders = top
    .filter(
      (e) =>
        e.isDirectory() ||
        (e.isSymbolicLink() &&
          fs.statSync(path.join(dir, e.name), { throwIfNoEntry: false })?.isDirectory()),
    )
    .map((e) => e.name)
    .sort(byCodePoint);
  if (folders.length === 0) {
    const flat = top.filter((e) => e.isFile() && isImage(e.name)).length;
    throw new DatasetError(
      `image folder ${quote(dir)} has no class sub-folders${flat ? ` (it holds ${flat} images directly: for the flat ILSVRC2012 validation layout give a labels file, --labels FILE --label-base 0|1)` : ""}`,
    );
  }
  const classes = options.classes !== undefined ? readNames(options.classes, "classes") : folders;
  const index = new Map(classes.map((c, i) => [c, i]));
  const unknown = folders.filter((f) => !index.has(f));
  if (unknown.length) {
    throw new DatasetError(
      `${unknown.length} class folder${unknown.length === 1 ? "" : "s"} of ${quote(dir)} not in the classes file ${quote(options.classes)}: ${unknown
        .slice(0, 5)
        .map(quote)
        .join(", ")}${unknown.length > 5 ? ", ..." : ""}`,
    );
  }
  const entries: ImageEntry[] = [];
  const empty: string[] = [];
  for (const folder of folders) {
    const files = walk(path.join(dir, folder));
    refuseUnsupported(files, dir);
    const images = files.filter(isImage);
    if (images.length === 0) empty.push(folder);
    const label = index.get(folder)!;
    for (const file of images) entries.push({ file, label });
  }
  if (empty.length) {
    throw new DatasetError(
      `class folder${empty.length === 1 ? "" : "s"} ${empty
        .slice(0, 5)
        .map(quote)
        .join(
          ", ",
        )}${empty.length > 5 ? `, ... (${empty.length} in all)` : ""} of ${quote(dir)} hold${empty.length === 1 ? "s" : ""} no image (read: ${IMAGE_EXTENSIONS.join(", ")})`,
    );
  }
  return {
    root: dir,
    layout: "class-folders",
    classes,
    numClasses: classes.length,
    entries,
    notes: [],
  };
}

function openValLayout(dir: string, options: ImageFolderOptions): ImageFolderDataset {
  const labelsFile = options.labels!;
  const base = options.labelBase;
  if (base !== 0 && base !== 1) {
    throw new DatasetError(
      `labelBase must be 0 or 1 (what the first class is numbered in ${quote(labelsFile)}; the devkit's ILSVRC2012_validation_ground_truth.txt is 1, Caffe's val.txt is 0); got ${quote(base)}`,
    );
  }
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => e.name)
    .sort(byCodePoint);
  refuseUnsupported(
    files.map((f) => path.join(dir, f)),
    dir,
  );
  const images = files.filter(isImage);
  if (images.length === 0) {
    throw new DatasetError(
      `image folder ${quote(dir)} holds no image file (read: ${IMAGE_EXTENSIONS.join(", ")})`,
    );
  }
  const lines = readLines(labelsFile, "labels");
  if (lines.length !== images.length) {
    throw new DatasetError(
      `labels file ${quote(labelsFile)} has ${lines.length} lines but ${quote(dir)} holds ${images.length} images; there must be one label per image`,
    );
  }
  const labelNames =
    options.labelNames !== undefined ? readNames(options.labelNames, "labelNames") : null;
  const classes =
    options.classes !== undefined
      ? readNames(options.classes, "classes")
      : labelNames
        ? [...labelNames].sort(byCodePoint)
        : null;
  const classIndex = classes ? new Map(classes.map((c, i) => [c, i])) : null;
  const range = labelNames ? labelNames.length : classes ? classes.length : Infinity;
  const entries: ImageEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const parts = lines[i]!.split(/\s+/);
    let raw: string;
    if (parts.length === 2) {
      if (parts[0] !== images[i]) {
        throw new DatasetError(
          `labels file ${quote(labelsFile)} line ${i + 1} names ${quote(parts[0])} but the ${i + 1}th image in name order is ${quote(images[i])}`,
        );
      }
      raw = parts[1]!;
    } else if (parts.length === 1) {
      raw = parts[0]!;
    } else {
      throw new DatasetError(
        `labels file ${quote(labelsFile)} line ${i + 1} is ${quote(lines[i])}; expected "<label>" or "<file name> <label>"`,
      );
    }
    const n = Number(raw);
    const k = n - base;
    if (!/^\d+$/.test(raw) || k < 0 || k >= range) {
      throw new DatasetError(
        `labels file ${quote(labelsFile)} line ${i + 1}: label ${quote(raw)} is not an integer in [${base}, ${range === Infinity ? "∞" : range - 1 + base}] (labelBase ${base})`,
      );
    }
    let label = k;
    if (labelNames) {
      const name = labelNames[k]!;
      const idx = classIndex!.get(name);
      if (idx === undefined) {
        throw new DatasetError(
          `label ${raw} (line ${i + 1} of ${quote(labelsFile)}) is ${quote(name)} in ${quote(options.labelNames)}, which the classes file ${quote(options.classes)} does not list`,
        );
      }
      label = idx;
    }
    entries.push({ file: path.join(dir, images[i]!), label });
  }
  const notes: string[] = [];
  if (labelNames && classes && labelNames.every((n, i) => classes[i] === n)) {
    notes.push(
      `labelNames ${quote(options.labelNames)} is already in class order, so labels map to themselves; for the devkit's ILSVRC2012_validation_ground_truth.txt it must list the WNIDs in ILSVRC2012_ID order (data/meta.mat), not sorted (LOC_synset_mapping.txt is sorted)`,
    );
  }
  const numClasses = classes
    ? classes.length
    : entries.reduce((m, e) => Math.max(m, e.label), -1) + 1;
  return { root: dir, layout: "ilsvrc2012-val", classes, numClasses, entries, notes };
}
