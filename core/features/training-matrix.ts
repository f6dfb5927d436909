import type { BasketBatch } from './basket-batch';
import { BasketFeatures, featureMatrix } from './compute';
import { FEATURE_COUNT } from './spec';
import { fitFeatureStatistics, type FeatureStatistics, type FitStatisticsOptions } from './statistics';

export interface OutOfFoldOptions extends FitStatisticsOptions {
  /** Folds for the training rows' statistics. @default 5 */
  readonly folds?: number;
  /** Seed of the fold assignment. @default 42 */
  readonly seed?: number;
}

export interface TrainingFeatures {
  /** Statistics fitted on all of `trainRows`: the artifact the model ships with. */
  readonly statistics: FeatureStatistics;
  /** Features of `trainRows`, each computed with statistics fitted on the other folds only. */
  readonly values: Float32Array;
}

/**
 * Features for training rows without leakage: a basket's own label never feeds the statistics it is
 * described by. Rows are split into folds; each fold's rows get statistics fitted on the rest.
 */
export function outOfFoldFeatures(batch: BasketBatch, trainRows: ArrayLike<number>, options: OutOfFoldOptions = {}): TrainingFeatures {
  const folds = options.folds ?? 5;
  const assignment = foldAssignment(trainRows.length, folds, options.seed ?? 42);
  const values = new Float32Array(trainRows.length * FEATURE_COUNT);
  for (let fold = 0; fold < folds; fold++) {
    const inside: number[] = [];
    const outside: number[] = [];
    for (let index = 0; index < trainRows.length; index++) (assignment[index] === fold ? inside : outside).push(index);
    const features = new BasketFeatures(fitFeatureStatistics(batch, outside.map((index) => trainRows[index]), options));
    for (const index of inside) features.compute(batch, trainRows[index], values, index * FEATURE_COUNT);
  }
  return { statistics: fitFeatureStatistics(batch, trainRows, options), values };
}

/** Features of rows the statistics never saw (validation, test, scoring). */
export function heldOutFeatures(statistics: FeatureStatistics, batch: BasketBatch, rows: ArrayLike<number>): Float32Array {
  return featureMatrix(new BasketFeatures(statistics), batch, rows);
}

/** A seeded, balanced fold per row (a shuffled round-robin). */
function foldAssignment(rows: number, folds: number, seed: number): Uint8Array {
  const order = Array.from({ length: rows }, (_, index) => index);
  let state = seed >>> 0 || 1;
  for (let index = rows - 1; index > 0; index--) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const pick = (state >>> 0) % (index + 1);
    [order[index], order[pick]] = [order[pick], order[index]];
  }
  const assignment = new Uint8Array(rows);
  for (let position = 0; position < rows; position++) assignment[order[position]] = position % folds;
  return assignment;
}
