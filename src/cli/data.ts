/**
 * `senet-lab data`: fetch a dataset (`data get`: download with progress, resume, verify, unpack
 * atomically) and show what is on this machine (`data list`). The work is in src/data/get.ts.
 */
import { ConfigError } from "../errors.js";
import { type CommandSpec, int, str } from "./command.js";

const NAMES = "cifar10, cifar100, mnist, fashion-mnist, imagenette, imagewoof";

const dirFlag = {
  type: "string",
  valueName: "DIR",
  description:
    "Data root holding one folder per dataset (default: $SENET_LAB_DATA_DIR, else $XDG_CACHE_HOME/senet-lab/datasets or ~/.cache/senet-lab/datasets).",
} as const;

const getCommand: CommandSpec = {
  name: "get",
  summary: `Download, verify and unpack a dataset (${NAMES}); resumes an interrupted download.`,
  args: "<name>",
  flags: {
    dir: dirFlag,
    force: {
      type: "boolean",
      description: "Replace the dataset's folder when it is already there (whole or incomplete).",
    },
    mirror: {
      type: "string",
      valueName: "URL",
      description:
        "Fetch the same file names from this base URL instead of the official ones (checksums still apply).",
    },
    "keep-archive": {
      type: "boolean",
      description: "Keep the verified archive in <DIR>/.senet-lab-downloads/ after unpacking.",
    },
    retries: {
      type: "string",
      valueName: "N",
      description: "Tries per file before giving up (default 5); a dropped transfer resumes.",
    },
  },
  run: async (flags, positionals) => {
    if (positionals.length !== 1) {
      throw new ConfigError(
        `'senet-lab data get' takes one dataset name (${NAMES}); got ${positionals.length} arguments`,
      );
    }
    const { getDataset } = await import("../data/get.js");
    const { checkDownloadName, DOWNLOADS } = await import("../data/sources.js");
    const name = checkDownloadName(positionals[0]);
    const attempts = int(flags, "retries");
    const mirror = str(flags, "mirror");
    const r = await getDataset(name, {
      dir: str(flags, "dir") ?? null,
      force: flags.force === true,
      keepArchive: flags["keep-archive"] === true,
      ...(mirror !== undefined ? { mirror } : {}),
      ...(attempts !== undefined ? { attempts } : {}),
    });
    const spec = DOWNLOADS[name];
    const verified = r.files
      .filter((f) => f.digest)
      .map((f) => f.digest!)
      .join(", ");
    const lines = [
      r.status === "present"
        ? `${name}: already present in ${r.dir} (nothing downloaded; --force fetches it again)`
        : `${name}: ready in ${r.dir}${verified ? ` (checksums verified: ${verified})` : " (no published checksum to verify)"}`,
      spec.loader
        ? `load it with loadDataset("${spec.loader}"${str(flags, "dir") ? `, { dataDir: ${JSON.stringify(r.dir)} }` : ""})`
        : `image folders, which training does not read; \`senet-lab eval <model> --weights DIR --data ${r.dir}/val\` scores a model on them (--classes FILE for a 1000-class model)`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};

const listCommand: CommandSpec = {
  name: "list",
  summary: "Show each downloadable dataset: size, folder, and present / absent / corrupt.",
  flags: {
    dir: dirFlag,
    json: { type: "boolean", description: "Print the rows as JSON." },
  },
  run: async (flags) => {
    const { listDatasets, formatDatasetList } = await import("../data/get.js");
    const rows = listDatasets({ dir: str(flags, "dir") ?? null });
    process.stdout.write(
      flags.json === true ? `${JSON.stringify(rows, null, 2)}\n` : `${formatDatasetList(rows)}\n`,
    );
    return 0;
  },
};

/** The data command group. */
export const dataCommand: CommandSpec = {
  name: "data",
  summary: "Download datasets (verified, resumable, with progress) and list what is here.",
  subcommands: [getCommand, listCommand],
};
