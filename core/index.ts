/**
 * The provider-agnostic core's public API (the package's main entry). Re-exports only; no logic.
 */
export * from './errors';
export * from './ports';
export * from './progress';
export * from './schema/lgsr';
export * from './schema/quarantine';
export { ingest, type IngestOptions, type IngestSummary } from './lake/ingest';
export { generateLgsr } from './generator/generator';
export { Lake, type LakeManifest } from './lake/lake';
export { pullLake, pushLake } from './lake/lake-sync';
export { readGoldBaskets } from './lake/gold-reader';
export { basketBatchFromBaskets, type BasketBatch } from './features/basket-batch';
export { BasketFeatures, featureMatrix } from './features/compute';
export { fitPriceTiers, tierRuleLabel, type PriceTiers } from './features/price-tiers';
export { FEATURE_SPEC, FEATURE_NAMES, FEATURE_COUNT } from './features/spec';
export { fitFeatureStatistics, statisticsFromDocument, statisticsToDocument, type FeatureStatistics } from './features/statistics';
export { heldOutFeatures, outOfFoldFeatures } from './features/training-matrix';
export { defaultTimeSplit } from './training/port';
export { createInProcessTrainingBackend, trainInProcess } from './training/in-process';
export { exportOnnx } from './onnx/export';
export { readOnnxMetadata, assertFeatureSpec } from './onnx/metadata';
export * from './evaluation/index';
export * from './registry/index';
