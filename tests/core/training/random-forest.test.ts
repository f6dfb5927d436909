import { describe, expect, it } from 'vitest';
import { accuracy, CLASSES, majorityAccuracy, noisyBlobs } from './synthetic-data';
import { InvalidOptionsError } from '../../../core/errors';
import { modelLabels, modelProbabilities } from '../../../core/training/model-outputs';
import { trainDecisionTree } from '../../../core/training/trees/decision-tree';
import { trainRandomForest } from '../../../core/training/trees/random-forest';

describe('trainRandomForest', () => {
  const train = noisyBlobs(4000, 10, 21, 0.15);
  const test = noisyBlobs(4000, 10, 22, 0.15);

  it('beats the majority baseline clearly, and a fully grown single tree, on noisy blobs', () => {
    const forest = trainRandomForest(train, CLASSES, { treeCount: 30, seed: 1 });
    const forestAccuracy = accuracy(test.labels, modelLabels(forest, test.values, test.rows));
    const tree = trainDecisionTree(train, CLASSES);
    const treeAccuracy = accuracy(test.labels, modelLabels(tree, test.values, test.rows));
    expect(forestAccuracy).toBeGreaterThan(majorityAccuracy(test.labels, 3) + 0.3);
    expect(forestAccuracy).toBeGreaterThan(treeAccuracy + 0.03);
  });

  it('averages class frequencies: probabilities sum to 1', () => {
    const forest = trainRandomForest(train, CLASSES, { treeCount: 12, maxDepth: 6, seed: 2 });
    expect(forest.postTransform).toBe('none');
    expect(forest.trees).toHaveLength(12);
    const probabilities = modelProbabilities(forest, test.values, test.rows);
    for (let row = 0; row < test.rows; row++) {
      let sum = 0;
      for (let label = 0; label < 3; label++) {
        const probability = probabilities[row * 3 + label];
        expect(probability).toBeGreaterThanOrEqual(0);
        sum += probability;
      }
      expect(sum).toBeCloseTo(1, 5);
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const options = { treeCount: 5, maxDepth: 8, seed: 3 };
    const first = trainRandomForest(train, CLASSES, options);
    const again = trainRandomForest(train, CLASSES, options);
    const other = trainRandomForest(train, CLASSES, { ...options, seed: 4 });
    expect(again.trees).toEqual(first.trees);
    expect(other.trees).not.toEqual(first.trees);
  });

  it('reports progress per tree', () => {
    const events: string[] = [];
    trainRandomForest(train, CLASSES, { treeCount: 3, maxDepth: 3 }, {
      progress: {
        start: (phase, total, unit) => events.push(`start ${phase} ${total} ${unit}`),
        update: (done) => events.push(`update ${done}`),
        stop: () => events.push('stop'),
      },
    });
    expect(events).toEqual(['start trees 3 trees', 'update 1', 'update 2', 'update 3', 'stop']);
  });

  it('reports every invalid option at once', () => {
    let caught: unknown;
    try {
      trainRandomForest(train, CLASSES, { treeCount: 0, featuresPerNode: 'half' as 'sqrt', sampleFraction: 0, minChildWeight: -1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionsError);
    expect((caught as InvalidOptionsError).problems).toHaveLength(4);
  });
});
