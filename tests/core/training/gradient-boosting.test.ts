import { describe, expect, it } from 'vitest';
import { accuracy, CLASSES, labelledMatrix, leafCount, leafOf, majorityAccuracy, macroF1, treeDepth } from './synthetic-data';
import { InvalidOptionsError } from '../../../core/errors';
import type { FeatureMatrix } from '../../../core/training/model';
import { modelLabels, modelProbabilities } from '../../../core/training/model-outputs';
import { trainGradientBoostedTrees } from '../../../core/training/trees/gradient-boosting';

/** XOR of two off-centre thresholds, a third class from a third feature, 5% random labels. */
const xorLike = (features: Float32Array, random: { nextFloat(): number; nextInt(bound: number): number }): number => {
  if (random.nextFloat() < 0.05) return random.nextInt(3);
  if (features[2] > 0.8) return 2;
  return features[0] > 0.3 !== features[1] > 0.6 ? 1 : 0;
};

describe('trainGradientBoostedTrees', () => {
  const train = labelledMatrix(6000, 6, 31, xorLike);
  const test = labelledMatrix(6000, 6, 32, xorLike);

  it('learns an XOR-like rule far above the majority baseline', () => {
    const { model } = trainGradientBoostedTrees(train, CLASSES, { rounds: 30, maxDepth: 4 });
    const predicted = modelLabels(model, test.values, test.rows);
    expect(accuracy(test.labels, predicted)).toBeGreaterThan(0.93);
    expect(accuracy(test.labels, predicted)).toBeGreaterThan(majorityAccuracy(test.labels, 3) + 0.4);
    expect(macroF1(test.labels, predicted, 3)).toBeGreaterThan(0.9);
  });

  it('outputs softmax of base values plus summed leaf values, each tree adding to its own class only', () => {
    const { model } = trainGradientBoostedTrees(train, CLASSES, { rounds: 5, maxDepth: 3 });
    expect(model.postTransform).toBe('softmax');
    expect(model.trees).toHaveLength(15);
    model.trees.forEach((tree, index) => {
      for (let node = 0; node < tree.feature.length; node++) {
        for (let label = 0; label < 3; label++) if (label !== index % 3) expect(tree.value[node * 3 + label]).toBe(0);
      }
      expect(treeDepth(tree)).toBeLessThanOrEqual(3);
    });
    const probabilities = modelProbabilities(model, test.values.subarray(0, 50 * 6), 50);
    for (let row = 0; row < 50; row++) {
      const features = test.values.subarray(row * 6, row * 6 + 6);
      const scores = Array.from(model.baseValues);
      for (const tree of model.trees) {
        const leaf = leafOf(tree, features);
        for (let label = 0; label < 3; label++) scores[label] += tree.value[leaf * 3 + label];
      }
      const maximum = Math.max(...scores);
      const total = scores.reduce((sum, score) => sum + Math.exp(score - maximum), 0);
      for (let label = 0; label < 3; label++) expect(probabilities[row * 3 + label]).toBeCloseTo(Math.exp(scores[label] - maximum) / total, 6);
    }
  });

  it('starts from the log class priors', () => {
    const { model } = trainGradientBoostedTrees(train, CLASSES, { rounds: 1 });
    const counts = [0, 0, 0];
    for (const label of train.labels) counts[label]++;
    for (let label = 0; label < 3; label++) expect(model.baseValues[label]).toBeCloseTo(Math.log(counts[label] / train.rows), 5);
  });

  it('is deterministic for a seed, with row and column subsampling', () => {
    const options = { rounds: 6, rowSampleFraction: 0.7, columnSampleByTree: 0.8, columnSampleByNode: 0.6, seed: 9 };
    const first = trainGradientBoostedTrees(train, CLASSES, options).model;
    const again = trainGradientBoostedTrees(train, CLASSES, options).model;
    const other = trainGradientBoostedTrees(train, CLASSES, { ...options, seed: 10 }).model;
    expect(again.trees).toEqual(first.trees);
    expect(other.trees).not.toEqual(first.trees);
  });

  it('stops early on the validation loss and keeps the best round', () => {
    // mostly random labels and a large learning rate: the validation loss soon turns up
    const noisy = (features: Float32Array, random: { nextFloat(): number; nextInt(bound: number): number }): number =>
      random.nextFloat() < 0.6 ? random.nextInt(3) : features[0] > 0.5 ? 1 : 0;
    const noisyTrain = labelledMatrix(3000, 6, 41, noisy);
    const validation = labelledMatrix(3000, 6, 42, noisy);
    const options = { rounds: 200, learningRate: 0.5, maxDepth: 6, earlyStoppingRounds: 5 };
    const result = trainGradientBoostedTrees(noisyTrain, CLASSES, options, { validation });
    const losses = Array.from(result.validationLoss!);
    expect(result.roundsTrained).toBeLessThan(200);
    expect(losses).toHaveLength(result.roundsTrained);
    const best = losses.indexOf(Math.min(...losses));
    expect(result.roundsKept).toBe(best + 1);
    expect(result.roundsTrained).toBe(best + 1 + 5);
    expect(result.model.trees).toHaveLength(result.roundsKept * 3);
    // the kept model's validation loss is the best one
    const probabilities = modelProbabilities(result.model, validation.values, validation.rows);
    let loss = 0;
    for (let row = 0; row < validation.rows; row++) loss -= Math.log(probabilities[row * 3 + validation.labels[row]]);
    expect(loss / validation.rows).toBeCloseTo(losses[best], 4);
  });

  it('reports progress in rounds', () => {
    const updates: number[] = [];
    let started: unknown[] = [];
    let stopped = false;
    trainGradientBoostedTrees(train, CLASSES, { rounds: 4, maxDepth: 2 }, {
      progress: { start: (...args) => (started = args), update: (done) => updates.push(done), stop: () => (stopped = true) },
    });
    expect(started).toEqual(['boosting', 4, 'rounds']);
    expect(updates).toEqual([1, 2, 3, 4]);
    expect(stopped).toBe(true);
  });

  it('grows best-first up to maxLeaves and keeps minSamplesPerLeaf rows in every leaf', () => {
    const { model } = trainGradientBoostedTrees(train, CLASSES, { rounds: 3, growPolicy: 'lossguide', maxDepth: 0, maxLeaves: 5, minSamplesPerLeaf: 40 });
    for (const tree of model.trees) {
      expect(leafCount(tree)).toBeLessThanOrEqual(5);
      const rowsPerLeaf = new Map<number, number>();
      for (let row = 0; row < train.rows; row++) {
        const leaf = leafOf(tree, train.values.subarray(row * 6, row * 6 + 6));
        rowsPerLeaf.set(leaf, (rowsPerLeaf.get(leaf) ?? 0) + 1);
      }
      expect(Math.min(...rowsPerLeaf.values())).toBeGreaterThanOrEqual(40);
    }
    expect(model.trees.some((tree) => leafCount(tree) === 5)).toBe(true);
  });

  it('reports every invalid option and data problem at once', () => {
    const validation: FeatureMatrix = { rows: 2, columns: 5, values: new Float32Array(10), labels: new Int32Array(2) };
    let caught: unknown;
    try {
      trainGradientBoostedTrees(
        train,
        CLASSES,
        { rounds: 0, learningRate: -1, maxBin: 1000, rowSampleFraction: 2, growPolicy: 'sideways' as 'depthwise', earlyStoppingRounds: 0 },
        { validation },
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionsError);
    const problems = (caught as InvalidOptionsError).problems;
    expect(problems).toHaveLength(7);
    for (const name of ['rounds', 'learningRate', 'maxBin', 'rowSampleFraction', 'growPolicy', 'earlyStoppingRounds', 'validation matrix']) {
      expect(problems.join('\n')).toContain(name);
    }
  });
});
