/**
 * The dataset lookup table: every name `loadDataset` accepts, where each is looked for, how it
 * is parsed, its augmentation defaults, and how to obtain it when it is missing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatasetError } from "../errors.js";
import { PROJECT_ROOT } from "../util/fs.js";
import { CIFAR_VARIANTS, loadCifar, missingCifarFiles } from "./cifar.js";
import { loadMnistFormat, MNIST_FILES, missingMnistFiles } from "./mnist-format.js";
import { DOWNLOADS, manualSteps } from "./sources.js";
import { loadSynthetic } from "./synthetic.js";
import type { DatasetName, RawDataset } from "./types.js";

export { DATASET_NAMES, type DatasetName } from "./types.js";

/** Environment variable naming a root folder that holds one subfolder per dataset. */
export const DATA_DIR_ENV = "SENET_LAB_DATA_DIR";

/**
 * The folder `senet-lab data get` writes to when neither --dir nor $SENET_LAB_DATA_DIR names
 * one, by the platform's cache convention: $XDG_CACHE_HOME/senet-lab/datasets (an absolute
 * XDG_CACHE_HOME only, as the XDG spec says), else ~/Library/Caches on macOS,
 * %LOCALAPPDATA% on Windows, ~/.cache elsewhere.
 */
export function defaultDataRoot(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, "senet-lab", "datasets");
  if (platform === "darwin") return path.join(home, "Library", "Caches", "senet-lab", "datasets");
  if (platform === "win32" && env.LOCALAPPDATA) {
    return path.join(env.LOCALAPPDATA, "senet-lab", "datasets");
  }
  return path.join(home, ".cache", "senet-lab", "datasets");
}

/** The root folder datasets are fetched into: --dir, else $SENET_LAB_DATA_DIR, else defaultDataRoot. */
export function dataRoot(dir?: string | null, env: NodeJS.ProcessEnv = process.env): string {
  if (dir) return path.resolve(dir);
  const fromEnv = env[DATA_DIR_ENV];
  return fromEnv ? path.resolve(fromEnv) : defaultDataRoot(env);
}
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
  /** The files a folder lacks ([] when present), named in the "incomplete folder" error. */
  missing: (dir: string) => string[];
  /** Every file a complete folder holds, as `missing` names them. */
  files: string[];
  /** Parses the files of a folder. */
  load: (dir: string) => RawDataset;
  /** Default for horizontal flips (off for digits and synthetic, whose mirror images differ). */
  hflip: boolean;
  /** Default zero padding (pixels per side) before the random crop. */
  cropPad: number;
  /** How to get the files, for the "missing" error. */
  howToGet: string;
}

const MNIST_NAMES = Object.values(MNIST_FILES).map((s) => `${s}[.gz]`);
const cifarNames = (v: keyof typeof CIFAR_VARIANTS) => [
  ...CIFAR_VARIANTS[v].trainFiles,
  ...CIFAR_VARIANTS[v].testFiles,
];

/** How to get a dataset the download table lists: the command, then the steps by hand. */
const fetchHow = (name: keyof typeof DOWNLOADS) =>
  `Fetch it with: senet-lab data get ${name} (into ${defaultDataRoot()}, or --dir D / $${DATA_DIR_ENV}). ${manualSteps(DOWNLOADS[name])} Or pass the ${DOWNLOADS[name].folder} folder as dataDir.`;

