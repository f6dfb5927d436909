import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../core/errors';
import type { ProgressReporter } from '../../../core/progress';
import type { LogisticRegressionOptions } from '../../../core/training/logistic-regression';
import { trainLogisticRegression } from '../../../core/training/logistic-regression';
import type { FeatureMatrix, LinearModelIR } from '../../../core/training/model';
import { modelOutputs } from '../../../core/training/model-outputs';
import { InvalidTrainingDataError } from '../../../core/training/training-data';
import { CLASSES } from '../../helpers/models';
import { gaussian, seededRandom, syntheticClassification } from '../../helpers/synthetic';

/** Three well-separated Gaussian blobs; columns on wildly different scales and offsets. */
function blobs(rows: number, seed: number): FeatureMatrix {
  const random = seededRandom(seed);
  const columns = 5;
  const centres = [
    [0, 0, 0, 0, 0],
    [4, 4, 0, 0, 0],
    [0, 4, 4, 0, 0],
  ];
  const scales = [1, 1000, 0.001, 50, 1];
  const offsets = [0, 25_000, -3, 100, 7];
  const values = new Float32Array(rows * columns);
  const labels = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const label = row % 3;
    labels[row] = label;
    for (let j = 0; j < columns; j++) values[row * columns + j] = offsets[j] + scales[j] * (centres[label][j] + 0.6 * gaussian(random));
  }
  return { rows, columns, values, labels };
}

function accuracy(model: LinearModelIR, data: FeatureMatrix): number {
  const { labels } = modelOutputs(model, data.values, data.rows);
  let correct = 0;
  for (let row = 0; row < data.rows; row++) if (labels[row] === data.labels[row]) correct++;
  return correct / data.rows;
}

/**
 * The documented objective, written independently of the trainer: standardise with the population
 * mean/std, mean cross-entropy + λ/2‖W‖² over the standardised coefficients W (intercepts b free).
 * Parameters: K rows of [W_k (F values), b_k].
 */
function referenceProblem(data: FeatureMatrix, classCount: number, l2: number) {
  const { rows, columns } = data;
  const mean = Array.from({ length: columns }, (_, j) => {
    let sum = 0;
    for (let row = 0; row < rows; row++) sum += data.values[row * columns + j];
    return sum / rows;
  });
  const std = Array.from({ length: columns }, (_, j) => {
    let sum = 0;
    for (let row = 0; row < rows; row++) sum += (data.values[row * columns + j] - mean[j]) ** 2;
    return Math.sqrt(sum / rows);
  });
  const z = (row: number, j: number) => (data.values[row * columns + j] - mean[j]) / std[j];
  const stride = columns + 1;
  const probabilities = (theta: number[], row: number): number[] => {
    const scores = Array.from({ length: classCount }, (_, k) => {
      let score = theta[k * stride + columns];
      for (let j = 0; j < columns; j++) score += theta[k * stride + j] * z(row, j);
      return score;
    });
    const max = Math.max(...scores);
    const exponentials = scores.map((score) => Math.exp(score - max));
    const sum = exponentials.reduce((total, value) => total + value, 0);
    return exponentials.map((value) => value / sum);
  };
  const objective = (theta: number[]): { loss: number; gradient: number[] } => {
    let loss = 0;
    const gradient = new Array<number>(theta.length).fill(0);
    for (let row = 0; row < rows; row++) {
      const p = probabilities(theta, row);
      loss -= Math.log(p[data.labels[row]]) / rows;
      for (let k = 0; k < classCount; k++) {
        const residual = (p[k] - (k === data.labels[row] ? 1 : 0)) / rows;
        for (let j = 0; j < columns; j++) gradient[k * stride + j] += residual * z(row, j);
        gradient[k * stride + columns] += residual;
      }
    }
    for (let k = 0; k < classCount; k++) {
      for (let j = 0; j < columns; j++) {
        loss += (l2 / 2) * theta[k * stride + j] ** 2;
        gradient[k * stride + j] += l2 * theta[k * stride + j];
      }
    }
    return { loss, gradient };
  };
  /** The trainer's raw-feature model mapped back to standardised parameters. */
  const fromModel = (model: LinearModelIR): number[] =>
    Array.from({ length: classCount }, (_unused, k) => {
      const weights = Array.from({ length: columns }, (_, j) => model.coefficients[k * columns + j] * std[j]);
      const intercept = model.intercepts[k] + weights.reduce((sum, weight, j) => sum + (weight / std[j]) * mean[j], 0);
      return [...weights, intercept];
    }).flat();
  return { objective, probabilities, fromModel, size: classCount * stride };
}

