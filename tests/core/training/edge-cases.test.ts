import { describe, expect, it } from 'vitest';
import { accuracy, CLASSES, labelledMatrix } from './synthetic-data';
import type { FeatureMatrix } from '../../../core/training/model';
import { modelLabels, modelProbabilities } from '../../../core/training/model-outputs';
import { trainDecisionTree } from '../../../core/training/trees/decision-tree';
import { trainGradientBoostedTrees } from '../../../core/training/trees/gradient-boosting';
import { trainRandomForest } from '../../../core/training/trees/random-forest';

describe('tree trainers at the edges', () => {
  it('learn to split missing values off: NaN goes right at a +Infinity threshold', () => {
    // x0 is NaN for class UM, a number otherwise; x1 separates LA from MM
    const train = labelledMatrix(2000, 2, 61, (features, random) => {
      const label = random.nextInt(3);
      features[0] = label === 2 ? Number.NaN : random.nextFloat();
      features[1] = label === 0 ? random.nextFloat() * 0.4 : 0.6 + random.nextFloat() * 0.4;
      return label;
    });
    const tree = trainDecisionTree(train, CLASSES);
    expect(tree.trees[0].threshold).toContain(Number.POSITIVE_INFINITY);
    expect(accuracy(train.labels, modelLabels(tree, train.values, train.rows))).toBe(1);
    const { model } = trainGradientBoostedTrees(train, CLASSES, { rounds: 10, maxDepth: 2 });
    expect(accuracy(train.labels, modelLabels(model, train.values, train.rows))).toBeGreaterThan(0.99);
  });

  it('treat a sample weight of 2 like the row twice', () => {
    // integer features: few distinct values, so the bins do not depend on the duplication
    const base = labelledMatrix(600, 3, 62, (features, random) => (features[0] + features[1] > 6 !== random.nextFloat() < 0.1 ? 1 : 0), (random) =>
      random.nextInt(6),
    );
    const weights = new Float32Array(base.rows).map((_, row) => (row % 3 === 0 ? 2 : 1));
    const weighted: FeatureMatrix = { ...base, weights };
    const duplicatedRows = Array.from({ length: base.rows }, (_, row) => (row % 3 === 0 ? [row, row] : [row])).flat();
    const duplicated: FeatureMatrix = {
      rows: duplicatedRows.length,
      columns: 3,
      values: Float32Array.from(duplicatedRows.flatMap((row) => Array.from(base.values.subarray(row * 3, row * 3 + 3)))),
      labels: Int32Array.from(duplicatedRows, (row) => base.labels[row]),
    };
    const classes = ['A', 'B'];
    const fromWeights = trainDecisionTree(weighted, classes, { maxDepth: 4 }).trees[0];
    const fromDuplicates = trainDecisionTree(duplicated, classes, { maxDepth: 4 }).trees[0];
    expect(fromWeights.feature).toEqual(fromDuplicates.feature);
    expect(fromWeights.threshold).toEqual(fromDuplicates.threshold);
    expect(Array.from(fromWeights.value)).toEqual(Array.from(fromDuplicates.value));
    const boostedWeights = trainGradientBoostedTrees(weighted, classes, { rounds: 3, maxDepth: 3 }).model;
    const boostedDuplicates = trainGradientBoostedTrees(duplicated, classes, { rounds: 3, maxDepth: 3 }).model;
    expect(boostedWeights.trees.map((tree) => Array.from(tree.feature))).toEqual(boostedDuplicates.trees.map((tree) => Array.from(tree.feature)));
    boostedWeights.trees.forEach((tree, index) => {
      tree.value.forEach((value, slot) => expect(value).toBeCloseTo(boostedDuplicates.trees[index].value[slot], 5));
    });
  });

  it('handle one row, constant features and classes absent from training', () => {
    const single: FeatureMatrix = { rows: 1, columns: 2, values: Float32Array.from([1, 2]), labels: Int32Array.from([1]) };
    const labels = new Int32Array(50).map((_, row) => row % 2);
    const constant: FeatureMatrix = { rows: 50, columns: 2, values: new Float32Array(100).fill(3), labels };
    for (const matrix of [single, constant]) {
      const models = [
        trainDecisionTree(matrix, CLASSES),
        trainRandomForest(matrix, CLASSES, { treeCount: 3 }),
        trainGradientBoostedTrees(matrix, CLASSES, { rounds: 3 }).model,
      ];
      for (const model of models) {
        for (const tree of model.trees) expect(Array.from(tree.feature)).toEqual([-1]);
        const probabilities = modelProbabilities(model, matrix.values.subarray(0, 2), 1);
        expect(probabilities.every((probability) => Number.isFinite(probability))).toBe(true);
        expect(probabilities[2]).toBeLessThan(1e-6);
      }
    }
  });
});
