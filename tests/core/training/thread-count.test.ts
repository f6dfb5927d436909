/**
 * Same seed → same model bytes, whatever the number of training threads: every tree trainer, in
 * each of its parallel regimes, exported to ONNX with 1, 2 and 3 threads and without a pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelledMatrix, normal } from './synthetic-data';
import { exportOnnx } from '../../../core/onnx/export';
import type { FeatureMatrix, TreeEnsembleIR } from '../../../core/training/model';
import { trainDecisionTree } from '../../../core/training/trees/decision-tree';
import { trainGradientBoostedTrees, type GradientBoostingOptions } from '../../../core/training/trees/gradient-boosting';
import { trainRandomForest } from '../../../core/training/trees/random-forest';
import { TreeThreadPool } from '../../../core/training/trees/thread-pool';

const CLASSES = ['LA', 'MM', 'UM'];
const COLUMNS = 24;

/**
 * 3,000 rows (enough for the node searches to go to the threads), a few low-cardinality columns
 * (many empty bins, ties within a feature), NaNs in one column, and columns 12… copying columns 0…
 * so that features in different blocks reach exactly the same gain (the tie must go to the lower
 * feature, as on one thread).
 */
function matrixWithTies(seed: number, rows = 3000): FeatureMatrix {
  const base = labelledMatrix(
    rows,
    COLUMNS,
    seed,
    (features, random) => {
      if (random.nextFloat() < 0.1) return random.nextInt(3);
      const score = features[0] + 0.6 * features[1] - 0.4 * features[3] + 0.3 * features[5];
      return score < 0.4 ? 0 : score > 1.1 ? 2 : 1;
    },
    (random, column) => (column % 4 === 3 ? random.nextInt(5) : column === 7 && random.nextFloat() < 0.1 ? Number.NaN : random.nextFloat() + 0.1 * normal(random)),
  );
  const values = Float32Array.from(base.values);
  for (let row = 0; row < base.rows; row++) for (let column = 12; column < COLUMNS; column++) values[row * COLUMNS + column] = values[row * COLUMNS + column - 12];
  return { ...base, values };
}

const onnxBytes = (model: TreeEnsembleIR): Buffer =>
  Buffer.from(exportOnnx(model, { featureSpecVersion: 'test', featureSpecHash: 'test', featureNames: Array.from({ length: COLUMNS }, (_, index) => `f${index}`), algorithm: 'test' }));

describe('tree trainers give the same model bytes with any number of threads', () => {
  const matrix = matrixWithTies(5);
  const validation = matrixWithTies(6);
  const pools = new Map<number, TreeThreadPool>();
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) pools.set(threads, await TreeThreadPool.start({ threads }));
  });
  afterAll(async () => {
    for (const pool of pools.values()) await pool.close();
  });

  /** The model trained without a pool, then with each pool; every pool of several threads must have run jobs. */
  function expectSameBytes(train: (threads: TreeThreadPool | undefined) => TreeEnsembleIR): void {
    const reference = onnxBytes(train(undefined));
    for (const [threads, pool] of pools) {
      const jobsBefore = pool.jobsRun;
      expect(onnxBytes(train(pool)).equals(reference), `${threads} threads`).toBe(true);
      if (threads > 1) expect(pool.jobsRun, `${threads} threads ran parallel jobs`).toBeGreaterThan(jobsBefore);
    }
  }

  const boosting: Record<string, GradientBoostingOptions> = {
    'three-class roots in one pass, depthwise': { rounds: 12, maxDepth: 5 },
    'row and column sampling, a row-count channel': { rounds: 8, rowSampleFraction: 0.8, columnSampleByTree: 0.75, columnSampleByNode: 0.8, minSamplesPerLeaf: 4, seed: 3 },
    'few features per node (direct histograms), best leaf first': { rounds: 6, columnSampleByNode: 0.45, growPolicy: 'lossguide', maxLeaves: 24, maxDepth: 0, seed: 4 },
  };
  for (const [name, options] of Object.entries(boosting)) {
    it(`gradient boosting: ${name}`, () => {
      expectSameBytes((threads) => trainGradientBoostedTrees(matrix, CLASSES, options, { threads }).model);
    });
  }

  it('gradient boosting on more rows: whole levels of nodes partitioned on the threads', () => {
    const larger = matrixWithTies(7, 24_000);
    expectSameBytes((threads) => trainGradientBoostedTrees(larger, CLASSES, { rounds: 3, maxDepth: 6, rowSampleFraction: 0.9, seed: 5 }, { threads }).model);
  });

  it('gradient boosting with early stopping keeps the same rounds', () => {
    const rounds = new Set<number>();
    expectSameBytes((threads) => {
      const result = trainGradientBoostedTrees(matrix, CLASSES, { rounds: 40, learningRate: 0.5, earlyStoppingRounds: 3 }, { threads, validation });
      rounds.add(result.roundsKept);
      return result.model;
    });
    expect(rounds.size).toBe(1);
  });

  it('random forest: whole trees on the threads, with sample weights', () => {
    const weights = Float32Array.from({ length: matrix.rows }, (_, row) => 0.5 + (row % 3));
    expectSameBytes((threads) => trainRandomForest({ ...matrix, weights }, CLASSES, { treeCount: 7, maxDepth: 10, minSamplesPerLeaf: 3, seed: 8 }, { threads }));
  });

  it('decision tree: node searches on the threads', () => {
    expectSameBytes((threads) => trainDecisionTree(matrix, CLASSES, { maxDepth: 10, minSamplesPerLeaf: 5 }, { threads }));
  });

  it('a one-tree forest searches nodes on the threads, with a row-count channel', () => {
    const weights = Float32Array.from({ length: matrix.rows }, (_, row) => 1 + (row % 2));
    expectSameBytes((threads) => trainRandomForest({ ...matrix, weights }, CLASSES, { treeCount: 1, maxDepth: 8, minSamplesPerLeaf: 6, featuresPerNode: 'all', seed: 2 }, { threads }));
  });
});
