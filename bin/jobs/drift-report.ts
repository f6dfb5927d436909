import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { loadModel } from './load-model';
import { readGoldBaskets } from '../../core/data/gold-reader';
import type { Lake } from '../../core/data/lake';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC } from '../../core/features/spec';
import { heldOutFeatures } from '../../core/features/training-matrix';
import { writeFileAtomically } from '../../core/files/write-atomically';
import { computeDrift, type FeatureDrift } from '../../core/monitoring/drift';
import { renderDriftReport } from '../../core/monitoring/drift-report';
import { createRowScorer } from '../../core/onnx/row-scorer';
import type { ModelRegistry } from '../../core/registry/port';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';
import { argmaxRows } from '../../core/training/trees/tree-scores';
import { round6 } from '../../server/prediction-log/sink';

export interface DriftOptions {
  readonly registry: ModelRegistry;
  /** The model whose evaluation weeks are the reference. */
  readonly model: string;
  /** The lake holding those weeks, readable here. */
  readonly lake: Lake;
  /** Where the lake lives, for the report. @default lake.root */
  readonly lakeLocation?: string;
  /** The prediction log's directory (a local copy of a cloud lake's `predictions/`). */
  readonly predictions: string;
  /** Only predictions logged at or after this time. */
  readonly since?: Date;
  /** Where to write the HTML report. */
  readonly report?: string;
}

export interface DriftSummary {
  readonly modelVersion: string;
  readonly referenceWeeks: readonly number[];
  readonly referenceBaskets: number;
  readonly predictions: number;
  /** Records of another feature spec (not comparable), skipped. */
  readonly skipped: number;
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

interface LoggedPredictions {
  readonly values: Float32Array;
  readonly predicted: Uint8Array;
  readonly rows: number;
  readonly skipped: number;
  readonly files: number;
  readonly from?: string;
  readonly to?: string;
}

/**
 * Drift of what the API has been scoring (its prediction log) against the baskets the model was
 * evaluated on (its evaluation weeks in the lake, featurised with its statistics and scored by it):
 * PSI per feature and of the predicted classes, and an HTML report.
 */
export async function driftReport(options: DriftOptions): Promise<DriftSummary> {
  const loaded = await loadModel(options.registry, options.model);
  const lake = options.lake;
  const weeks = loaded.version.lineage.evaluationWeeks;
  const { batch } = await readGoldBaskets(lake, weeks);
  const rows = Int32Array.from({ length: batch.size }, (_, index) => index);
  const referenceValues = heldOutFeatures(loaded.statistics, batch, rows);
  // scored at full precision, binned as the log stores values (6 decimals): equal values stay equal
  const referenceLogged = referenceValues.map(round6);
  const scorer = await createRowScorer(loaded.bytes, FEATURE_COUNT);
  let referencePredicted: Int32Array;
  try {
    const probabilities = batch.size > 0 ? await scorer.score(referenceValues, batch.size) : new Float32Array(0);
    referencePredicted = argmaxRows(probabilities, batch.size, PRICE_SENSITIVITY_CLASSES.length);
  } finally {
    await scorer.release();
  }
  const directory = options.predictions;
  const logged = await readPredictionLog(directory, options.since);
  if (logged.rows === 0) {
    throw new Error(`no predictions of feature spec ${FEATURE_SPEC.version} in ${directory}${options.since ? ` since ${options.since.toISOString()}` : ''} (${logged.files} complete files read)`);
  }
  const drift = computeDrift({
    featureNames: FEATURE_NAMES,
    classLabels: PRICE_SENSITIVITY_CLASSES,
    reference: { values: referenceLogged, rows: batch.size, predicted: referencePredicted },
    current: { values: logged.values, rows: logged.rows, predicted: logged.predicted },
  });
  let report: string | undefined;
  if (options.report) {
    report = path.resolve(options.report);
    await fs.mkdir(path.dirname(report), { recursive: true });
    await writeFileAtomically(
      report,
      renderDriftReport({
        drift,
        modelVersion: loaded.version.id,
        reference: `the model's evaluation weeks ${weeks.join(', ')} in ${options.lakeLocation ?? lake.root} (${batch.size.toLocaleString('en-US')} baskets)`,
        current: `${logged.rows.toLocaleString('en-US')} predictions logged ${logged.from ?? '?'} … ${logged.to ?? '?'} in ${path.resolve(directory)}`,
        generatedAt: new Date().toISOString(),
      }),
    );
  }
  return {
    modelVersion: loaded.version.id,
    referenceWeeks: weeks,
    referenceBaskets: batch.size,
    predictions: logged.rows,
    skipped: logged.skipped,
    files: logged.files,
    ...(logged.from ? { from: logged.from, to: logged.to } : {}),
    maxPsi: drift.maxPsi,
    ...(drift.maxPsiFeature ? { maxPsiFeature: drift.maxPsiFeature } : {}),
    classPsi: drift.classes.psi,
    drifted: drift.drifted,
    features: drift.features.slice(0, 10),
    ...(report ? { report } : {}),
  };
}

/** The complete `.jsonl` files of the prediction log (never `.partial` ones being written). */
async function readPredictionLog(directory: string, since: Date | undefined): Promise<LoggedPredictions> {
  let names: string[];
  try {
    names = (await fs.readdir(directory)).filter((name) => name.endsWith('.jsonl')).sort();
  } catch (error) {
    throw new Error(`cannot read the prediction log ${directory}: ${(error as Error).message}`);
  }
  let values = new Float32Array(1024 * FEATURE_COUNT);
  let predicted = new Uint8Array(1024);
  let rows = 0;
  let skipped = 0;
  let from: string | undefined;
  let to: string | undefined;
  const sinceMs = since?.getTime();
  for (const name of names) {
    const lines = createInterface({ input: createReadStream(path.join(directory, name)), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.length === 0) continue;
      const record = JSON.parse(line) as { time: string; featureSpecVersion: string; label: string; features: number[] };
      if (sinceMs !== undefined && Date.parse(record.time) < sinceMs) continue;
      const label = PRICE_SENSITIVITY_CLASSES.indexOf(record.label as (typeof PRICE_SENSITIVITY_CLASSES)[number]);
      if (record.featureSpecVersion !== FEATURE_SPEC.version || record.features?.length !== FEATURE_COUNT || label < 0) {
        skipped += 1;
        continue;
      }
      if (rows === predicted.length) {
        const grownValues = new Float32Array(values.length * 2);
        grownValues.set(values);
        values = grownValues;
        const grownPredicted = new Uint8Array(predicted.length * 2);
        grownPredicted.set(predicted);
        predicted = grownPredicted;
      }
      values.set(record.features, rows * FEATURE_COUNT);
      predicted[rows] = label;
      rows += 1;
      if (from === undefined || record.time < from) from = record.time;
      if (to === undefined || record.time > to) to = record.time;
    }
  }
  return { values: values.subarray(0, rows * FEATURE_COUNT), predicted: predicted.subarray(0, rows), rows, skipped, files: names.length, from, to };
}