describe('logistic regression: learning', () => {
  it('learns a linearly separable 3-class problem (features on very different scales) to high accuracy', () => {
    const train = blobs(1500, 1);
    const test = blobs(1500, 2);
    const result = trainLogisticRegression(train, CLASSES, { l2: 1e-5 });
    expect(result.model.classes).toEqual(CLASSES);
    expect(result.model.featureCount).toBe(5);
    expect(accuracy(result.model, train)).toBeGreaterThan(0.99);
    expect(accuracy(result.model, test)).toBeGreaterThan(0.99);
  });

  it('matches the closed form without signal: probabilities = (weighted) class frequencies', () => {
    const rows = 600;
    const labels = Int32Array.from({ length: rows }, (_, row) => (row % 6 < 3 ? 0 : row % 6 < 5 ? 1 : 2)); // 1/2, 1/3, 1/6
    const data: FeatureMatrix = { rows, columns: 2, values: new Float32Array(rows * 2).fill(3), labels };
    const plain = trainLogisticRegression(data, CLASSES, { tolerance: 1e-9 });
    expect(plain.stopReason).toBe('converged');
    expect(Array.from(plain.model.coefficients)).toEqual([0, 0, 0, 0, 0, 0]); // constant features carry nothing
    const [probabilities] = [modelOutputs(plain.model, Float32Array.of(3, 3), 1).probabilities];
    [1 / 2, 1 / 3, 1 / 6].forEach((expected, k) => expect(probabilities[k]).toBeCloseTo(expected, 6));

    // Class weights 1, 2, 6: weighted totals 1/2 · 1, 1/3 · 2, 1/6 · 6 → 1 : 4/3 : 2.
    const weighted = trainLogisticRegression(data, CLASSES, { tolerance: 1e-9, classWeights: [1, 2, 6] });
    const weightedProbabilities = modelOutputs(weighted.model, Float32Array.of(3, 3), 1).probabilities;
    [3 / 13, 4 / 13, 6 / 13].forEach((expected, k) => expect(weightedProbabilities[k]).toBeCloseTo(expected, 6));

    // 'balanced' makes every class weigh the same in total: uniform probabilities.
    const balanced = trainLogisticRegression(data, CLASSES, { tolerance: 1e-9, classWeights: 'balanced' });
    modelOutputs(balanced.model, Float32Array.of(3, 3), 1).probabilities.forEach((value) => expect(value).toBeCloseTo(1 / 3, 6));
  });

  it('reaches the optimum of the regularised loss on a tiny problem (checked against plain gradient descent)', () => {
    const data = syntheticClassification({ rows: 40, columns: 2, classes: 3, seed: 9, signal: 1.5, offsetSpread: 3, scaleSpread: 1 });
    const l2 = 0.05;
    const reference = referenceProblem(data, 3, l2);

    // Reference optimum: fixed-step gradient descent until the gradient vanishes (slow but simple and independent).
    let theta = new Array<number>(reference.size).fill(0);
    let evaluation = reference.objective(theta);
    for (let iteration = 0; iteration < 20_000 && Math.max(...evaluation.gradient.map(Math.abs)) > 1e-10; iteration++) {
      theta = theta.map((value, index) => value - 0.5 * evaluation.gradient[index]);
      evaluation = reference.objective(theta);
    }
    expect(Math.max(...evaluation.gradient.map(Math.abs))).toBeLessThan(1e-10);

    const result = trainLogisticRegression(data, CLASSES, { l2, tolerance: 1e-8 });
    expect(result.stopReason).toBe('converged');
    expect(result.loss).toBeCloseTo(evaluation.loss, 10);
    // The exported float32 model, read back into the reference's parameters, sits at the same optimum.
    const trained = reference.fromModel(result.model);
    const trainedEvaluation = reference.objective(trained);
    expect(trainedEvaluation.loss - evaluation.loss).toBeLessThan(1e-9);
    expect(Math.max(...trainedEvaluation.gradient.map(Math.abs))).toBeLessThan(1e-5);
    const probabilities = modelOutputs(result.model, data.values, data.rows).probabilities;
    for (let row = 0; row < data.rows; row++) {
      reference.probabilities(theta, row).forEach((expected, k) => expect(probabilities[row * 3 + k]).toBeCloseTo(expected, 5));
    }
  });

  it('treats sample weights as relative: doubling every weight changes nothing; a weight of 0 drops a row', () => {
    const data = syntheticClassification({ rows: 300, columns: 4, classes: 3, seed: 4, signal: 1 });
    const base = trainLogisticRegression(data, CLASSES).model;
    const doubled = trainLogisticRegression({ ...data, weights: new Float32Array(data.rows).fill(2) }, CLASSES).model;
    Array.from(doubled.coefficients).forEach((value, index) => expect(value).toBeCloseTo(base.coefficients[index], 5));

    const dropped = new Float32Array(data.rows).fill(1);
    dropped.fill(0, 200);
    const withoutTail = trainLogisticRegression({ ...data, weights: dropped }, CLASSES, { standardize: false }).model;
    const head: FeatureMatrix = { rows: 200, columns: 4, values: data.values.subarray(0, 800), labels: data.labels.subarray(0, 200) };
    const headOnly = trainLogisticRegression(head, CLASSES, { standardize: false }).model;
    Array.from(withoutTail.coefficients).forEach((value, index) => expect(value).toBeCloseTo(headOnly.coefficients[index], 5));
  });

  it("'balanced' class weights raise minority-class recall on imbalanced data", () => {
    const data = syntheticClassification({ rows: 3000, columns: 6, classes: 3, seed: 8, signal: 0.6 });
    // Keep all of class 0, one row in ten of the others.
    const keep = Array.from({ length: data.rows }, (_, row) => row).filter((row) => data.labels[row] === 0 || row % 10 === 0);
    const imbalanced: FeatureMatrix = {
      rows: keep.length,
      columns: 6,
      values: Float32Array.from(keep.flatMap((row) => Array.from(data.values.subarray(row * 6, row * 6 + 6)))),
      labels: Int32Array.from(keep, (row) => data.labels[row]),
    };
    const recall = (model: LinearModelIR, label: number): number => {
      const predicted = modelOutputs(model, imbalanced.values, imbalanced.rows).labels;
      let hits = 0;
      let total = 0;
      for (let row = 0; row < imbalanced.rows; row++) {
        if (imbalanced.labels[row] !== label) continue;
        total++;
        if (predicted[row] === label) hits++;
      }
      return hits / total;
    };
    const plain = trainLogisticRegression(imbalanced, CLASSES).model;
    const balanced = trainLogisticRegression(imbalanced, CLASSES, { classWeights: 'balanced' }).model;
    expect(recall(balanced, 1) + recall(balanced, 2)).toBeGreaterThan(recall(plain, 1) + recall(plain, 2) + 0.2);
  });
});

