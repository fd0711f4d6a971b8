/**
 * Where each downloadable dataset comes from: the one table of official URLs, published sizes and
 * published checksums that `senet-lab data get` fetches and verifies, keyed by the same names as
 * the DATASETS table of registry.ts (plus fast.ai's Imagenette and Imagewoof, which no loader
 * reads yet). Nothing else in the project spells these URLs or sums.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, quote } from "../errors.js";
import { CIFAR_VARIANTS, missingCifarFiles } from "./cifar.js";
import { missingMnistFiles } from "./mnist-format.js";
import type { DatasetName } from "./types.js";

/** A published checksum of one file and who publishes it (named when a download fails it). */
export interface Checksum {
  /** Digest algorithm (node:crypto name). */
  algorithm: "md5" | "sha256";
  /** The expected digest, lower-case hex. */
  hex: string;
  /** Who publishes this value, so a mismatch can be checked against its source. */
  source: string;
}

/** One file to fetch. */
export interface RemoteFile {
  /** Its official URL. */
  url: string;
  /** The file name it is saved under (and appended to a mirror's base URL). */
  name: string;
  /** Its published size in bytes: for `data list` and the free-space check; the checksum is what verifies. */
  bytes: number;
  /** Its published checksum, or null where none is published (see DownloadSpec.note). */
  checksum: Checksum | null;
}

/** How the fetched files become the dataset folder. */
export type Layout =
  /** One .tar.gz whose single top-level folder `root` becomes the dataset folder. */
  | { kind: "tar.gz"; root: string }
  /** The files themselves are the dataset (MNIST's gzipped IDX files are read as they are). */
  | { kind: "files" };

/** One downloadable dataset. */
export interface DownloadSpec {
  /** A human name for `data list`. */
  title: string;
  /** The files to fetch, in order. */
  files: RemoteFile[];
  /** How they are unpacked. */
  layout: Layout;
  /** The folder created under the data root; the first name locateDataset tries for it. */
  folder: string;
  /** The loadDataset name that reads the folder, or null when no loader reads it yet. */
  loader: DatasetName | null;
  /** The files (or subfolders) a complete folder has and `dir` lacks; [] when complete. */
  missing: (dir: string) => string[];
  /** Caveats about the checksums, shown by `data list` and after a download. */
  note?: string;
}

/** Every dataset `senet-lab data get` can fetch. */
export const DOWNLOAD_NAMES = [
  "cifar10",
  "cifar100",
  "mnist",
  "fashion-mnist",
  "imagenette",
  "imagewoof",
] as const;
/** A downloadable dataset name. */
export type DownloadName = (typeof DOWNLOAD_NAMES)[number];

const TORONTO = "published on https://www.cs.toronto.edu/~kriz/cifar.html";
const TORCHVISION_MNIST = "torchvision.datasets.MNIST.resources";
const FASHION =
  "https://github.com/zalandoresearch/fashion-mnist (README) and torchvision.datasets.FashionMNIST.resources";
const MNIST_BASE = "https://ossci-datasets.s3.amazonaws.com/mnist/";
const FASHION_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

const idx = (base: string, source: string, rows: [string, number, string][]): RemoteFile[] =>
  rows.map(([name, bytes, md5]) => ({
    url: `${base}${name}`,
    name,
    bytes,
    checksum: { algorithm: "md5", hex: md5, source },
  }));

/** Subfolders an unpacked fast.ai image-classification archive has. */
const missingImageFolders = (dir: string) =>
  ["train", "val"].filter((d) => !fs.existsSync(path.join(dir, d)));