/** The lookup table. */
export const DATASETS: Record<DatasetName, DatasetSpec> = {
  "fashion-mnist": {
    shape: [28, 28, 1],
    numClasses: 10,
    subdirs: ["fashion-mnist", "fashion_mnist", "fashionmnist"],
    systemDirs: [DEBIAN_FASHION_MNIST_DIR],
    present: (d) => missingMnistFiles(d).length === 0,
    missing: missingMnistFiles,
    files: MNIST_NAMES,
    load: (d) => loadMnistFormat(d, 10),
    hflip: true,
    cropPad: 2,
    howToGet: `Install it with: apt-get install -y dataset-fashion-mnist (files go to ${DEBIAN_FASHION_MNIST_DIR}), or run 'senet-lab setup', or 'senet-lab data get fashion-mnist'; or use "fashion-mnist-mini", the subset embedded in data/.`,
  },
  "fashion-mnist-mini": {
    shape: [28, 28, 1],
    numClasses: 10,
    subdirs: [],
    systemDirs: [EMBEDDED_DIR],
    present: (d) => missingMnistFiles(d).length === 0,
    missing: missingMnistFiles,
    files: MNIST_NAMES,
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
    present: (d) => missingMnistFiles(d).length === 0,
    missing: missingMnistFiles,
    files: MNIST_NAMES,
    load: (d) => loadMnistFormat(d, 10),
    hflip: false,
    cropPad: 2,
    howToGet: fetchHow("mnist"),
  },
  cifar10: {
    shape: [32, 32, 3],
    numClasses: 10,
    subdirs: ["cifar-10-batches-bin", "cifar10", "cifar10/cifar-10-batches-bin"],
    systemDirs: [],
    present: (d) => missingCifarFiles(d, CIFAR_VARIANTS.cifar10).length === 0,
    missing: (d) => missingCifarFiles(d, CIFAR_VARIANTS.cifar10),
    files: cifarNames("cifar10"),
    load: (d) => loadCifar(d, CIFAR_VARIANTS.cifar10),
    hflip: true,
    cropPad: 4,
    howToGet: fetchHow("cifar10"),
  },
  cifar100: {
    shape: [32, 32, 3],
    numClasses: 100,
    subdirs: ["cifar-100-binary", "cifar100", "cifar100/cifar-100-binary"],
    systemDirs: [],
    present: (d) => missingCifarFiles(d, CIFAR_VARIANTS.cifar100).length === 0,
    missing: (d) => missingCifarFiles(d, CIFAR_VARIANTS.cifar100),
    files: cifarNames("cifar100"),
    load: (d) => loadCifar(d, CIFAR_VARIANTS.cifar100),
    hflip: true,
    cropPad: 4,
    howToGet: fetchHow("cifar100"),
  },
  synthetic: {
    shape: [12, 12, 3],
    numClasses: 10,
    subdirs: [],
    systemDirs: [],
    present: () => true,
    missing: () => [],
    files: [],
    load: () => loadSynthetic(),
    hflip: false,
    cropPad: 2,
    howToGet: "",
  },
};

/**
 * The folders tried for a dataset, in order: the given folder (and its subfolders), else
 * $SENET_LAB_DATA_DIR's subfolders, then those of the default download folder (where
 * `senet-lab data get` writes), then the system folders.
 */
export function candidateDirs(name: DatasetName, dataDir?: string | null): string[] {
  const spec = DATASETS[name];
  if (name === "synthetic") return [];
  const under = (root: string) => [root, ...spec.subdirs.map((s) => path.join(root, s))];
  if (dataDir) return under(path.resolve(dataDir));
  const env = process.env[DATA_DIR_ENV];
  const roots = [...(env ? [path.resolve(env)] : []), defaultDataRoot()];
  const dirs = [
    ...roots.flatMap((r) => spec.subdirs.map((s) => path.join(r, s))),
    ...spec.systemDirs,
  ];
  return [...new Set(dirs)];
}

/** The first candidate folder holding the dataset; a DatasetError saying where it looked and how to get it otherwise. */
export function locateDataset(name: DatasetName, dataDir?: string | null): string | undefined {
  if (name === "synthetic") return undefined;
  const spec = DATASETS[name];
  const dirs = candidateDirs(name, dataDir);
  const found = dirs.find((d) => fs.existsSync(d) && spec.present(d));
  if (found) return found;
  // A folder that holds some of the files, or is one of the dataset's own subfolder names, is a
  // half-copied dataset: say what it lacks rather than "not found" while listing it.
  const root = dataDir ? path.resolve(dataDir) : undefined;
  const partial = dirs.filter((d) => {
    if (!isDir(d)) return false;
    const lacks = spec.missing(d);
    return d !== root || lacks.length < spec.files.length;
  });
  if (partial.length > 0) {
    const what = partial.map((d) => `${d} lacks ${spec.missing(d).join(", ")}`).join("; ");
    throw new DatasetError(
      `dataset ${JSON.stringify(name)} is incomplete: ${what}. Copy the missing files there (or remove the folder). ${spec.howToGet}`,
    );
  }
  const looked = dirs.length ? dirs.join(", ") : "(no folder given)";
  throw new DatasetError(
    `dataset ${JSON.stringify(name)} not found; looked in: ${looked}${dataDir ? "" : ` (set ${DATA_DIR_ENV} to a folder holding ${spec.subdirs[0] ?? name}/, or pass dataDir)`}. ${spec.howToGet}`,
  );
}

function isDir(d: string): boolean {
  try {
    return fs.statSync(d).isDirectory();
  } catch {
    return false;
  }
}
