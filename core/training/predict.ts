/**
 * The in-process predictor of the model IR: the reference ONNX Runtime's outputs are compared with.
 * Trees follow `x[feature] <= threshold` → left, compared in float32 (both operands are float32 values;
 * NaN goes right), exactly like ONNX TreeEnsembleClassifier with BRANCH_LEQ. Scores are summed in
 * float64 and returned as float32.
 */
import { InvalidOptionsError } from '../errors';
import type { LinearModelIR, ModelIR, TreeEnsembleIR, TreeIR } from './model';

/**
 * Class probabilities, rows × classes row-major: softmax of the scores (linear models and trees with
 * postTransform 'softmax'), or the summed leaf values themselves (postTransform 'none').
 * @param values rows × featureCount float32 features, row-major
 */
export function predictProbabilities(model: ModelIR, values: Float32Array, rows: number): Float32Array {
  const scores = predictScores(model, values, rows);
  const classCount = model.classes.length;
  if (model.kind === 'linear' || model.postTransform === 'softmax') softmaxRows(scores, rows, classCount);
  return Float32Array.from(scores);
}

/** The most probable class index per row (the first one on ties), as ONNX's label output. */
export function predictLabels(model: ModelIR, values: Float32Array, rows: number): Int32Array {
  return argmaxRows(predictProbabilities(model, values, rows), rows, model.classes.length);
}

/**
 * Scores before the post-transform, rows × classes in float64: for trees `baseValues + Σ leaf values`,
 * for linear models `intercept + coefficients · x`.
 */
export function predictScores(model: ModelIR, values: Float32Array, rows: number): Float64Array {
  const featureCount = model.featureCount;
  if (!(Number.isInteger(rows) && rows >= 0) || values.length !== rows * featureCount) {
    throw new InvalidOptionsError('prediction input', [
      `values must hold rows × featureCount = ${rows} × ${featureCount} numbers (got ${values.length})`,
    ]);
  }
  return model.kind === 'linear' ? linearScores(model, values, rows) : treeScores(model, values, rows);
}

/** Adds one tree's leaf values for every row to `scores` (rows × classCount). */
export function addTreeScores(
  tree: TreeIR,
  values: Float32Array,
  rows: number,
  featureCount: number,
  classCount: number,
  scores: Float64Array,
): void {
  const { feature, threshold, left, right, value } = tree;
  for (let row = 0; row < rows; row++) {
    const base = row * featureCount;
    let node = 0;
    while (feature[node] >= 0) node = values[base + feature[node]] <= threshold[node] ? left[node] : right[node];
    const leafOffset = node * classCount;
    const scoreOffset = row * classCount;
    for (let label = 0; label < classCount; label++) scores[scoreOffset + label] += value[leafOffset + label];
  }
}

/** In-place softmax of each row of `scores` (rows × classCount), max-shifted for stability. */
export function softmaxRows(scores: Float64Array, rows: number, classCount: number): void {
  for (let row = 0; row < rows; row++) {
    const offset = row * classCount;
    let maximum = Number.NEGATIVE_INFINITY;
    for (let label = 0; label < classCount; label++) maximum = Math.max(maximum, scores[offset + label]);
    let sum = 0;
    for (let label = 0; label < classCount; label++) {
      const exponential = Math.exp(scores[offset + label] - maximum);
      scores[offset + label] = exponential;
      sum += exponential;
    }
    for (let label = 0; label < classCount; label++) scores[offset + label] /= sum;
  }
}

/** Index of the largest value of each row (the first one on ties). */
export function argmaxRows(scores: Float32Array | Float64Array, rows: number, classCount: number): Int32Array {
  const labels = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const offset = row * classCount;
    let best = 0;
    for (let label = 1; label < classCount; label++) if (scores[offset + label] > scores[offset + best]) best = label;
    labels[row] = best;
  }
  return labels;
}

function treeScores(model: TreeEnsembleIR, values: Float32Array, rows: number): Float64Array {
  const classCount = model.classes.length;
  const scores = new Float64Array(rows * classCount);
  for (let row = 0; row < rows; row++) for (let label = 0; label < classCount; label++) scores[row * classCount + label] = model.baseValues[label];
  for (const tree of model.trees) addTreeScores(tree, values, rows, model.featureCount, classCount, scores);
  return scores;
}

function linearScores(model: LinearModelIR, values: Float32Array, rows: number): Float64Array {
  const classCount = model.classes.length;
  const featureCount = model.featureCount;
  const scores = new Float64Array(rows * classCount);
  for (let row = 0; row < rows; row++) {
    const base = row * featureCount;
    for (let label = 0; label < classCount; label++) {
      const coefficients = label * featureCount;
      let score = model.intercepts[label];
      for (let feature = 0; feature < featureCount; feature++) score += model.coefficients[coefficients + feature] * values[base + feature];
      scores[row * classCount + label] = score;
    }
  }
  return scores;
}
