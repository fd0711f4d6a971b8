/**
 * The package's public surface. The root ("senet-lab") exports exactly the names pinned below, so
 * a change to it is deliberate (edit the list, src/index.ts and README "Library API" together);
 * every name a committed notebook imports must be among them; and every subpath in package.json
 * "exports" resolves through the package name, with Node's resolver and with vitest's.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as root from "senet-lab";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/util/fs.js";

/** The root's runtime exports (values: functions, classes, constants, `tf`), sorted. */
const ROOT_VALUES = [
  "ARCHS",
  "ATTENTION_TYPES",
  "BACKEND_CHOICES",
  "BackendUnavailableError",
  "ConfigError",
  "CorruptFileError",
  "DATASET_NAMES",
  "DEFAULT_ALPHA",
  "DEFAULT_POWER",
  "DatasetError",
  "EXCITATION_TYPES",
  "InternalError",
  "LAYOUT_NAMES",
  "ModelFileError",
  "NotebookError",
  "OutputPathError",
  "PRECISIONS",
  "PRESETS",
  "PRESET_NAMES",
  "PUBLISHED_CHECKPOINTS",
  "SCHEDULES",
  "SQUEEZE_TYPES",
  "SenetLabError",
  "SpatialGroupEnhance",
  "SqueezeExcite",
  "TRAINING_PRESETS",
  "WeightFileError",
  "WeightMismatchError",
  "addPaperColumn",
  "attentionLayers",
  "barPlot",
  "batchCount",
  "bf16Support",
  "binomialInterval",
  "buildMobileNetV1",
  "buildModel",
  "buildPreactResNetCifar",
  "buildResNeXt",
  "buildResNet",
  "buildResNetCifar",
  "compareVariants",
  "countComplexity",
  "createAttention",
  "createModel",
  "currentBackend",
  "curvePlot",
  "dataRoot",
  "defaultWeightsDir",
  "describeBackend",
  "describeResolution",
  "evaluateClassifier",
  "expandSweep",
  "exportPretrained",
  "findCheckpointFile",
  "fmtFixed",
  "fmtSigned",
  "formatSummary",
  "frameFromRows",
  "frameRows",
  "getPrecision",
  "incompleteBeta",
  "initBackend",
  "iterateBatches",
  "labelledRows",
  "learningRate",
  "listModels",
  "loadCurves",
  "loadDataset",
  "loadModel",
  "loadPretrained",
  "loadSweep",
  "makeSgdStep",
  "mean",
  "metricPlot",
  "minimumDetectableEffect",
  "modelOverridesOf",
  "notebookSweepRoot",
  "openImageFolder",
  "pivot",
  "presetConfig",
  "printVerdicts",
  "readGates",
  "readRun",
  "requestedBackend",
  "resolveExperimentConfig",
  "resolveModelConfig",
  "resolvePreset",
  "resolveSweepSpec",
  "runExperiment",
  "runSweep",
  "sampleStd",
  "saveModel",
  "savePlotHtml",
  "saveTable",
  "seedsPerArm",
  "setPrecision",
  "showPlot",
  "showTable",
  "startNotebook",
  "studentTTwoSidedP",
  "summarize",
  "sweepStatus",
  "sweepTable",
  "sweepsRoot",
  "tf",
  "timeCalls",
  "timingStats",
  "twoSampleTTestPower",
  "valuesOf",
  "variantErrorBars",
  "variantRows",
  "verdict",
  "welchTest",
];

/** The root's type-only exports (interfaces and type aliases), sorted. */
const ROOT_TYPES = [
  "Arch",
  "AttentionLayerInfo",
  "AttentionOptions",
  "AttentionType",
  "BackendChoice",
  "BackendInfo",
  "BackendName",
  "Batch",
  "BatchOptions",
  "Bf16Support",
  "BuildOptions",
  "CompareOptions",
  "ComplexityReport",
  "CurvePlotOptions",
  "Dataset",
  "DatasetName",
  "EpochRecord",
  "EvalResult",
  "EvaluateOptions",
  "ExcitationType",
  "ExperimentConfig",
  "ExportPretrainedOptions",
  "FormatOptions",
  "GateReadout",
  "ImageFolderDataset",
  "ImageSplit",
  "Lab",
  "LayerComplexity",
  "LayoutName",
  "LoadDatasetOptions",
  "LoadPretrainedOptions",
  "MeasurePlan",
  "ModelConfig",
  "ModelConfigKey",
  "NotebookSweepSpec",
  "PaperValue",
  "PivotOptions",
  "PlotlyFigure",
  "Precision",
  "PresetName",
  "PresetSpec",
  "PretrainedModel",
  "PublishedCheckpoint",
  "RawExperimentConfig",
  "RawModelConfig",
  "Resolution",
  "ResolutionInput",
  "ResolvedPreset",
  "RunOptions",
  "RunRecord",
  "RunState",
  "RunStatus",
  "RunSummary",
  "RunSweepOptions",
  "ScheduleName",
  "SgdStep",
  "SgdStepOptions",
  "SpatialGroupEnhanceArgs",
  "SplitName",
  "SqueezeExciteArgs",
  "SqueezeType",
  "StartNotebookOptions",
  "SummarizeOptions",
  "SummaryPlotOptions",
  "SweepResult",
  "SweepRun",
  "SweepRunOutcome",
  "SweepSpec",
  "SweepStatus",
  "SweepTable",
  "SweepTableOptions",
  "TimingStats",
  "TrainConfig",
  "UsedRun",
  "VariantRow",
  "WelchTest",
];

