/**
 * The `feature-statistics.json` artifact a model version ships with (the fitted statistics behind its
 * learned features), read and checked for the shape the feature function reads.
 */
import { priceTiersDocumentProblems } from './price-tiers';
import { PRICE_LEVELS, STATISTICS_LEVELS, statisticsFromDocument, type FeatureStatistics, type FeatureStatisticsDocument } from './statistics';
import { RetailMlopsError } from '../errors';
import { ARTIFACT_NAMES } from '../registry/types';
import { PRICE_SENSITIVITY_CLASSES } from '../schema/lgsr';

/** A model's `feature-statistics.json` is not JSON, or not the shape the feature function reads. */
export class StatisticsArtifactError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('STATISTICS_ARTIFACT_INVALID', message, options);
  }
}

/**
 * The statistics of an artifact's bytes.
 * @throws StatisticsArtifactError describing every problem found
 */
export function parseStatisticsArtifact(bytes: Uint8Array): FeatureStatistics {
  const classCount = PRICE_SENSITIVITY_CLASSES.length;
  let document: FeatureStatisticsDocument;
  try {
    document = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as FeatureStatisticsDocument;
  } catch (error) {
    throw new StatisticsArtifactError(`${ARTIFACT_NAMES.featureStatistics} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const problems: string[] = [];
  const isNumbers = (value: unknown, multipleOf = 1): boolean =>
    Array.isArray(value) && value.length % multipleOf === 0 && value.every((item) => typeof item === 'number' && Number.isFinite(item));
  if (typeof document !== 'object' || document === null) {problems.push('it is not an object');} else {
    if (document.formatVersion !== 2) problems.push(`formatVersion is ${JSON.stringify(document.formatVersion)}, expected 2`);
    if (!isNumbers(document.prior) || document.prior.length !== classCount) problems.push(`prior must be ${classCount} numbers`);
    if (typeof document.smoothing !== 'number' || !(document.smoothing >= 0)) problems.push('smoothing must be a number ≥ 0');
    for (const level of STATISTICS_LEVELS) {
      if (!isNumbers(document.classCounts?.[level], classCount)) problems.push(`classCounts.${level} must be numbers, ${classCount} per code`);
    }
    for (const level of PRICE_LEVELS) {
      if (!isNumbers(document.priceSums?.[level])) problems.push(`priceSums.${level} must be numbers`);
      if (!isNumbers(document.priceCounts?.[level])) problems.push(`priceCounts.${level} must be numbers`);
    }
    problems.push(...priceTiersDocumentProblems(document.priceTiers));
  }
  if (problems.length > 0) throw new StatisticsArtifactError(`${ARTIFACT_NAMES.featureStatistics} is malformed: ${problems.join('; ')}`);
  return statisticsFromDocument(document);
}
