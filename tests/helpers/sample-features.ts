/**
 * Feature matrices from the real LGSR sample, computed exactly as training does (core/features):
 * out-of-fold features for the training weeks, held-out features for the others.
 */
import * as path from 'node:path';
import { SAMPLE_FILES } from './paths';
import type { BasketBatch } from '../../core/features/basket-batch';
import { FEATURE_COUNT } from '../../core/features/spec';
import { heldOutFeatures, outOfFoldFeatures } from '../../core/features/training-matrix';
import { readGoldBaskets } from '../../core/lake/gold-reader';
import { ingest } from '../../core/lake/ingest';
import { Lake } from '../../core/lake/lake';

export interface SampleMatrix {
  readonly values: Float32Array;
  readonly labels: Int32Array;
  readonly rows: number;
}

export interface SampleFeatures {
  readonly columns: number;
  readonly train: SampleMatrix;
  readonly validation: SampleMatrix;
  readonly test: SampleMatrix;
}

/** Ingests the first `files` sample files into `<directory>/lake` and returns the lake. */
export async function ingestSample(directory: string, files = 3): Promise<Lake> {
  const lakeDirectory = path.join(directory, 'lake');
  await ingest({ inputs: SAMPLE_FILES.slice(0, files), lake: lakeDirectory });
  return Lake.open(lakeDirectory);
}

function labelledRows(batch: BasketBatch, week: number): Int32Array {
  const rows: number[] = [];
  for (let basket = 0; basket < batch.size; basket++) if (batch.week[basket] === week && batch.label[basket] >= 0) rows.push(basket);
  return Int32Array.from(rows);
}

/** Week 1 trains (out-of-fold), week 2 validates, week 3 tests (held out). */
export async function sampleFeatures(lake: Lake): Promise<SampleFeatures> {
  const weeks = lake.weeks();
  const { batch } = await readGoldBaskets(lake, weeks.slice(0, 3));
  const [trainRows, validationRows, testRows] = weeks.slice(0, 3).map((week) => labelledRows(batch, week));
  const fitted = outOfFoldFeatures(batch, trainRows, { seed: 7 });
  const matrix = (values: Float32Array, rows: Int32Array): SampleMatrix => ({
    values,
    labels: rows.map((row) => batch.label[row]),
    rows: rows.length,
  });
  return {
    columns: FEATURE_COUNT,
    train: matrix(fitted.values, trainRows),
    validation: matrix(heldOutFeatures(fitted.statistics, batch, validationRows), validationRows),
    test: matrix(heldOutFeatures(fitted.statistics, batch, testRows), testRows),
  };
}