const PKG = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
};
/** Subpaths of the exports map that are modules ("./sweep" → "sweep"), package.json aside. */
const SUBPATHS = Object.keys(PKG.exports)
  .filter((k) => k !== "." && k !== "./package.json")
  .map((k) => k.slice(2));
const targetOf = (key: string): string => {
  const t = PKG.exports[key];
  return typeof t === "string" ? t : t!.default;
};

/** Names added to / missing from an expected sorted list, for a readable failure. */
function diff(actual: string[], expected: string[]): { added: string[]; removed: string[] } {
  return {
    added: actual.filter((n) => !expected.includes(n)),
    removed: expected.filter((n) => !actual.includes(n)),
  };
}

/** One name a notebook imports from the package. */
interface NotebookImport {
  notebook: string;
  /** "" for the root, else the subpath ("sweep"). */
  subpath: string;
  name: string;
  typeOnly: boolean;
}

/**
 * Every name the committed notebooks' code cells import from "senet-lab" or a subpath: static
 * `import { a, type B, c as d } from "senet-lab"`, `import type { ... }` and destructured dynamic
 * `const { a } = await import("senet-lab")`. Any other mention of the package in code (a namespace
 * import, a bare `import("senet-lab")`) is returned in `unparsed`, so the test cannot pass by
 * failing to see an import.
 */
function notebookImports(): { imports: NotebookImport[]; unparsed: string[] } {
  const dir = path.join(PROJECT_ROOT, "notebooks");
  const imports: NotebookImport[] = [];
  const unparsed: string[] = [];
  const forms = [
    /import\s+(type\s+)?\{([^}]*)\}\s*from\s*["']senet-lab(?:\/([\w-]+))?["']\s*;?/g,
    /(?:const|let|var)\s*\{([^}]*)\}\s*=\s*await\s+import\(\s*["']senet-lab(?:\/([\w-]+))?["']\s*\)\s*;?/g,
  ];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb"))) {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as {
      cells: { cell_type: string; source: string | string[] }[];
    };
    for (const cell of nb.cells.filter((c) => c.cell_type === "code")) {
      let src = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
      src = src.replace(
        forms[0]!,
        (_m, allType: string | undefined, list: string, sub?: string) => {
          for (const spec of list
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)) {
            const typeOnly = Boolean(allType) || spec.startsWith("type ");
            const name = spec
              .replace(/^type\s+/, "")
              .split(/\s+as\s+/)[0]!
              .trim();
            imports.push({ notebook: file, subpath: sub ?? "", name, typeOnly });
          }
          return "";
        },
      );
      src = src.replace(forms[1]!, (_m, list: string, sub?: string) => {
        for (const spec of list
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)) {
          const name = spec.split(":")[0]!.trim();
          imports.push({ notebook: file, subpath: sub ?? "", name, typeOnly: false });
        }
        return "";
      });
      for (const line of src.split("\n")) {
        // Code only: a comment may name the package (the smoke notebook's parameters cell does).
        const code = line.replace(/\/\/.*$/, "");
        if (/["']senet-lab(\/[^"']*)?["']/.test(code)) unparsed.push(`${file}: ${line.trim()}`);
      }
    }
  }
  return { imports, unparsed };
}

/** The type-only exports of a module, by the TypeScript checker (aliases followed). */
function typeOnlyExports(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    resolveJsonModule: true,
    types: ["node"],
  });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker
    .getExportsOfModule(symbol)
    .filter((e) => {
      const target = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
      return !(target.flags & ts.SymbolFlags.Value);
    })
    .map((e) => e.name)
    .sort();
}

