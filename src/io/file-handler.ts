/**
 * A Node file IOHandler for tfjs models (tfjs's file:// handler ships only with tfjs-node, which
 * cannot install here). A model is a folder holding model.json (topology, weight manifest) and
 * weights.bin (all weights, concatenated). Each file is written atomically (temp + fsync +
 * rename, src/util/fs.ts), weights first; model.json records the weights' byte length and
 * SHA-256, so a save killed between the two renames is detected on load instead of silently
 * pairing a topology with other weights. A model.json written by another tfjs handler (no
 * checksum fields; weight files named by its manifest, e.g. group1-shard1of1.bin) loads too, with
 * nothing to verify; every load error names the file it concerns.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { quote, SenetLabError } from "../errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
// Loading a model must find the custom layers: importing them registers their classes.
import "../layers/index.js";

/** File name of the topology + manifest inside a model folder. */
export const MODEL_JSON = "model.json";
/** File name of the concatenated weights inside a model folder. */
export const WEIGHTS_BIN = "weights.bin";

/** A model folder is missing, incomplete, or its files do not belong together. */
export class ModelFileError extends SenetLabError {}

/** model.json as written here: tfjs's ModelJSON plus the weights' length and checksum (absent in files of other handlers). */
interface StoredModelJSON extends tf.io.ModelJSON {
  /** SHA-256 (hex) of weights.bin as written by the same save. */
  weightsSha256?: string;
  /** Byte length of weights.bin. */
  weightsBytes?: number;
}

/**
 * The weight files a manifest names, resolved inside `dir` (tfjs's relative paths, e.g.
 * "./weights.bin" or "group1-shard1of1.bin"); a path leaving the folder is refused, naming it.
 */
function weightFiles(
  dir: string,
  jsonPath: string,
  manifest: tf.io.WeightsManifestConfig,
): string[] {
  const files: string[] = [];
  for (const group of manifest) {
    for (const p of group.paths ?? []) {
      const abs = path.resolve(dir, p);
      if (path.relative(dir, abs).startsWith("..") || path.isAbsolute(path.relative(dir, abs))) {
        throw new ModelFileError(
          `${quote(jsonPath)} names weight file ${quote(p)} outside its folder ${quote(dir)}`,
        );
      }
      files.push(abs);
    }
  }
  // Our own saves list ./weights.bin; a manifest naming no file at all means the same.
  return files.length > 0 ? files : [path.join(dir, WEIGHTS_BIN)];
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** An IOHandler that saves to / loads from the folder `dir` (created on save). */
export function fileHandler(dir: string): tf.io.IOHandler {
  const jsonPath = path.join(dir, MODEL_JSON);
  const binPath = path.join(dir, WEIGHTS_BIN);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new ModelFileError("fileHandler saves JSON model topologies only (tfjs LayersModel)");
      }
      const weights = new Uint8Array(
        artifacts.weightData === undefined
          ? new ArrayBuffer(0)
          : tf.io.CompositeArrayBuffer.join(artifacts.weightData),
      );
      const json: StoredModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        weightsSha256: sha256(weights),
        weightsBytes: weights.byteLength,
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature) json.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.modelInitializer) json.modelInitializer = artifacts.modelInitializer;
      writeFileAtomic(binPath, weights);
      writeJsonAtomic(jsonPath, json);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      if (!fs.existsSync(jsonPath)) {
        throw new ModelFileError(`no saved model in ${quote(dir)}: ${quote(jsonPath)} is missing`);
      }
      let json: StoredModelJSON;
      try {
        json = JSON.parse(fs.readFileSync(jsonPath, "utf8")) as StoredModelJSON;
      } catch (err) {
        throw new ModelFileError(`${quote(jsonPath)} is not valid JSON`, { cause: err });
      }
      if (json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
        throw new ModelFileError(
          `${quote(jsonPath)} lacks modelTopology or weightsManifest: not a saved tfjs model`,
        );
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const files = weightFiles(dir, jsonPath, manifest);
        const parts: Buffer[] = [];
        for (const f of files) {
          if (!fs.existsSync(f)) {
            throw new ModelFileError(`${quote(f)} is missing (model.json needs it)`);
          }
          parts.push(fs.readFileSync(f));
        }
        const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        const shown =
          files.length === 1 ? quote(files[0]) : `the weight files of ${quote(jsonPath)}`;
        // Only our own saves carry a checksum; other handlers' files have nothing to verify.
        const hasChecksum = json.weightsBytes !== undefined || json.weightsSha256 !== undefined;
        if (
          hasChecksum &&
          (data.byteLength !== json.weightsBytes || sha256(data) !== json.weightsSha256)
        ) {
          throw new ModelFileError(
            `${shown} (${data.byteLength} bytes) is not the weights file ${quote(jsonPath)} was saved with (${quote(json.weightsBytes)} bytes, sha256 ${quote(json.weightsSha256)}): an interrupted or mixed save`,
          );
        }
        const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
        return [tf.io.getWeightSpecs(manifest), buffer as ArrayBuffer];
      });
    },
  };
}

/** Saves `model` (topology + weights) to the folder `dir` through fileHandler. */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  config?: tf.io.SaveConfig,
): Promise<tf.io.SaveResult> {
  return model.save(fileHandler(dir), config);
}

/**
 * Loads a LayersModel saved by saveModel or by another tfjs handler (custom SE / SGE layers
 * included). What tfjs itself rejects (an unknown layer class, a weight whose shape the topology
 * does not expect) is raised as a ModelFileError naming model.json, the cause kept.
 */
export async function loadModel(dir: string, options?: tf.io.LoadOptions): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(fileHandler(dir), options);
  } catch (err) {
    if (err instanceof SenetLabError) throw err;
    const first = (err instanceof Error ? err.message : String(err))
      .split("\n")[0]!
      .replace(/\.? This may be due to .*$/, " (neither a tfjs layer nor one senet-lab registers)");
    throw new ModelFileError(
      `${quote(path.join(dir, MODEL_JSON))} does not describe a model these weights and layers can build: ${first}`,
      { cause: err },
    );
  }
}
