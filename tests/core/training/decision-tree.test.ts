import { describe, expect, it } from 'vitest';
import { accuracy, CLASSES, labelledMatrix, leafCount, leafOf, majorityAccuracy, noisyBlobs, treeDepth } from './synthetic-data';
import { InvalidOptionsError } from '../../../core/errors';
import { modelLabels, modelProbabilities } from '../../../core/training/model-outputs';
import { trainDecisionTree } from '../../../core/training/trees/decision-tree';

/** x0 is an integer 0…9, x1 a multiple of 0.05, x2 and x3 uniform. Rule: x0 <= 3 → LA, else x1 <= 0.5 → MM, else UM. */
const rule = (features: Float32Array): number => (features[0] <= 3 ? 0 : features[1] <= 0.5 ? 1 : 2);
const drawInteger = (random: { nextFloat(): number; nextInt(bound: number): number }, column: number): number =>
  column === 0 ? random.nextInt(10) : column === 1 ? random.nextInt(21) / 20 : random.nextFloat();

describe('trainDecisionTree', () => {
  it('fits a known axis-aligned rule exactly, splitting at the data value itself', () => {
    const train = labelledMatrix(4000, 4, 1, rule, drawInteger);
    const model = trainDecisionTree(train, CLASSES);
    expect(model.trees).toHaveLength(1);
    expect(model.postTransform).toBe('none');
    expect(accuracy(train.labels, modelLabels(model, train.values, train.rows))).toBe(1);
    const [tree] = model.trees;
    expect(tree.feature[0]).toBe(0);
    expect(tree.threshold[0]).toBe(3);
    expect(tree.feature[tree.right[0]]).toBe(1);
    expect(tree.threshold[tree.right[0]]).toBe(0.5);
    // two splits suffice and a pure leaf is never split again
    expect(leafCount(tree)).toBe(3);
    const test = labelledMatrix(4000, 4, 2, rule, drawInteger);
    expect(accuracy(test.labels, modelLabels(model, test.values, test.rows))).toBe(1);
  });

  it('sends a row exactly on a threshold left', () => {
    const train = labelledMatrix(2000, 4, 3, rule, drawInteger);
    const model = trainDecisionTree(train, CLASSES);
    const onThreshold = Float32Array.from([3, 0.9, 0, 0]);
    const justAbove = Float32Array.from([Math.fround(3 + 2 ** -21), 0.9, 0, 0]);
    expect(modelLabels(model, onThreshold, 1)[0]).toBe(0);
    expect(modelLabels(model, justAbove, 1)[0]).toBe(2);
  });

  it('stores class frequencies in the leaves', () => {
    const train = noisyBlobs(3000, 4, 5, 0.2);
    const model = trainDecisionTree(train, CLASSES, { maxDepth: 3 });
    const [tree] = model.trees;
    const counts = new Map<number, number[]>();
    for (let row = 0; row < train.rows; row++) {
      const leaf = leafOf(tree, train.values.subarray(row * 4, row * 4 + 4));
      const leafCounts = counts.get(leaf) ?? [0, 0, 0];
      leafCounts[train.labels[row]]++;
      counts.set(leaf, leafCounts);
    }
    for (const [leaf, leafCounts] of counts) {
      const total = leafCounts[0] + leafCounts[1] + leafCounts[2];
      for (let label = 0; label < 3; label++) expect(tree.value[leaf * 3 + label]).toBeCloseTo(leafCounts[label] / total, 6);
    }
    const probabilities = modelProbabilities(model, train.values, train.rows);
    for (let row = 0; row < train.rows; row++) {
      expect(probabilities[row * 3] + probabilities[row * 3 + 1] + probabilities[row * 3 + 2]).toBeCloseTo(1, 5);
    }
  });

  it('respects maxDepth, minSamplesPerLeaf and, best first, maxLeaves', () => {
    const train = noisyBlobs(3000, 4, 6, 0.3);
    const shallow = trainDecisionTree(train, CLASSES, { maxDepth: 4 });
    expect(treeDepth(shallow.trees[0])).toBe(4);

    const sturdy = trainDecisionTree(train, CLASSES, { minSamplesPerLeaf: 50 });
    const rowsPerLeaf = new Map<number, number>();
    for (let row = 0; row < train.rows; row++) {
      const leaf = leafOf(sturdy.trees[0], train.values.subarray(row * 4, row * 4 + 4));
      rowsPerLeaf.set(leaf, (rowsPerLeaf.get(leaf) ?? 0) + 1);
    }
    expect(Math.min(...rowsPerLeaf.values())).toBeGreaterThanOrEqual(50);

    const small = trainDecisionTree(train, CLASSES, { growPolicy: 'lossguide', maxLeaves: 7 });
    expect(leafCount(small.trees[0])).toBe(7);
    expect(accuracy(train.labels, modelLabels(small, train.values, train.rows))).toBeGreaterThan(majorityAccuracy(train.labels, 3) + 0.2);
  });

  it('reports every invalid option and data problem at once', () => {
    const train = labelledMatrix(10, 2, 1, () => 0);
    const broken = { ...train, labels: Int32Array.from([0, 1, 2, 3, 0, 0, 0, 0, 0, 0]) };
    let caught: unknown;
    try {
      trainDecisionTree(broken, CLASSES, { maxDepth: -1, minSamplesPerLeaf: 0, maxBin: 300, growPolicy: 'sideways' as 'depthwise' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionsError);
    const problems = (caught as InvalidOptionsError).problems;
    expect(problems).toHaveLength(5);
    for (const name of ['maxDepth', 'minSamplesPerLeaf', 'maxBin', 'growPolicy', 'labels']) expect(problems.join('\n')).toContain(name);
  });
});
