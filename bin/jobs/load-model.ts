import { FEATURE_SPEC } from '../../core/features/spec';
import { statisticsFromDocument, type FeatureStatistics, type FeatureStatisticsDocument } from '../../core/features/statistics';
import { assertFeatureSpec, readOnnxMetadata, type OnnxModelInfo } from '../../core/onnx/metadata';
import type { ModelRegistry } from '../../core/registry/port';
import { ARTIFACT_NAMES, type ModelVersion } from '../../core/registry/types';
import type { FeatureImportance } from '../../core/training/contract';

/** A registered model ready to score: its bytes, fitted statistics, and what it says about itself. */
export interface LoadedModel {
  readonly version: ModelVersion;
  readonly bytes: Uint8Array;
  readonly info: OnnxModelInfo;
  readonly statistics: FeatureStatistics;
  readonly featureImportance: readonly FeatureImportance[];
}

/** Loads a version (id, #n or alias) and refuses it when its features are not this code's. */
export async function loadModel(registry: ModelRegistry, reference: string): Promise<LoadedModel> {
  const version = await registry.get(reference);
  const bytes = await registry.getModelBytes(version.id);
  const info = readOnnxMetadata(bytes);
  assertFeatureSpec(info, { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash });
  const document = JSON.parse(Buffer.from(await registry.getArtifact(version.id, ARTIFACT_NAMES.featureStatistics)).toString('utf8')) as FeatureStatisticsDocument;
  let featureImportance: FeatureImportance[] = [];
  if (version.artifacts.some((artifact) => artifact.name === 'feature-importance.json')) {
    featureImportance = JSON.parse(Buffer.from(await registry.getArtifact(version.id, 'feature-importance.json')).toString('utf8')) as FeatureImportance[];
  }
  return { version, bytes, info, statistics: statisticsFromDocument(document), featureImportance };
}
