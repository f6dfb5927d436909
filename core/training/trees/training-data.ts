/**
 * Checks of the data handed to a tree trainer (reported with its options, all problems at once) and
 * the per-class sums the trainers start from.
 */
import type { ProblemCollector } from '../../errors';
import type { FeatureMatrix } from '../model';

/** Records every problem of a class list. */
export function checkClasses(problems: ProblemCollector, classes: readonly string[]): void {
  problems.check(classes.length >= 2, `classes must list at least 2 classes (got ${classes.length})`);
  problems.check(new Set(classes).size === classes.length, 'classes must be distinct');
}

/**
 * Records every problem of a matrix: shape, labels within the classes, weights finite and ≥ 0 with
 * some positive, and (when given) the column count a model expects.
 */
export function checkFeatureMatrix(
  problems: ProblemCollector,
  name: string,
  matrix: FeatureMatrix,
  classCount: number,
  expectedColumns?: number,
): void {
  const { rows, columns, values, labels, weights } = matrix;
  const shapeValid = Number.isInteger(rows) && rows >= 1 && Number.isInteger(columns) && columns >= 1;
  problems.check(shapeValid, `${name} must have at least one row and one column (got ${rows} × ${columns})`);
  if (!shapeValid) return;
  problems.check(values.length === rows * columns, `${name} values must hold rows × columns = ${rows * columns} numbers (got ${values.length})`);
  if (expectedColumns !== undefined) {
    problems.check(columns === expectedColumns, `${name} must have ${expectedColumns} columns like the training matrix (got ${columns})`);
  }
  problems.check(labels.length === rows, `${name} labels must hold one class index per row (got ${labels.length} for ${rows} rows)`);
  let badLabels = 0;
  for (let row = 0; row < labels.length; row++) if (!(labels[row] >= 0 && labels[row] < classCount)) badLabels++;
  problems.check(badLabels === 0, `${name} labels must be class indices 0…${classCount - 1} (${badLabels} are not)`);
  if (weights !== undefined) {
    problems.check(weights.length === rows, `${name} weights must hold one weight per row (got ${weights.length} for ${rows} rows)`);
    let badWeights = 0;
    let positive = 0;
    for (let row = 0; row < weights.length; row++) {
      const weight = weights[row];
      if (!(Number.isFinite(weight) && weight >= 0)) badWeights++;
      else if (weight > 0) positive++;
    }
    problems.check(badWeights === 0, `${name} weights must be finite and ≥ 0 (${badWeights} are not)`);
    problems.check(weights.length === 0 || positive > 0, `${name} weights must not all be 0`);
  }
}

/** Weighted count of each class. */
export function classWeightTotals(matrix: FeatureMatrix, classCount: number): Float64Array {
  const totals = new Float64Array(classCount);
  const { labels, weights } = matrix;
  for (let row = 0; row < matrix.rows; row++) totals[labels[row]] += weights === undefined ? 1 : weights[row];
  return totals;
}

/** All features, ascending. */
export function allFeatures(columns: number): Int32Array {
  const features = new Int32Array(columns);
  for (let feature = 0; feature < columns; feature++) features[feature] = feature;
  return features;
}
