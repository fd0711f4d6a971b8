/**
 * The dataset lookup table: every name `loadDataset` accepts, where each is looked for, how it
 * is parsed, its augmentation defaults, and how to obtain it when it is missing.
 */
import fs from "node:fs";
import path from "node:path";
import { DatasetError } from "../errors.js";
import { PROJECT_ROOT } from "../util/fs.js";
import { CIFAR_VARIANTS, hasCifarLayout, loadCifar } from "./cifar.js";
import { hasMnistLayout, loadMnistFormat } from "./mnist-format.js";
import { loadSynthetic } from "./synthetic.js";
import type { RawDataset } from "./types.js";

/** Every dataset name. */
export const DATASET_NAMES = [
  "fashion-mnist",
  "fashion-mnist-mini",
  "mnist",
  "cifar10",
  "cifar100",
  "synthetic",
] as const;
/** A dataset name. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Environment variable naming a root folder that holds one subfolder per dataset. */
export const DATA_DIR_ENV = "SENET_LAB_DATA_DIR";
/** Where Debian's dataset-fashion-mnist package installs the files. */
export const DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
/** The embedded Fashion-MNIST subset shipped in the repository. */
export const EMBEDDED_DIR = path.join(PROJECT_ROOT, "data", "fashion-mnist-mini");

/** One entry of the table. */
export interface DatasetSpec {
  /** Image shape [H, W, C] (known before loading, so configs can be checked early). */
  shape: [number, number, number];
  /** Number of classes. */
  numClasses: number;
  /** Subfolder names tried under a root folder (the option's folder or SENET_LAB_DATA_DIR). */
  subdirs: string[];
  /** Folders tried when neither an option nor the environment names one. */
  systemDirs: string[];
  /** True when a folder holds this dataset's files. */
  present: (dir: string) => boolean;
  /** Parses the files of a folder. */
  load: (dir: string) => RawDataset;
  /** Default for horizontal flips (off for digits and synthetic, whose mirror images differ). */
  hflip: boolean;
  /** Default zero padding (pixels per side) before the random crop. */
  cropPad: number;
  /** How to get the files, for the "missing" error. */
  howToGet: string;
}

const cifarHow = (url: string, folder: string) =>
  `On a machine with internet: curl -LO ${url} && tar xzf ${path.basename(url)}, then pass the ${folder} folder as dataDir or put it under $${DATA_DIR_ENV}/.`;

/** The lookup table. */
export const DATASETS: Record<DatasetName, DatasetSpec> = {
  "fashion-mnist": {
    shape: [28, 28, 1],
    numClasses: 10,
    subdirs: ["fashion-mnist", "fashion_mnist", "fashionmnist"],
    systemDirs: [DEBIAN_FASHION_MNIST_DIR],
    present: hasMnistLayout,
    load: (d) => loadMnistFormat(d, 10),
    hflip: true,
    cropPad: 2,
    howToGet: `Install it with: apt-get install -y dataset-fashion-mnist (files go to ${DEBIAN_FASHION_MNIST_DIR}), or run 'senet-lab setup'; or use "fashion-mnist-mini", the subset embedded in data/.`,
  },
  "fashion-mnist-mini": {
    shape: [28, 28, 1],
    numClasses: 10,
    subdirs: [],
    systemDirs: [EMBEDDED_DIR],
    present: hasMnistLayout,
    load: (d) => ({ ...loadMnistFormat(d, 10), source: "embedded:data/fashion-mnist-mini" }),
    hflip: true,
    cropPad: 2,
    howToGet:
      "It ships in the repository (data/fashion-mnist-mini); recreate it with: npx tsx scripts/make-embedded-dataset.ts",
  },
  mnist: {
    shape: [28, 28, 1],
    numClasses: 10,
    subdirs: ["mnist", "MNIST"],
    systemDirs: ["/usr/share/datasets/mnist"],
    present: hasMnistLayout,
    load: (d) => loadMnistFormat(d, 10),
    hflip: false,
    cropPad: 2,
    howToGet: `Put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz in a folder and pass it as dataDir (or as $${DATA_DIR_ENV}/mnist). On a machine with internet: for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do curl -LO https://storage.googleapis.com/cvdf-datasets/mnist/$f.gz; done`,
  },
  cifar10: {
    shape: [32, 32, 3],
    numClasses: 10,
    subdirs: ["cifar-10-batches-bin", "cifar10", "cifar10/cifar-10-batches-bin"],
    systemDirs: [],
    present: (d) => hasCifarLayout(d, CIFAR_VARIANTS.cifar10),
    load: (d) => loadCifar(d, CIFAR_VARIANTS.cifar10),
    hflip: true,
    cropPad: 4,
    howToGet: cifarHow(
      "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
      "cifar-10-batches-bin",
    ),
  },
  cifar100: {
    shape: [32, 32, 3],
    numClasses: 100,
    subdirs: ["cifar-100-binary", "cifar100", "cifar100/cifar-100-binary"],
    systemDirs: [],
    present: (d) => hasCifarLayout(d, CIFAR_VARIANTS.cifar100),
    load: (d) => loadCifar(d, CIFAR_VARIANTS.cifar100),
    hflip: true,
    cropPad: 4,
    howToGet: cifarHow(
      "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
      "cifar-100-binary",
    ),
  },
  synthetic: {
    shape: [12, 12, 3],
    numClasses: 10,
    subdirs: [],
    systemDirs: [],
    present: () => true,
    load: () => loadSynthetic(),
    hflip: false,
    cropPad: 2,
    howToGet: "",
  },
};

/** The folders tried for a dataset, in order: the given folder (and its subfolders), else $SENET_LAB_DATA_DIR's subfolders, else the system folders. */
export function candidateDirs(name: DatasetName, dataDir?: string | null): string[] {
  const spec = DATASETS[name];
  if (name === "synthetic") return [];
  const under = (root: string) => [root, ...spec.subdirs.map((s) => path.join(root, s))];
  if (dataDir) return under(path.resolve(dataDir));
  const env = process.env[DATA_DIR_ENV];
  const fromEnv = env ? spec.subdirs.map((s) => path.join(path.resolve(env), s)) : [];
  return [...fromEnv, ...spec.systemDirs];
}

/** The first candidate folder holding the dataset; a DatasetError saying where it looked and how to get it otherwise. */
export function locateDataset(name: DatasetName, dataDir?: string | null): string | undefined {
  if (name === "synthetic") return undefined;
  const spec = DATASETS[name];
  const dirs = candidateDirs(name, dataDir);
  const found = dirs.find((d) => fs.existsSync(d) && spec.present(d));
  if (found) return found;
  const looked = dirs.length ? dirs.join(", ") : "(no folder given)";
  throw new DatasetError(
    `dataset ${JSON.stringify(name)} not found; looked in: ${looked}${dataDir ? "" : ` (set ${DATA_DIR_ENV} to a folder holding ${spec.subdirs[0] ?? name}/, or pass dataDir)`}. ${spec.howToGet}`,
  );
}
