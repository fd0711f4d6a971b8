/**
 * `senet-lab data get` and `data list` as library calls: fetch a dataset of the DOWNLOADS table
 * into the data root, verify every file, unpack it into a temporary folder and rename that into
 * place (so `<root>/<folder>` is either absent or whole), and report what each dataset's folder
 * holds. Everything that can be checked without the network (the name, an incomplete folder
 * already there, a folder that cannot be written, another download running) is checked first.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DownloadError, OutputPathError } from "../errors.js";
import { checkWritableDir } from "../util/fs.js";
import { pidAlive } from "../util/process.js";
import { extractTarGz } from "./archive.js";
import { badLengthCifarFiles, CIFAR_VARIANTS } from "./cifar.js";
import { type DownloadOptions, type DownloadResult, downloadFile } from "./download.js";
import { DATA_DIR_ENV, dataRoot, locateDataset } from "./registry.js";
import {
  checkDownloadName,
  DOWNLOADS,
  type DownloadName,
  type DownloadSpec,
  manualSteps,
} from "./sources.js";
import { formatBytes } from "./transfer-progress.js";

/** Hidden folder under the data root holding downloads in progress and verified archives. */
export const STAGING_DIR = ".senet-lab-downloads";
/** Name prefix of the temporary folders archives are unpacked into. */
export const UNPACK_PREFIX = ".senet-lab-unpack";

/** Options of getDataset. */
export interface GetDatasetOptions extends Omit<DownloadOptions, "progress"> {
  /** Data root (default: $SENET_LAB_DATA_DIR, else the platform cache folder). */
  dir?: string | null;
  /** Base URL of a mirror that serves the same file names; the table's checksums still apply. */
  mirror?: string;
  /** Replace the table entry (tests point it at a local server with their own files and sums). */
  spec?: DownloadSpec;
  /** Replace a folder that is already there (whole or not). */
  force?: boolean;
  /** Keep the verified archive under the staging folder after unpacking (default: remove it). */
  keepArchive?: boolean;
  /** Progress display options; null shows no progress at all. */
  progress?: DownloadOptions["progress"];
  /** One-line messages (default: to stderr). */
  log?: (line: string) => void;
}

/** What getDataset did. */
export interface GetDatasetResult {
  /** The dataset name. */
  name: DownloadName;
  /** The complete folder. */
  dir: string;
  /** "downloaded", or "present" when the folder was already whole (nothing fetched). */
  status: "downloaded" | "present";
  /** Per file: bytes, received, seconds, digest (empty when already present). */
  files: DownloadResult[];
}

/** The URL a file is fetched from: the mirror's base URL plus its name, else its own. */
function sourceUrl(url: string, name: string, mirror?: string): string {
  if (!mirror) return url;
  return new URL(name, mirror.endsWith("/") ? mirror : `${mirror}/`).href;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Removes unpack folders left by a process that no longer runs (a killed `data get`). */
function removeStaleUnpacks(root: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return;
  }
  for (const n of names) {
    const m = new RegExp(`^${UNPACK_PREFIX.replace(".", "\\.")}\\.[^.]+\\.(\\d+)\\.`).exec(n);
    if (m && !pidAlive(Number(m[1])))
      fs.rmSync(path.join(root, n), { recursive: true, force: true });
  }
}

/** Takes the per-dataset lock (a file holding our pid); a live holder is a "busy" error. */
function lock(staging: string, name: string): () => void {
  const file = path.join(staging, `${name}.lock`);
  for (let i = 0; i < 2; i++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(fs.readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new DownloadError(
          `another 'senet-lab data get ${name}' (pid ${pid}) is writing into ${path.dirname(staging)}; wait for it, or stop it`,
          file,
          "busy",
        );
      }
      fs.rmSync(file, { force: true }); // its owner is gone
    }
  }
  throw new DownloadError(`cannot take the lock ${file}`, file, "busy");
}

/** Fails early when the filesystem of `root` has less free space than `needed` bytes. */
function checkFreeSpace(root: string, needed: number): void {
  let at = root;
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  let free: number;
  try {
    const s = fs.statfsSync(at);
    free = s.bavail * s.bsize;
  } catch {
    return; // statfs unsupported: the write itself will say
  }
  if (free < needed) {
    throw new DownloadError(
      `not enough free space in ${at}: the download and its unpacked copy need about ${formatBytes(needed)}, ${formatBytes(free)} are free. Free some, or pick another folder with --dir or $${DATA_DIR_ENV}.`,
      root,
      "disk",
    );
  }
}

