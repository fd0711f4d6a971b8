/**
 * senet-lab: Squeeze-and-Excitation and Spatial Group-wise Enhance for TensorFlow.js.
 * The package root is the curated public API: what notebooks and users call, listed by name
 * (README "Library API"; test/api/surface.test.ts pins the list). A module's complete index,
 * internals included, is its subpath: senet-lab/backend, /bench, /data, /models, /pretrained,
 * /report, /sweep, /train (package.json "exports"). One group per module (biome keeps them in module
 * order), one name per line, sorted.
 */
import * as tf from "@tensorflow/tfjs";

// Backend selection (SENET_LAB_BACKEND, "auto" = fastest that loads).
export {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  type Bf16Support,
  bf16Support,
  currentBackend,
  describeBackend,
  getPrecision,
  initBackend,
  PRECISIONS,
  type Precision,
  requestedBackend,
  setPrecision,
} from "./backend/index.js";
// Timing: a compiled SGD step and timed calls, for throughput measurements in notebooks.
export {
  type MeasurePlan,
  makeSgdStep,
  type SgdStep,
  type SgdStepOptions,
  type TimingStats,
  timeCalls,
  timingStats,
} from "./bench/index.js";
// Complexity: trainable parameters and multiply-adds by the papers' conventions.
export {
  type ComplexityReport,
  countComplexity,
  type LayerComplexity,
} from "./complexity/index.js";
// Datasets: names, loading with splits, batch streaming.
export {
  type Batch,
  type BatchOptions,
  batchCount,
  DATASET_NAMES,
  type Dataset,
  type DatasetName,
  dataRoot,
  type ImageFolderDataset,
  type ImageSplit,
  iterateBatches,
  type LoadDatasetOptions,
  loadDataset,
  openImageFolder,
  type SplitName,
} from "./data/index.js";
// Errors: every error raised on bad input is a SenetLabError subclass.
export {
  BackendUnavailableError,
  ConfigError,
  CorruptFileError,
  DatasetError,
  InternalError,
  NotebookError,
  OutputPathError,
  SenetLabError,
} from "./errors.js";
// Evaluation: top-1 / top-5 of a classifier on an image folder (ImageNet-val), streamed.
export {
  type EvalResult,
  type EvaluateOptions,
  evaluateClassifier,
} from "./eval/index.js";
// Notebook sessions: startNotebook and lab.sweep, the training presets, the sweeps' folders.
export {
  type Lab,
  labelledRows,
  type NotebookSweepSpec,
  notebookSweepRoot,
  PRESET_NAMES,
  type PresetName,
  type PresetSpec,
  type ResolvedPreset,
  resolvePreset,
  type StartNotebookOptions,
  startNotebook,
  sweepsRoot,
  TRAINING_PRESETS,
  type UsedRun,
} from "./experiments/index.js";
// Model files: save and load a tfjs model folder (model.json + weights.bin, checksummed).
export {
  loadModel,
  ModelFileError,
  saveModel,
} from "./io/index.js";
// Attention layers: SE and SGE, their arguments, createAttention and the gate read-out.
export {
  ATTENTION_TYPES,
  type AttentionLayerInfo,
  type AttentionOptions,
  type AttentionType,
  attentionLayers,
  createAttention,
  EXCITATION_TYPES,
  type ExcitationType,
  type GateReadout,
  readGates,
  SpatialGroupEnhance,
  type SpatialGroupEnhanceArgs,
  SQUEEZE_TYPES,
  SqueezeExcite,
  type SqueezeExciteArgs,
  type SqueezeType,
} from "./layers/index.js";
// Model zoo: named presets, model configs and the builders per architecture.
export {
  ARCHS,
  type Arch,
  type BuildOptions,
  buildMobileNetV1,
  buildModel,
  buildPreactResNetCifar,
  buildResNet,
  buildResNetCifar,
  buildResNeXt,
  createModel,
  listModels,
  type ModelConfig,
  type ModelConfigKey,
  PRESETS,
  presetConfig,
  type RawModelConfig,
  resolveModelConfig,
} from "./models/index.js";
// Pretrained weights: PyTorch checkpoints (safetensors, .pth) in and out, under torchvision / timm / Caffe SENet / PytorchInsight key names.
export {
  defaultWeightsDir,
  type ExportPretrainedOptions,
  exportPretrained,
  findCheckpointFile,
  LAYOUT_NAMES,
  type LayoutName,
  type LoadPretrainedOptions,
  loadPretrained,
  type PretrainedModel,
  PUBLISHED_CHECKPOINTS,
  type PublishedCheckpoint,
  WeightFileError,
  WeightMismatchError,
} from "./pretrained/index.js";
// Report: statistics and power (Welch, MDE), tables over seeds (danfojs), Plotly charts.
export {
  addPaperColumn,
  barPlot,
  binomialInterval,
  type CompareOptions,
  type CurvePlotOptions,
  compareVariants,
  curvePlot,
  DEFAULT_ALPHA,
  DEFAULT_POWER,
  describeResolution,
  type FormatOptions,
  fmtFixed,
  fmtSigned,
  formatSummary,
  frameFromRows,
  frameRows,
  incompleteBeta,
  loadCurves,
  loadSweep,
  mean,
  metricPlot,
  minimumDetectableEffect,
  type PivotOptions,
  type PlotlyFigure,
  pivot,
  printVerdicts,
  type Resolution,
  type ResolutionInput,
  type SummarizeOptions,
  type SummaryPlotOptions,
  type SweepTable,
  type SweepTableOptions,
  sampleStd,
  savePlotHtml,
  saveTable,
  seedsPerArm,
  showPlot,
  showTable,
  studentTTwoSidedP,
  summarize,
  sweepTable,
  twoSampleTTestPower,
  type VariantRow,
  valuesOf,
  variantErrorBars,
  variantRows,
  verdict,
  type WelchTest,
  welchTest,
} from "./report/index.js";
// Sweeps: validate and expand a spec, run it (resumable, parallel), read its status.
export {
  expandSweep,
  type PaperValue,
  type RunState,
  type RunStatus,
  type RunSweepOptions,
  resolveSweepSpec,
  runSweep,
  type SweepResult,
  type SweepRun,
  type SweepRunOutcome,
  type SweepSpec,
  type SweepStatus,
  sweepStatus,
} from "./sweep/index.js";
// Training: experiment configs, the training run (checkpoints, resume) and reading runs back.
export {
  type EpochRecord,
  type ExperimentConfig,
  learningRate,
  modelOverridesOf,
  type RawExperimentConfig,
  type RunOptions,
  type RunRecord,
  type RunSummary,
  readRun,
  resolveExperimentConfig,
  runExperiment,
  SCHEDULES,
  type ScheduleName,
  type TrainConfig,
} from "./train/index.js";
// tfjs: the single @tensorflow/tfjs instance the library uses; import it from here in notebooks.
export { tf };