describe("package root (senet-lab)", () => {
  it("exports exactly the pinned runtime names", () => {
    const names = Object.keys(root).sort();
    expect(ROOT_VALUES, "ROOT_VALUES is sorted").toEqual([...ROOT_VALUES].sort());
    expect(diff(names, ROOT_VALUES)).toEqual({ added: [], removed: [] });
  });

  it("exports exactly the pinned type-only names", { timeout: 60_000 }, () => {
    const types = typeOnlyExports(path.join(PROJECT_ROOT, "src", "index.ts"));
    expect(ROOT_TYPES, "ROOT_TYPES is sorted").toEqual([...ROOT_TYPES].sort());
    expect(diff(types, ROOT_TYPES)).toEqual({ added: [], removed: [] });
  });

  it("has every name the committed notebooks import", async () => {
    const { imports, unparsed } = notebookImports();
    expect(unparsed, "imports of senet-lab in a form this test cannot read").toEqual([]);
    // The parser found the notebooks' imports (the smoke notebook and the research ones).
    expect(imports.map((i) => i.name)).toEqual(
      expect.arrayContaining(["initBackend", "showTable", "startNotebook", "tf"]),
    );
    const missing: string[] = [];
    for (const i of imports) {
      if (i.subpath === "") {
        const have = i.typeOnly ? ROOT_TYPES : Object.keys(root);
        if (!have.includes(i.name)) missing.push(`${i.notebook}: ${i.name}`);
      } else {
        const have = SUBPATHS.includes(i.subpath)
          ? Object.keys(await import(/* @vite-ignore */ `senet-lab/${i.subpath}`))
          : [];
        // A type from a subpath cannot be seen at run time; tsc checks it when the notebook runs.
        if (!i.typeOnly && !have.includes(i.name)) {
          missing.push(`${i.notebook}: ${i.name} from senet-lab/${i.subpath}`);
        }
      }
    }
    expect(missing, "names the notebooks import that the package does not export").toEqual([]);
  });
});

describe("subpath exports (senet-lab/<module>)", () => {
  it("maps the root and each subpath to a module index that exists", () => {
    expect(PKG.name).toBe("senet-lab");
    expect(targetOf(".")).toBe("./src/index.ts");
    expect(SUBPATHS.length).toBeGreaterThan(0);
    for (const sub of SUBPATHS) {
      expect(targetOf(`./${sub}`), sub).toBe(`./src/${sub}/index.ts`);
      expect(fs.existsSync(path.join(PROJECT_ROOT, "src", sub, "index.ts")), sub).toBe(true);
    }
  });

  it("lists the same subpaths in typesVersions, for tslab's Node10 type-check", () => {
    const versions = PKG.typesVersions["*"] ?? {};
    expect(Object.keys(versions).sort()).toEqual([...SUBPATHS].sort());
    for (const sub of SUBPATHS) expect(versions[sub], sub).toEqual([`src/${sub}/index.ts`]);
  });

  it("resolves each subpath with Node's resolver, and refuses deep paths", () => {
    // Node resolves a package's own name through its exports map (self-reference), as a
    // notebook's kernel and the CLI do; import.meta.resolve loads nothing.
    const script = [
      `const subs = ${JSON.stringify(["", ...SUBPATHS])};`,
      "const out = {};",
      'for (const s of subs) out[s] = import.meta.resolve(s ? "senet-lab/" + s : "senet-lab");',
      'try { import.meta.resolve("senet-lab/src/sweep/lock.js"); out.deep = "resolved"; }',
      "catch (e) { out.deep = e.code; }",
      "console.log(JSON.stringify(out));",
    ].join("\n");
    const out = JSON.parse(
      execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
      }),
    ) as Record<string, string>;
    expect(out[""]).toBe(pathToFileURL(path.join(PROJECT_ROOT, "src", "index.ts")).href);
    for (const sub of SUBPATHS) {
      expect(out[sub], sub).toBe(
        pathToFileURL(path.join(PROJECT_ROOT, "src", sub, "index.ts")).href,
      );
    }
    expect(out.deep).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  it("imports each subpath through the package name (vitest resolves the self-reference)", async () => {
    for (const sub of SUBPATHS) {
      const viaName = (await import(/* @vite-ignore */ `senet-lab/${sub}`)) as Record<
        string,
        unknown
      >;
      const direct = (await import(
        /* @vite-ignore */ pathToFileURL(path.join(PROJECT_ROOT, "src", sub, "index.ts")).href
      )) as Record<string, unknown>;
      expect(Object.keys(viaName).length, sub).toBeGreaterThan(0);
      expect(Object.keys(viaName).sort(), sub).toEqual(Object.keys(direct).sort());
      // The same module instance, not a second copy (e.g. through node_modules/senet-lab).
      const first = Object.keys(direct)[0]!;
      expect(viaName[first], `${sub}.${first}`).toBe(direct[first]);
    }
  });
});
