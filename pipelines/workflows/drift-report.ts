import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC } from '../../core/features/spec';
import { heldOutFeatures } from '../../core/features/training-matrix';
import { writeFileAtomically } from '../../core/files/write-atomically';
import { readGoldBaskets } from '../../core/lake/gold-reader';
import type { Lake } from '../../core/lake/lake';
import { computeDrift, DRIFT_REPORT_EVENT, type DriftResult, type FeatureDrift } from '../../core/monitoring/drift';
import { renderDriftReport } from '../../core/monitoring/drift-report';
import { readShippedPredictions, type ShippedPredictions } from '../../core/monitoring/prediction-log-reader';
import { round6 } from '../../core/monitoring/prediction-segments';
import { createRowScorer } from '../../core/onnx/row-scorer';
import type { ModelRegistry } from '../../core/registry/port';
import { loadRegisteredModel, type RegisteredModel } from '../../core/registry/registered-model';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';
import type { ObjectStorage } from '../../core/storage/port';
import { argmaxRows } from '../../core/training/trees/tree-scores';
import type { ServerLogger } from '../../server/logger';

export interface DriftOptions {
  readonly registry: ModelRegistry;
  /** The model whose evaluation weeks are the reference. */
  readonly model: string;
  /** The lake holding those weeks, readable here. */
  readonly lake: Lake;
  /** Where the lake lives, for the report. @default lake.root */
  readonly lakeLocation?: string;
  /** Where the shipped prediction log is: object storage, the key prefix of its segments, and a location for messages. */
  readonly predictions: { readonly storage: ObjectStorage; readonly prefix: string; readonly location: string };
  /** Only predictions logged at or after this time. */
  readonly since?: Date;
  /** Where to write the HTML report. */
  readonly report?: string;
  /** Gets one `drift.report` event (warn when a feature drifted), for log-based alerts. @default no event */
  readonly logger?: ServerLogger;
  /** The environment the event names. @default 'local' */
  readonly environment?: string;
}

export interface DriftSummary {
  readonly modelVersion: string;
  readonly referenceWeeks: readonly number[];
  readonly referenceBaskets: number;
  readonly predictions: number;
  /** Records of another feature spec (not comparable), skipped. */
  readonly skipped: number;
  /** Segments read. */
  readonly files: number;
  readonly from?: string;
  readonly to?: string;
  readonly maxPsi: number;
  readonly maxPsiFeature?: string;
  readonly classPsi: number;
  /** Features (and `predicted class`) above the threshold. */
  readonly drifted: readonly string[];
  /** The ten largest. */
  readonly features: readonly FeatureDrift[];
  readonly report?: string;
}

/** The baskets a model was evaluated on, featurised with its statistics and scored by it: the drift reference. */
export interface DriftReference {
  readonly weeks: readonly number[];
  readonly rows: number;
  /** rows × FEATURE_COUNT, rounded as the log rounds (6 decimals), so equal values stay equal. */
  readonly values: Float32Array;
  readonly predicted: Int32Array;
}

/** The drift reference of a loaded model from its evaluation weeks in `lake`. */
export async function driftReference(loaded: RegisteredModel, lake: Lake): Promise<DriftReference> {
  const weeks = loaded.version.lineage.evaluationWeeks;
  const { batch } = await readGoldBaskets(lake, weeks);
  const rows = Int32Array.from({ length: batch.size }, (_, index) => index);
  const values = heldOutFeatures(loaded.statistics, batch, rows);
  const scorer = await createRowScorer(loaded.bytes, FEATURE_COUNT);
  try {
    const probabilities = batch.size > 0 ? await scorer.score(values, batch.size) : new Float32Array(0);
    // scored at full precision, binned as the log stores values
    return { weeks, rows: batch.size, values: values.map(round6), predicted: argmaxRows(probabilities, batch.size, PRICE_SENSITIVITY_CLASSES.length) };
  } finally {
    await scorer.release();
  }
}

/** PSI of every feature and of the predicted classes between the reference and shipped predictions. */
export function driftAgainst(reference: DriftReference, current: ShippedPredictions, threshold?: number): DriftResult {
  return computeDrift({
    featureNames: FEATURE_NAMES,
    classLabels: PRICE_SENSITIVITY_CLASSES,
    reference: { values: reference.values, rows: reference.rows, predicted: reference.predicted },
    current: { values: current.features, rows: current.rows, predicted: current.predicted, weights: current.weights },
    threshold,
  });
}

/** Reads the shipped predictions of the feature spec this code computes. */
export function readPredictions(storage: ObjectStorage, prefix: string, window: { readonly since?: number; readonly until?: number }): Promise<ShippedPredictions> {
  return readShippedPredictions(storage, {
    prefix,
    ...window,
    featureSpecVersion: FEATURE_SPEC.version,
    featureCount: FEATURE_COUNT,
    classes: PRICE_SENSITIVITY_CLASSES,
  });
}

/**
 * Drift of what the API has been scoring (its shipped prediction log) against the baskets the model
 * was evaluated on: PSI per feature and of the predicted classes, and an HTML report.
 */
export async function driftReport(options: DriftOptions): Promise<DriftSummary> {
  const loaded = await loadRegisteredModel(options.registry, options.model);
  const reference = await driftReference(loaded, options.lake);
  const { storage, prefix, location } = options.predictions;
  const logged = await readPredictions(storage, prefix, { since: options.since?.getTime() });
  if (logged.rows === 0) {
    throw new Error(`no predictions of feature spec ${FEATURE_SPEC.version} in ${location}${options.since ? ` since ${options.since.toISOString()}` : ''} (${logged.segments} segments read)`);
  }
  const drift = driftAgainst(reference, logged);
  let report: string | undefined;
  if (options.report) {
    report = path.resolve(options.report);
    await fs.mkdir(path.dirname(report), { recursive: true });
    await writeFileAtomically(
      report,
      renderDriftReport({
        drift,
        modelVersion: loaded.version.id,
        reference: `the model's evaluation weeks ${reference.weeks.join(', ')} in ${options.lakeLocation ?? options.lake.root} (${reference.rows.toLocaleString('en-US')} baskets)`,
        current: `${logged.rows.toLocaleString('en-US')} predictions logged ${logged.from ?? '?'} … ${logged.to ?? '?'} in ${location}`,
        sampledShare: logged.rows > 0 ? logged.sampled / logged.rows : 0,
        generatedAt: new Date().toISOString(),
      }),
    );
  }
  const summary: DriftSummary = {
    modelVersion: loaded.version.id,
    referenceWeeks: reference.weeks,
    referenceBaskets: reference.rows,
    predictions: logged.rows,
    skipped: logged.skipped,
    files: logged.segments,
    ...(logged.from ? { from: logged.from, to: logged.to } : {}),
    maxPsi: drift.maxPsi,
    ...(drift.maxPsiFeature ? { maxPsiFeature: drift.maxPsiFeature } : {}),
    classPsi: drift.classes.psi,
    drifted: drift.drifted,
    features: drift.features.slice(0, 10),
    ...(report ? { report } : {}),
  };
  options.logger?.log(summary.drifted.length > 0 ? 'warn' : 'info', DRIFT_REPORT_EVENT, {
    environment: options.environment ?? 'local',
    modelVersion: summary.modelVersion,
    maxPsi: summary.maxPsi,
    maxPsiFeature: summary.maxPsiFeature ?? null,
    classPsi: summary.classPsi,
    predictions: summary.predictions,
    driftedFeatures: summary.drifted.length,
    drifted: summary.drifted,
  });
  return summary;
}