describe('logistic regression: behaviour', () => {
  it('is deterministic: the same input gives the same model, bit for bit', () => {
    const data = syntheticClassification({ rows: 2000, columns: 12, classes: 3, seed: 21, signal: 0.8, offsetSpread: 2, scaleSpread: 1 });
    const first = trainLogisticRegression(data, CLASSES);
    const second = trainLogisticRegression(data, CLASSES);
    expect(second.model.coefficients).toEqual(first.model.coefficients);
    expect(second.model.intercepts).toEqual(first.model.intercepts);
    expect(second.iterations).toBe(first.iterations);
  });

  it('stops early at the tolerance, and at maxIterations when asked to', () => {
    const data = syntheticClassification({ rows: 1000, columns: 8, classes: 3, seed: 2, signal: 1 });
    const loose = trainLogisticRegression(data, CLASSES, { tolerance: 1e-3 });
    const tight = trainLogisticRegression(data, CLASSES, { tolerance: 1e-8 });
    expect(loose.stopReason).toBe('converged');
    expect(loose.gradientMax).toBeLessThanOrEqual(1e-3);
    expect(tight.stopReason).toBe('converged');
    expect(tight.iterations).toBeGreaterThan(loose.iterations);
    expect(tight.loss).toBeLessThanOrEqual(loose.loss);
    const capped = trainLogisticRegression(data, CLASSES, { maxIterations: 2, tolerance: 1e-12 });
    expect(capped.stopReason).toBe('max-iterations');
    expect(capped.iterations).toBe(2);
  });

  it('shrinks coefficients as l2 grows', () => {
    const data = syntheticClassification({ rows: 500, columns: 5, classes: 3, seed: 6, signal: 2 });
    const norm = (model: LinearModelIR) => Math.hypot(...Array.from(model.coefficients));
    const norms = [1e-4, 1e-2, 1].map((l2) => norm(trainLogisticRegression(data, CLASSES, { l2 }).model));
    expect(norms[0]).toBeGreaterThan(norms[1]);
    expect(norms[1]).toBeGreaterThan(norms[2]);
  });

  it('reports iterations as progress', () => {
    const calls: string[] = [];
    const progress: ProgressReporter = {
      start: (phase, total, unit) => calls.push(`start ${phase} ${total} ${unit}`),
      update: (done) => calls.push(`update ${done}`),
      stop: () => calls.push('stop'),
    };
    const data = syntheticClassification({ rows: 300, columns: 4, classes: 3, seed: 1, signal: 1 });
    const result = trainLogisticRegression(data, CLASSES, { progress, maxIterations: 50 });
    expect(calls[0]).toBe('start train logistic regression 50 iterations');
    expect(calls.at(-1)).toBe('stop');
    expect(calls.filter((call) => call.startsWith('update'))).toEqual(Array.from({ length: result.iterations }, (_, index) => `update ${index + 1}`));
  });
});

describe('logistic regression: validation', () => {
  it('reports every bad option at once', () => {
    const data = syntheticClassification({ rows: 10, columns: 2, classes: 3, seed: 1, signal: 1 });
    const options: LogisticRegressionOptions = { l2: -1, tolerance: 0, maxIterations: 1.5, historySize: 0, classWeights: [1, 2] };
    let thrown: unknown;
    try {
      trainLogisticRegression(data, CLASSES, options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionsError);
    expect((thrown as InvalidOptionsError).problems).toHaveLength(5);
  });

  it('reports every problem of the training data at once', () => {
    const data: FeatureMatrix = { rows: 3, columns: 2, values: Float32Array.of(1, 2, Number.NaN, 4, 5, Infinity), labels: Int32Array.of(0, 3, -1) };
    let thrown: unknown;
    try {
      trainLogisticRegression(data, CLASSES);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidTrainingDataError);
    expect((thrown as InvalidTrainingDataError).problems).toEqual(['2 labels are outside 0..2', '2 feature values are not finite (NaN or ±Infinity)']);
  });
});
