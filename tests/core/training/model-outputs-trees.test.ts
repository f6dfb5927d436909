import { describe, expect, it } from 'vitest';
import { RetailMlopsError } from '../../../core/errors';
import type { LinearModelIR, TreeEnsembleIR } from '../../../core/training/model';
import { modelLabels, modelProbabilities, modelScores } from '../../../core/training/model-outputs';

/** x0 <= 0.5 → leaf 1, else x1 <= 2 → leaf 3, else leaf 4. */
const tree = {
  feature: Int32Array.from([0, -1, 1, -1, -1]),
  threshold: Float32Array.from([0.5, 0, 2, 0, 0]),
  left: Int32Array.from([1, -1, 3, -1, -1]),
  right: Int32Array.from([2, -1, 4, -1, -1]),
  value: Float32Array.from([0, 0, 0.9, 0.1, 0, 0, 0.2, 0.8, 0.5, 0.5]),
};

describe('modelProbabilities', () => {
  it('sends x <= threshold left in float32: a value on the threshold goes left, the next float32 up goes right', () => {
    const model: TreeEnsembleIR = { kind: 'trees', classes: ['A', 'B'], featureCount: 2, trees: [tree], baseValues: new Float32Array(2), postTransform: 'none' };
    const above = Math.fround(0.5 + 2 ** -24); // the next float32 after 0.5
    const values = Float32Array.from([0.5, 9, above, 2, above, 2.0000002, 0.1, 0]);
    expect(Array.from(modelProbabilities(model, values, 4))).toEqual(Array.from(Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.5, 0.5, 0.9, 0.1])));
    expect(Array.from(modelLabels(model, values, 4))).toEqual([0, 1, 0, 0]);
  });

  it('sends NaN right, as ONNX BRANCH_LEQ does', () => {
    const model: TreeEnsembleIR = { kind: 'trees', classes: ['A', 'B'], featureCount: 2, trees: [tree], baseValues: new Float32Array(2), postTransform: 'none' };
    const probabilities = modelProbabilities(model, Float32Array.from([Number.NaN, Number.NaN]), 1);
    expect(Array.from(probabilities)).toEqual(Array.from(Float32Array.from([0.5, 0.5])));
  });

  it('applies softmax to base values plus summed leaf values', () => {
    const model: TreeEnsembleIR = {
      kind: 'trees',
      classes: ['A', 'B'],
      featureCount: 2,
      trees: [tree, tree],
      baseValues: Float32Array.from([0.25, -0.5]),
      postTransform: 'softmax',
    };
    const scores = modelScores(model, Float32Array.from([0, 0]), 1);
    // ONNX Runtime sums in float32; so does the in-process predictor
    expect(scores[0]).toBeCloseTo(0.25 + 2 * Math.fround(0.9), 6);
    expect(scores[1]).toBeCloseTo(-0.5 + 2 * Math.fround(0.1), 6);
    const probabilities = modelProbabilities(model, Float32Array.from([0, 0]), 1);
    const expected = 1 / (1 + Math.exp(scores[1] - scores[0]));
    expect(probabilities[0]).toBeCloseTo(expected, 6);
    expect(probabilities[0] + probabilities[1]).toBeCloseTo(1, 6);
  });

  it('scores a linear model as intercept + coefficients · x and applies softmax', () => {
    const model: LinearModelIR = {
      kind: 'linear',
      classes: ['A', 'B', 'C'],
      featureCount: 2,
      coefficients: Float32Array.from([1, 0, 0, 1, -1, -1]),
      intercepts: Float32Array.from([0, 0.5, 0]),
    };
    const values = Float32Array.from([2, 1, -1, -3]);
    const probabilities = modelProbabilities(model, values, 2);
    const softmax = (scores: number[]) => scores.map((score) => Math.exp(score) / scores.reduce((sum, other) => sum + Math.exp(other), 0));
    const expected = [...softmax([2, 1.5, -3]), ...softmax([-1, -2.5, 4])];
    expected.forEach((probability, index) => expect(probabilities[index]).toBeCloseTo(probability, 6));
    expect(Array.from(modelLabels(model, values, 2))).toEqual([0, 2]);
  });

  it('rejects values whose length is not rows × featureCount', () => {
    const model: TreeEnsembleIR = { kind: 'trees', classes: ['A', 'B'], featureCount: 2, trees: [tree], baseValues: new Float32Array(2), postTransform: 'none' };
    let caught: unknown;
    try {
      modelProbabilities(model, new Float32Array(5), 3);
    } catch (error) {
      caught = error;
    }
    expect(RetailMlopsError.isInstance(caught) && caught.code).toBe('PREDICTION_INPUT');
  });
});