/** The table. */
export const DOWNLOADS: Record<DownloadName, DownloadSpec> = {
  cifar10: {
    title: "CIFAR-10 (binary version)",
    files: [
      {
        url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        name: "cifar-10-binary.tar.gz",
        bytes: 170_052_171,
        checksum: { algorithm: "md5", hex: "c32a1d4ab5d03f1284b67883e8d87530", source: TORONTO },
      },
    ],
    layout: { kind: "tar.gz", root: "cifar-10-batches-bin" },
    folder: "cifar-10-batches-bin",
    loader: "cifar10",
    missing: (d) => missingCifarFiles(d, CIFAR_VARIANTS.cifar10),
  },
  cifar100: {
    title: "CIFAR-100 (binary version)",
    files: [
      {
        url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
        name: "cifar-100-binary.tar.gz",
        bytes: 168_513_733,
        checksum: { algorithm: "md5", hex: "03b5dce01913d631647c71ecec9e9cb8", source: TORONTO },
      },
    ],
    layout: { kind: "tar.gz", root: "cifar-100-binary" },
    folder: "cifar-100-binary",
    loader: "cifar100",
    missing: (d) => missingCifarFiles(d, CIFAR_VARIANTS.cifar100),
  },
  mnist: {
    title: "MNIST",
    files: idx(MNIST_BASE, TORCHVISION_MNIST, [
      ["train-images-idx3-ubyte.gz", 9_912_422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"],
      ["train-labels-idx1-ubyte.gz", 28_881, "d53e105ee54ea40749a09fcbcd1e9432"],
      ["t10k-images-idx3-ubyte.gz", 1_648_877, "9fb629c4189551a2d022fa330f9573f3"],
      ["t10k-labels-idx1-ubyte.gz", 4_542, "ec29112dd5afa0611ce80d1b7f02629c"],
    ]),
    layout: { kind: "files" },
    folder: "mnist",
    loader: "mnist",
    missing: missingMnistFiles,
  },
  "fashion-mnist": {
    title: "Fashion-MNIST",
    files: idx(FASHION_BASE, FASHION, [
      ["train-images-idx3-ubyte.gz", 26_421_880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"],
      ["train-labels-idx1-ubyte.gz", 29_515, "25c81989df183df01b3e8a0aad5dffbe"],
      ["t10k-images-idx3-ubyte.gz", 4_422_102, "bef4ecab320f06d8554ea6380940ec79"],
      ["t10k-labels-idx1-ubyte.gz", 5_148, "bb300cfdad3c16e7a12a480ee83cd310"],
    ]),
    layout: { kind: "files" },
    folder: "fashion-mnist",
    loader: "fashion-mnist",
    missing: missingMnistFiles,
  },
  imagenette: {
    title: "Imagenette 2 (160 px)",
    files: [
      {
        url: "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz",
        name: "imagenette2-160.tgz",
        bytes: 99_003_388,
        checksum: {
          algorithm: "md5",
          hex: "e793b78cc4c9e9a4ccc0c1155377a412",
          source: 'torchvision.datasets.Imagenette._ARCHIVES["160px"]',
        },
      },
    ],
    layout: { kind: "tar.gz", root: "imagenette2-160" },
    folder: "imagenette2-160",
    loader: null,
    missing: missingImageFolders,
    note: "fast.ai publishes only a size and the md5 of the first MiB (fastai/data/checks.txt), and has re-uploaded the archive; the full-file md5 is torchvision's. No loader in src/data reads image folders yet.",
  },
  imagewoof: {
    title: "Imagewoof 2 (160 px)",
    files: [
      {
        url: "https://s3.amazonaws.com/fast-ai-imageclas/imagewoof2-160.tgz",
        name: "imagewoof2-160.tgz",
        bytes: 92_612_825,
        checksum: null,
      },
    ],
    layout: { kind: "tar.gz", root: "imagewoof2-160" },
    folder: "imagewoof2-160",
    loader: null,
    missing: missingImageFolders,
    note: "No published full-file checksum: fastai/data/checks.txt lists only a size and the md5 of the first MiB, and its versions disagree (the archive was re-uploaded); the download is checked by its length, gzip's CRC and a complete tar read. No loader in src/data reads image folders yet.",
  },
};

/** Validates a `data get` name before any network work, erroring with the valid ones. */
export function checkDownloadName(name: unknown): DownloadName {
  if (typeof name === "string" && (DOWNLOAD_NAMES as readonly string[]).includes(name)) {
    return name as DownloadName;
  }
  throw new ConfigError(
    `dataset to download must be one of ${DOWNLOAD_NAMES.map((n) => JSON.stringify(n)).join(", ")}; got ${quote(name)}`,
  );
}

/**
 * Shell steps that place a dataset by hand, for a machine without network: fetch each file
 * elsewhere, check its sum, copy it here and unpack it under `root` (the printed folder).
 */
export function manualSteps(spec: DownloadSpec, root = "<data root>"): string {
  const fetch = spec.files.map((f) => `curl -LO ${f.url}`).join(" && ");
  const sums = spec.files.filter((f) => f.checksum);
  const check = sums.length
    ? `; check ${sums.map((f) => `${f.checksum!.algorithm} ${f.name} = ${f.checksum!.hex}`).join(", ")}`
    : "";
  const place =
    spec.layout.kind === "tar.gz"
      ? `tar xzf ${spec.files[0]!.name} -C ${root} (it creates ${path.join(root, spec.layout.root)})`
      : `put the ${spec.files.length} files in ${path.join(root, spec.folder)}/`;
  return `On a machine with internet: ${fetch}${check}; copy the file${spec.files.length > 1 ? "s" : ""} here, then ${place}.`;
}
