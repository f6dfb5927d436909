/**
 * The one loader of a registered model, for every reader: the workflows that score with it
 * (evaluate, gate, batch scoring, drift, monitor) and the server that serves it. It fetches the
 * version's files from the registry (which checks them against their sha256) and refuses a model
 * this code cannot compute features for: its ONNX metadata must name this code's feature spec (hash),
 * feature names and classes, and its `feature-statistics.json` must have the shape the feature
 * function reads. Two steps, so the server can tell a registry that failed from a model it refused.
 */
import { RetailMlopsError } from '../errors';
import type { ModelRegistry } from './port';
import { ARTIFACT_NAMES, type ModelVersion } from './types';
import { FEATURE_COUNT, FEATURE_SPEC } from '../features/spec';
import type { FeatureStatistics } from '../features/statistics';
import { parseStatisticsArtifact } from '../features/statistics-artifact';
import { assertFeatureSpec, readOnnxMetadata, type OnnxModelInfo } from '../onnx/metadata';
import { PRICE_SENSITIVITY_CLASSES } from '../schema/lgsr';
import type { FeatureImportance } from '../training/port';

/** A model whose features or classes are not this code's (a model of another feature spec, or of other labels). */
export class IncompatibleModelError extends RetailMlopsError {
  constructor(readonly versionId: string, reason: string) {
    super('MODEL_INCOMPATIBLE', reason);
  }
}

/** A version's files as the registry holds them, not yet checked against this code. */
export interface RegisteredModelFiles {
  readonly version: ModelVersion;
  /** The ONNX model. */
  readonly model: Uint8Array;
  /** `feature-statistics.json`. */
  readonly featureStatistics: Uint8Array;
  /** `feature-importance.json`, when the version has one (models registered before it was written have none). */
  readonly featureImportance?: Uint8Array;
}

/** A registered model, checked and ready to score. */
export interface RegisteredModel {
  readonly version: ModelVersion;
  /** The ONNX model. */
  readonly bytes: Uint8Array;
  /** What the ONNX metadata says about the model. */
  readonly info: OnnxModelInfo;
  /** The fitted statistics, parsed. */
  readonly statistics: FeatureStatistics;
  /** `feature-statistics.json` as stored (what worker threads parse for themselves). */
  readonly statisticsArtifact: Uint8Array;
  /** Empty when the version has no `feature-importance.json`. */
  readonly featureImportance: readonly FeatureImportance[];
}

/**
 * The files of a version (id, #n or alias), each checked against its hash by the registry.
 * @throws the registry's errors (ModelVersionNotFoundError, AliasNotFoundError, ArtifactNotFoundError, RegistryCorruptError, …)
 */
export async function fetchModelFiles(registry: ModelRegistry, reference: string): Promise<RegisteredModelFiles> {
  const version = await registry.get(reference);
  const hasImportance = version.artifacts.some((artifact) => artifact.name === ARTIFACT_NAMES.featureImportance);
  const [model, featureStatistics, featureImportance] = await Promise.all([
    registry.getModelBytes(version.id),
    registry.getArtifact(version.id, ARTIFACT_NAMES.featureStatistics),
    hasImportance ? registry.getArtifact(version.id, ARTIFACT_NAMES.featureImportance) : undefined,
  ]);
  return { version, model, featureStatistics, ...(featureImportance ? { featureImportance } : {}) };
}

/**
 * Checks the files against this code: feature spec (hash), feature names, classes, the statistics' shape.
 * @throws FeatureSpecMismatchError · IncompatibleModelError · OnnxModelError · StatisticsArtifactError
 */
export function checkModelFiles(files: RegisteredModelFiles): RegisteredModel {
  const { version } = files;
  const info = readOnnxMetadata(files.model);
  assertFeatureSpec(info, FEATURE_SPEC);
  if (info.featureNames.length !== FEATURE_COUNT || info.featureNames.some((name, index) => name !== FEATURE_SPEC.names[index])) {
    throw new IncompatibleModelError(version.id, `the model's feature names differ from feature spec ${FEATURE_SPEC.version}`);
  }
  if (info.classLabels.length !== PRICE_SENSITIVITY_CLASSES.length || info.classLabels.some((label, index) => label !== PRICE_SENSITIVITY_CLASSES[index])) {
    throw new IncompatibleModelError(version.id, `the model's classes are ${JSON.stringify(info.classLabels)}, expected ${JSON.stringify(PRICE_SENSITIVITY_CLASSES)}`);
  }
  const statistics = parseStatisticsArtifact(files.featureStatistics);
  const featureImportance = files.featureImportance
    ? (JSON.parse(Buffer.from(files.featureImportance).toString('utf8')) as FeatureImportance[])
    : [];
  return { version, bytes: files.model, info, statistics, statisticsArtifact: files.featureStatistics, featureImportance };
}

/**
 * Loads a version (id, #n or alias) and refuses it when this code cannot compute its features.
 * @throws what fetchModelFiles and checkModelFiles throw
 */
export async function loadRegisteredModel(registry: ModelRegistry, reference: string): Promise<RegisteredModel> {
  return checkModelFiles(await fetchModelFiles(registry, reference));
}
