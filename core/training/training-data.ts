import { RetailMlopsError } from '../errors';
import type { FeatureMatrix } from './model';

/** A feature matrix cannot be trained on (shape mismatch, labels out of range, non-finite values, no weight). */
export class InvalidTrainingDataError extends RetailMlopsError {
  constructor(readonly problems: readonly string[]) {
    super('INVALID_TRAINING_DATA', `invalid training data: ${problems.join('; ')}`);
  }
}

/**
 * Checks a feature matrix against the classes it is labelled with; throws one InvalidTrainingDataError
 * listing every problem found. One pass over the values.
 */
export function validateTrainingData(data: FeatureMatrix, classCount: number): void {
  const problems: string[] = [];
  const { rows, columns, values, labels, weights } = data;
  if (!Number.isInteger(rows) || rows < 1) problems.push(`rows must be a positive integer, got ${rows}`);
  if (!Number.isInteger(columns) || columns < 1) problems.push(`columns must be a positive integer, got ${columns}`);
  if (values.length !== rows * columns) problems.push(`values has ${values.length} entries, expected rows × columns = ${rows * columns}`);
  if (labels.length !== rows) problems.push(`labels has ${labels.length} entries, expected one per row (${rows})`);
  if (weights !== undefined && weights.length !== rows) problems.push(`weights has ${weights.length} entries, expected one per row (${rows})`);
  if (problems.length > 0) throw new InvalidTrainingDataError(problems);

  let badLabels = 0;
  for (const label of labels) if (label < 0 || label >= classCount) badLabels++;
  if (badLabels > 0) problems.push(`${badLabels} labels are outside 0..${classCount - 1}`);
  let nonFinite = 0;
  for (const value of values) if (!Number.isFinite(value)) nonFinite++;
  if (nonFinite > 0) problems.push(`${nonFinite} feature values are not finite (NaN or ±Infinity)`);
  if (weights !== undefined) {
    let badWeights = 0;
    let total = 0;
    for (const weight of weights) {
      if (!Number.isFinite(weight) || weight < 0) badWeights++;
      else total += weight;
    }
    if (badWeights > 0) problems.push(`${badWeights} sample weights are negative or not finite`);
    else if (total === 0) problems.push('all sample weights are 0');
  }
  if (problems.length > 0) throw new InvalidTrainingDataError(problems);
}
