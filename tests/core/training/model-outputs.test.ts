import { describe, expect, it } from 'vitest';
import type { LinearModelIR, TreeEnsembleIR } from '../../../core/training/model';
import { modelOutputs, modelLabels, modelProbabilities, ModelInputError, modelScores } from '../../../core/training/model-outputs';
import { InvalidModelError, validateModel } from '../../../core/training/model-validation';
import { buildTree, CLASSES, gbdtEnsemble, randomForestEnsemble, SINGLE_TREE_LEAVES, singleTreeEnsemble, thresholdRows } from '../../helpers/models';

function softmax(scores: readonly number[]): number[] {
  const max = Math.max(...scores);
  const exponentials = scores.map((score) => Math.exp(score - max));
  const sum = exponentials.reduce((total, value) => total + value, 0);
  return exponentials.map((value) => value / sum);
}

function rowsOf(values: Float32Array, classCount: number): number[][] {
  return Array.from({ length: values.length / classCount }, (_, row) => Array.from(values.subarray(row * classCount, (row + 1) * classCount)));
}

describe('in-process predictor: trees', () => {
  it('sends x <= threshold left in float32 (on the threshold, one ulp either side, -0, NaN right, ±Infinity)', () => {
    const { values, rows } = thresholdRows();
    // Leaf reached by each row of thresholdRows(), worked out by hand.
    const expectedLeaves = [3, 2, 4, 3, 2, 4, 3, 2, 3, 3, 4, 3] as const;
    const probabilities = modelProbabilities(singleTreeEnsemble(), values, rows);
    expect(rowsOf(probabilities, 3)).toEqual(expectedLeaves.map((leaf) => Array.from(Float32Array.from(SINGLE_TREE_LEAVES[leaf]))));
    const labelOfLeaf = { 2: 2, 3: 0, 4: 1 } as const;
    expect(Array.from(modelLabels(singleTreeEnsemble(), values, rows))).toEqual(expectedLeaves.map((leaf) => labelOfLeaf[leaf]));
  });

  it('sums trees (random-forest averages stored pre-divided)', () => {
    // Row [0.5, float32(0.1)]: tree 1 → leaf 3 / 3; tree 2 (x1 <= 0? no) → [0, .5, .5] / 3; tree 3 → [.2, .3, .5] / 3.
    const { values } = thresholdRows();
    const [row] = rowsOf(modelProbabilities(randomForestEnsemble(), values.subarray(0, 2), 1), 3);
    const expected = [(0.8 + 0 + 0.2) / 3, (0.1 + 0.5 + 0.3) / 3, (0.1 + 0.5 + 0.5) / 3];
    row.forEach((value, k) => expect(value).toBeCloseTo(expected[k], 6));
  });

  it('adds base values and applies softmax for GBDT-style ensembles', () => {
    // Row [0.5, float32(0.1)] reaches leaf 4 (0.25 + 0.05k) in both rounds: scores = base + 2 · (0.25 + 0.05k).
    const { values } = thresholdRows();
    const model = gbdtEnsemble();
    const scores = Array.from(modelScores(model, values.subarray(0, 2), 1));
    [-0.7, 0.9, 0.2].forEach((expected, k) => expect(scores[k]).toBeCloseTo(expected, 6));
    const probabilities = Array.from(modelProbabilities(model, values.subarray(0, 2), 1));
    softmax([-0.7, 0.9, 0.2]).forEach((expected, k) => expect(probabilities[k]).toBeCloseTo(expected, 6));
    expect(probabilities.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 6);
  });

  it('returns labels equal to the argmax and the same results from modelOutputs()', () => {
    const { values, rows } = thresholdRows();
    const model = gbdtEnsemble();
    const { probabilities, labels } = modelOutputs(model, values, rows);
    rowsOf(probabilities, 3).forEach((row, index) => expect(row.indexOf(Math.max(...row))).toBe(labels[index]));
    expect(Array.from(modelLabels(model, values, rows))).toEqual(Array.from(labels));
  });
});

describe('in-process predictor: linear', () => {
  it('computes softmax(intercept + coefficients · x)', () => {
    const model: LinearModelIR = {
      kind: 'linear',
      classes: CLASSES,
      featureCount: 2,
      coefficients: Float32Array.of(1, 2, 3, 4, 5, 6),
      intercepts: Float32Array.of(0.1, 0.2, 0.3),
    };
    const { probabilities, labels } = modelOutputs(model, Float32Array.of(1, -1, 0, 0.5), 2);
    const expected = [...softmax([-0.9, -0.8, -0.7]), ...softmax([1.1, 2.2, 3.3])];
    Array.from(probabilities).forEach((value, index) => expect(value).toBeCloseTo(expected[index], 6));
    expect(Array.from(labels)).toEqual([2, 2]);
  });
});

describe('in-process predictor: refusals', () => {
  it('rejects feature values that do not fit the model', () => {
    expect(() => modelOutputs(singleTreeEnsemble(), new Float32Array(5), 2)).toThrow(ModelInputError);
    expect(() => modelOutputs(singleTreeEnsemble(), new Float32Array(3), 1.5)).toThrow(ModelInputError);
  });

  it('rejects a broken model, listing every problem', () => {
    const broken: TreeEnsembleIR = {
      ...singleTreeEnsemble(),
      baseValues: new Float32Array(2),
      trees: [
        buildTree([{ split: [5, 0, 1, 2] }, { leaf: [1, 0, 0] }, { split: [0, 0, 0, 1] }]),
        buildTree([{ split: [0, Number.NaN, 1, 7] }, { leaf: [Number.POSITIVE_INFINITY, 0, 0] }]),
      ],
    };
    let thrown: unknown;
    try {
      validateModel(broken);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidModelError);
    const problems = (thrown as InvalidModelError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('baseValues has 2 entries'),
        expect.stringContaining('tree 0, node 0: feature 5'),
        expect.stringContaining('tree 0: node 0 is reached twice'),
        expect.stringContaining('tree 1, node 0: threshold is NaN'),
        expect.stringContaining('tree 1, node 0: right child 7'),
        expect.stringContaining('tree 1, leaf 1: value for class 0 is not finite'),
      ]),
    );
    expect(() => modelOutputs(broken, new Float32Array(2), 1)).toThrow(InvalidModelError);
  });
});