/**
 * Fetches `name` into the data root and returns its folder. An existing whole folder is kept
 * (status "present") unless `force`; an incomplete one is an error naming what it lacks, before
 * any network work. Errors are DownloadError (see download.ts) or OutputPathError.
 */
export async function getDataset(
  nameArg: string,
  o: GetDatasetOptions = {},
): Promise<GetDatasetResult> {
  const name = checkDownloadName(nameArg);
  const spec = o.spec ?? DOWNLOADS[name];
  const env = o.env ?? process.env;
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = dataRoot(o.dir, env);
  const finalDir = path.join(root, spec.folder);
  if (o.mirror) {
    try {
      new URL(o.mirror);
    } catch {
      throw new DownloadError(
        `--mirror must be an absolute http(s) URL such as http://host/path/; got ${JSON.stringify(o.mirror)}`,
        o.mirror,
        "network",
      );
    }
  }

  if (fs.existsSync(finalDir) && !o.force) {
    if (!isDir(finalDir)) {
      throw new OutputPathError(
        `${finalDir} is a file, not a folder; move it away (or pass --force to replace it)`,
      );
    }
    const lacks = spec.missing(finalDir);
    if (lacks.length === 0) {
      return { name, dir: finalDir, status: "present", files: [] };
    }
    throw new DownloadError(
      `${finalDir} already exists but is incomplete (it lacks ${lacks.join(", ")}): move it away or delete it, or pass --force to replace it with a fresh download`,
      finalDir,
      "disk",
    );
  }
  checkWritableDir(root, "the data folder");
  fs.mkdirSync(root, { recursive: true });
  const staging = path.join(root, STAGING_DIR);
  fs.mkdirSync(staging, { recursive: true });
  removeStaleUnpacks(root);
  const unlock = lock(staging, name);
  try {
    const pending = spec.files.filter((f) => !fs.existsSync(path.join(staging, f.name)));
    const toFetch = pending.reduce(
      (a, f) => a + Math.max(0, f.bytes - sizeOf(path.join(staging, `${f.name}.part`))),
      0,
    );
    const unpacked =
      spec.layout.kind === "tar.gz" ? spec.files.reduce((a, f) => a + f.bytes, 0) : 0;
    checkFreeSpace(root, toFetch + unpacked);

    const results: DownloadResult[] = [];
    for (const f of spec.files) {
      const url = sourceUrl(f.url, f.name, o.mirror);
      if (!f.checksum) {
        log(
          `note: ${f.name} has no published checksum; it is checked by its length, gzip's CRC and a full unpack only`,
        );
      }
      try {
        results.push(
          await downloadFile(f, url, path.join(staging, f.name), {
            env,
            progress: o.progress === undefined ? {} : o.progress,
            ...(o.attempts !== undefined ? { attempts: o.attempts } : {}),
            ...(o.retryDelayMs !== undefined ? { retryDelayMs: o.retryDelayMs } : {}),
            ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
            ...(o.ca ? { ca: o.ca } : {}),
          }),
        );
      } catch (err) {
        if (err instanceof DownloadError && (err.kind === "network" || err.kind === "http")) {
          throw new DownloadError(
            `${err.message}\nTo place ${name} by hand: ${manualSteps(spec, root)}`,
            err.url,
            err.kind,
            { cause: err },
          );
        }
        throw err;
      }
    }

    const tmp = path.join(
      root,
      `${UNPACK_PREFIX}.${name}.${process.pid}.${randomBytes(4).toString("hex")}`,
    );
    try {
      let built: string;
      if (spec.layout.kind === "tar.gz") {
        const archive = path.join(staging, spec.files[0]!.name);
        log(`unpacking ${spec.files[0]!.name}`);
        await extractTarGz(archive, tmp);
        built = path.join(tmp, spec.layout.root);
        if (!isDir(built)) {
          const top = fs.readdirSync(tmp).join(", ") || "nothing";
          throw new DownloadError(
            `${archive} does not hold the folder ${spec.layout.root}/ (its top level: ${top}); not a ${spec.title} archive`,
            archive,
            "archive",
          );
        }
      } else {
        built = path.join(tmp, spec.folder);
        fs.mkdirSync(built, { recursive: true });
        for (const f of spec.files) {
          fs.copyFileSync(path.join(staging, f.name), path.join(built, f.name));
        }
      }
      const lacks = spec.missing(built);
      if (lacks.length > 0) {
        throw new DownloadError(
          `the unpacked ${spec.title} lacks ${lacks.join(", ")}; not placed`,
          built,
          "archive",
        );
      }
      place(built, finalDir);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    if (!o.keepArchive) {
      for (const f of spec.files) fs.rmSync(path.join(staging, f.name), { force: true });
    }
    return { name, dir: finalDir, status: "downloaded", files: results };
  } finally {
    unlock();
    try {
      fs.rmdirSync(staging); // only when empty: nothing to resume or inspect is left
    } catch {
      /* it holds a partial or a kept-aside download */
    }
  }
}

/** Moves the built folder to its final name; an old folder (--force) is swapped out first. */
function place(built: string, finalDir: string): void {
  if (!fs.existsSync(finalDir)) {
    fs.renameSync(built, finalDir);
    return;
  }
  const old = `${path.join(path.dirname(finalDir), UNPACK_PREFIX)}.old.${process.pid}.${randomBytes(4).toString("hex")}`;
  fs.renameSync(finalDir, old);
  try {
    fs.renameSync(built, finalDir);
  } catch (err) {
    fs.renameSync(old, finalDir);
    throw err;
  }
  fs.rmSync(old, { recursive: true, force: true });
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** One row of `senet-lab data list`. */
export interface DatasetStatus {
  /** The dataset name. */
  name: DownloadName;
  /** Its published download size in bytes. */
  bytes: number;
  /** The folder it was found in, or the one `data get` would create. */
  dir: string;
  /** present: whole; absent: not there; corrupt: a folder is there but incomplete or damaged. */
  state: "present" | "absent" | "corrupt";
  /** What else to know (what a corrupt folder lacks, a resumable partial download, no loader yet). */
  detail: string;
}

/** The state of every downloadable dataset under the data root (and, for loadable ones, wherever locateDataset finds them). */
export function listDatasets(
  o: { dir?: string | null; env?: NodeJS.ProcessEnv } = {},
): DatasetStatus[] {
  const root = dataRoot(o.dir, o.env ?? process.env);
  return (Object.keys(DOWNLOADS) as DownloadName[]).map((name) => datasetStatus(name, root, o.dir));
}

function datasetStatus(name: DownloadName, root: string, dir?: string | null): DatasetStatus {
  const spec = DOWNLOADS[name];
  const bytes = spec.files.reduce((a, f) => a + f.bytes, 0);
  const target = path.join(root, spec.folder);
  const row = (state: DatasetStatus["state"], at: string, detail: string): DatasetStatus => ({
    name,
    bytes,
    dir: at,
    state,
    detail,
  });
  let found: string | undefined;
  if (spec.loader) {
    try {
      found = locateDataset(spec.loader, dir ? root : undefined);
    } catch {
      found = undefined;
    }
  } else if (isDir(target) && spec.missing(target).length === 0) {
    found = target;
  }
  if (found) {
    if (spec.loader === "cifar10" || spec.loader === "cifar100") {
      const bad = badLengthCifarFiles(found, CIFAR_VARIANTS[spec.loader]);
      if (bad.length) return row("corrupt", found, `wrong length: ${bad.join(", ")}`);
    }
    const how = spec.loader
      ? `loadDataset("${spec.loader}")`
      : `image folders: no training loader; senet-lab eval --data ${path.join(found, "val")} scores a model on them`;
    return row("present", found, how);
  }
  if (isDir(target)) {
    const lacks = spec.missing(target);
    return row(
      "corrupt",
      target,
      `lacks ${lacks.join(", ")}; 'data get ${name} --force' replaces it`,
    );
  }
  const staging = path.join(root, STAGING_DIR);
  const notes: string[] = [];
  const part = spec.files.reduce((a, f) => a + sizeOf(path.join(staging, `${f.name}.part`)), 0);
  if (part > 0)
    notes.push(
      `partial download ${formatBytes(part)} of ${formatBytes(bytes)}; 'data get ${name}' resumes it`,
    );
  const corrupt = spec.files.filter((f) => fs.existsSync(path.join(staging, `${f.name}.corrupt`)));
  if (corrupt.length) {
    notes.push(
      `a download that failed its checksum is kept: ${corrupt.map((f) => path.join(staging, `${f.name}.corrupt`)).join(", ")}`,
    );
  }
  return row("absent", target, notes.join("; ") || `'senet-lab data get ${name}'`);
}

/** Renders `data list` rows as an aligned table. */
export function formatDatasetList(rows: DatasetStatus[]): string {
  const cells = rows.map((r) => [r.name, formatBytes(r.bytes), r.state, r.dir, r.detail]);
  const head = ["name", "size", "state", "folder", "notes"];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => (i === c.length - 1 ? x : x.padEnd(w[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), ...cells.map(line)].join("\n");
}
