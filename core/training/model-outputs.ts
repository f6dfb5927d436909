/**
 * A model's outputs computed in process (what the trainers and training metrics use; batch scoring is
 * core/batch-scoring/, the API's per-request inference server/inference/): evaluates a ModelIR the way
 * ONNX Runtime evaluates its ONNX export
 * (ai.onnx.ml TreeEnsembleClassifier / LinearClassifier), so evaluation in training and serving through
 * ORT agree. Tree scores are accumulated in float32 in tree order and the base values added last, as
 * ORT does; comparisons are `x <= threshold` on float32 values (a NaN feature goes right).
 */
import { RetailMlopsError } from '../errors';
import type { LinearModelIR, ModelIR, TreeEnsembleIR } from './model';
import { validateModel } from './model-validation';

/** The feature values do not fit the model (wrong length, or a row count that is not a whole number). */
export class ModelInputError extends RetailMlopsError {
  constructor(message: string) {
    super('PREDICTION_INPUT', message);
  }
}

/** Probabilities (rows × classes, row-major) and the index of the most probable class per row. */
export interface ModelOutputs {
  readonly probabilities: Float32Array;
  readonly labels: Int32Array;
}

/**
 * Class scores before the post-transform: rows × classes, row-major. For a linear model and a
 * 'softmax' tree ensemble these are logits; for a 'none' ensemble they already are the probabilities.
 * `values` is rows × featureCount, row-major.
 */
export function modelScores(model: ModelIR, values: Float32Array, rows: number): Float32Array {
  checkInput(model, values, rows);
  return model.kind === 'linear' ? linearScores(model, values, rows) : treeScores(model, values, rows);
}

/** Class probabilities, rows × classes, row-major, classes in the order of `model.classes`. */
export function modelProbabilities(model: ModelIR, values: Float32Array, rows: number): Float32Array {
  return modelOutputs(model, values, rows).probabilities;
}

/** The index of the highest-scoring class per row (the first on a tie), as ORT's `label` output. */
export function modelLabels(model: ModelIR, values: Float32Array, rows: number): Int32Array {
  const scores = modelScores(model, values, rows);
  return argmaxRows(scores, rows, model.classes.length);
}

/** Probabilities and labels in one pass. */
export function modelOutputs(model: ModelIR, values: Float32Array, rows: number): ModelOutputs {
  const scores = modelScores(model, values, rows);
  const classCount = model.classes.length;
  // Labels come from the scores (before softmax), as in ORT; softmax is monotone, so they agree with the
  // probabilities except where float32 rounding makes two probabilities equal.
  const labels = argmaxRows(scores, rows, classCount);
  const softmax = model.kind === 'linear' || model.postTransform === 'softmax';
  if (softmax) softmaxRowsInPlace(scores, rows, classCount);
  return { probabilities: scores, labels };
}

function checkInput(model: ModelIR, values: Float32Array, rows: number): void {
  validateModel(model);
  if (!Number.isInteger(rows) || rows < 0) throw new ModelInputError(`rows must be a non-negative integer, got ${rows}`);
  if (values.length !== rows * model.featureCount) {
    throw new ModelInputError(
      `expected rows × featureCount = ${rows} × ${model.featureCount} = ${rows * model.featureCount} values, got ${values.length}`,
    );
  }
}

function linearScores(model: LinearModelIR, values: Float32Array, rows: number): Float32Array {
  const classCount = model.classes.length;
  const featureCount = model.featureCount;
  const { coefficients, intercepts } = model;
  const scores = new Float32Array(rows * classCount);
  for (let row = 0; row < rows; row++) {
    const rowOffset = row * featureCount;
    for (let k = 0; k < classCount; k++) {
      // Accumulated in double, stored as float32: within a few float32 ulps of ORT's sgemm.
      let score = intercepts[k];
      const coefficientOffset = k * featureCount;
      for (let j = 0; j < featureCount; j++) score += coefficients[coefficientOffset + j] * values[rowOffset + j];
      scores[row * classCount + k] = score;
    }
  }
  return scores;
}

function treeScores(model: TreeEnsembleIR, values: Float32Array, rows: number): Float32Array {
  const classCount = model.classes.length;
  const featureCount = model.featureCount;
  // A Float32Array rounds every `+=` to float32: exactly ORT's float accumulation, tree by tree.
  const scores = new Float32Array(rows * classCount);
  for (const tree of model.trees) {
    const { feature, threshold, left, right, value } = tree;
    for (let row = 0; row < rows; row++) {
      const rowOffset = row * featureCount;
      let node = 0;
      while (feature[node] !== -1) {
        node = values[rowOffset + feature[node]] <= threshold[node] ? left[node] : right[node];
      }
      const scoreOffset = row * classCount;
      const valueOffset = node * classCount;
      for (let k = 0; k < classCount; k++) scores[scoreOffset + k] += value[valueOffset + k];
    }
  }
  for (let row = 0; row < rows; row++) {
    for (let k = 0; k < classCount; k++) scores[row * classCount + k] += model.baseValues[k];
  }
  return scores;
}

function argmaxRows(scores: Float32Array, rows: number, classCount: number): Int32Array {
  const labels = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const offset = row * classCount;
    let best = 0;
    for (let k = 1; k < classCount; k++) if (scores[offset + k] > scores[offset + best]) best = k;
    labels[row] = best;
  }
  return labels;
}

/** Numerically stable softmax per row, in float32 like ORT (max subtracted, exp, normalised). */
function softmaxRowsInPlace(scores: Float32Array, rows: number, classCount: number): void {
  for (let row = 0; row < rows; row++) {
    const offset = row * classCount;
    let max = -Infinity;
    for (let k = 0; k < classCount; k++) max = Math.max(max, scores[offset + k]);
    let sum = 0;
    for (let k = 0; k < classCount; k++) {
      const exponential = Math.fround(Math.exp(Math.fround(scores[offset + k] - max)));
      scores[offset + k] = exponential;
      sum = Math.fround(sum + exponential);
    }
    for (let k = 0; k < classCount; k++) scores[offset + k] = scores[offset + k] / sum;
  }
}
