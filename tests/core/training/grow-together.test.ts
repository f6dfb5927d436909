/**
 * Trees grown together (a boosting round's class trees, their levels in shared parallel jobs) are
 * the trees each grower grows alone, with no pool and with 1, 2 and 3 threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noisyBlobs } from './synthetic-data';
import { InvalidOptionsError } from '../../../core/errors';
import { binTrainingMatrix } from '../../../core/training/trees/binning-tasks';
import { TreeGrower, type GrownTree, type GrowRequest } from '../../../core/training/trees/grow';
import { GradientStatistics, type GrowthLimits } from '../../../core/training/trees/node-statistics';
import { SeededRandom } from '../../../core/training/trees/random';
import { TreeThreadPool } from '../../../core/training/trees/thread-pool';
import { allFeatures } from '../../../core/training/trees/training-data';
import { TrainingMemory } from '../../../core/training/trees/training-memory';

const ROWS = 24_000;
const COLUMNS = 8;
const depthwise: GrowthLimits = { maxDepth: 6, maxLeaves: Number.POSITIVE_INFINITY, minSamplesPerLeaf: 1, minChildWeight: 1, minSplitGain: 0, growPolicy: 'depthwise' };
/** Per tree: its own shape, so trees stop at different levels and mix level batches with best-first ones. */
const TREE_LIMITS: readonly GrowthLimits[] = [
  depthwise,
  { ...depthwise, maxDepth: 2 },
  { ...depthwise, maxDepth: Number.POSITIVE_INFINITY, maxLeaves: 19, growPolicy: 'lossguide' },
];

/** What a grown tree is, copied out of the grower's buffers. */
function snapshot(tree: GrownTree): Record<string, number[]> {
  return {
    feature: Array.from(tree.feature),
    bin: Array.from(tree.bin),
    left: Array.from(tree.left),
    right: Array.from(tree.right),
    rowStart: Array.from(tree.rowStart),
    rowEnd: Array.from(tree.rowEnd),
    totals: Array.from(tree.totals),
    rows: Array.from(tree.rowIndices),
  };
}

describe('trees grown together', () => {
  const matrix = noisyBlobs(ROWS, COLUMNS, 71, 0.15);
  for (let row = 0; row < ROWS; row++) matrix.values[row * COLUMNS + 5] = Math.round(matrix.values[row * COLUMNS + 5] * 3);
  const pools = new Map<number, TreeThreadPool>();
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) pools.set(threads, await TreeThreadPool.start({ threads }));
  });
  afterAll(async () => {
    for (const pool of pools.values()) await pool.close();
  });

  /** Three trees of different gradients over one binned matrix, in `memory`, each with its own grower. */
  function setUp(memory: TrainingMemory, threads: TreeThreadPool | undefined) {
    const binned = binTrainingMatrix(matrix.values, ROWS, COLUMNS, { maxBin: 64, sampleRows: 10_000, seed: 0 }, memory, threads);
    const random = new SeededRandom(9);
    const requests = TREE_LIMITS.map((limits, tree): GrowRequest => {
      const pairs = memory.float32(2 * ROWS);
      for (let row = 0; row < ROWS; row++) {
        const probability = 0.2 + 0.6 * random.nextFloat();
        pairs[2 * row] = probability - (matrix.labels[row] === tree ? 1 : 0);
        pairs[2 * row + 1] = 2 * probability * (1 - probability);
      }
      const rowIndices = memory.int32(ROWS);
      for (let row = 0; row < ROWS; row++) rowIndices[row] = row;
      const statistics = new GradientStatistics(pairs, 1, false, memory.kernels);
      return { statistics, rowIndices, rowCount: ROWS, treeFeatures: allFeatures(COLUMNS), nodeFeatureCount: COLUMNS, limits, random: new SeededRandom(tree) };
    });
    const growers = requests.map(() => new TreeGrower(binned, 2, memory, threads));
    return { requests, growers };
  }

  it('are the trees each grower grows alone, with any number of threads', () => {
    const alone = setUp(TrainingMemory.create(), undefined);
    const reference = alone.requests.map((request, tree) => snapshot(alone.growers[tree].grow(request)));
    expect(reference.map((tree) => tree.feature.length)).toEqual([expect.any(Number), 7, 37]);
    expect(reference[0].feature.length).toBeGreaterThan(40);

    const together = setUp(TrainingMemory.create(), undefined);
    expect(TreeGrower.growTogether(together.growers, together.requests).map(snapshot), 'no pool').toEqual(reference);
    for (const [threads, pool] of pools) {
      const { growers, requests } = setUp(pool.memory, pool);
      const jobsBefore = pool.jobsRun;
      expect(TreeGrower.growTogether(growers, requests).map(snapshot), `${threads} threads`).toEqual(reference);
      if (threads > 1) expect(pool.jobsRun, `${threads} threads ran parallel jobs`).toBeGreaterThan(jobsBefore);
      pool.release();
    }
  });

  it('refuse growers or row indices shared between trees, and trees with other child minimums', () => {
    const { growers, requests } = setUp(TrainingMemory.create(), undefined);
    expect(() => TreeGrower.growTogether([growers[0], growers[0]], requests.slice(0, 2))).toThrow(/its own grower/);
    expect(() => TreeGrower.growTogether(growers.slice(0, 2), [requests[0], { ...requests[1], rowIndices: requests[0].rowIndices }])).toThrow(/its own row indices/);
    expect(() => TreeGrower.growTogether(growers.slice(0, 2), [requests[0], { ...requests[1], limits: { ...depthwise, minChildWeight: 2 } }])).toThrow(
      /other child minimums/,
    );
    expect(() => TreeGrower.growTogether(growers, requests.slice(0, 2))).toThrow(InvalidOptionsError);
  });
});
