/**
 * Classification trees on class-weight histograms (CART with Gini): the decision tree is one of them
 * on all rows, the random forest many on bootstrap draws with few features per node.
 *
 * With threads, a forest grows whole trees on every thread at once (tree i draws from its own random
 * stream, so it is the same tree whichever thread grows it); a single tree searches its nodes on the
 * threads instead.
 */
import { binFeatureMatrix, binnedMatrixInMemory, fitFeatureBinning, type BinnedMatrix, type FeatureBinning } from './binning';
import { grownTreeToIR, TreeGrower, type GrownTree } from './grow';
import { ClassWeightStatistics, type GrowPolicy } from './node-statistics';
import { SeededRandom } from './random';
import { TASK_KINDS, type TaskEnvironment } from './task-kinds';
import type { TreeThreadPool } from './thread-pool';
import { allFeatures } from './training-data';
import type { ProgressReporter } from '../../progress';
import type { FeatureMatrix, TreeIR } from '../model';

/** Resolved settings (no limit = Infinity). */
export interface ClassificationForestSettings {
  readonly treeCount: number;
  /** Draw `round(sampleFraction · rows)` rows with replacement per tree; else every tree sees every row once. */
  readonly bootstrap: boolean;
  readonly sampleFraction: number;
  readonly nodeFeatureCount: number;
  readonly maxDepth: number;
  readonly maxLeaves: number;
  readonly minSamplesPerLeaf: number;
  readonly minChildWeight: number;
  /** Minimum weighted impurity decrease as a fraction of the tree's total weight. */
  readonly minSplitGain: number;
  readonly growPolicy: GrowPolicy;
  readonly maxBin: number;
  readonly binSampleRows: number;
  readonly seed: number;
}

/**
 * Grows the trees; leaf values are the leaf's class frequencies divided by the number of trees (so
 * the sum over trees is the forest's average).
 */
export function growClassificationForest(
  matrix: FeatureMatrix,
  classCount: number,
  settings: ClassificationForestSettings,
  progress: ProgressReporter,
  threads?: TreeThreadPool,
): TreeIR[] {
  const { rows, columns } = matrix;
  const binning = fitFeatureBinning(matrix.values, rows, columns, {
    maxBin: settings.maxBin,
    sampleRows: settings.binSampleRows,
    seed: settings.seed,
  });
  const binned = binFeatureMatrix(matrix.values, rows, columns, binning);
  progress.start('trees', settings.treeCount, 'trees');
  try {
    if (threads === undefined || threads.threads === 1) {
      const forest = new ForestTrees(binned, matrix.labels, matrix.weights, classCount, settings);
      const trees: TreeIR[] = [];
      for (let treeIndex = 0; treeIndex < settings.treeCount; treeIndex++) {
        trees.push(forest.grow(treeIndex));
        progress.update(treeIndex + 1);
      }
      return trees;
    }
    const shared = binnedMatrixInMemory(binned, threads.memory);
    const labels = threads.share(matrix.labels);
    const weights = matrix.weights === undefined ? undefined : threads.share(matrix.weights);
    if (settings.treeCount === 1) {
      const forest = new ForestTrees(shared, labels, weights, classCount, settings, threads);
      const tree = forest.grow(0);
      progress.update(1);
      return [tree];
    }
    return growTreesOnThreads(threads, shared, labels, weights, classCount, settings, progress);
  } finally {
    progress.stop();
    threads?.release();
  }
}

/** Grows one tree of a forest at a time, reusing its buffers. */
class ForestTrees {
  private readonly grower: TreeGrower;
  private readonly treeFeatures: Int32Array;
  private readonly rowIndices: Int32Array;
  private readonly draws: Float32Array;
  private readonly weights: Float32Array;
  private readonly countChannel: boolean;

  /** @param threads search each tree's nodes on these (for a single tree) */
  constructor(
    private readonly binned: BinnedMatrix,
    private readonly labels: Int32Array,
    private readonly sampleWeights: Float32Array | undefined,
    private readonly classCount: number,
    private readonly settings: ClassificationForestSettings,
    threads?: TreeThreadPool,
  ) {
    const { rows, columns } = binned;
    // a separate row-count channel is only needed when weights are not counts and leaves need > 1 row
    this.countChannel = sampleWeights !== undefined && settings.minSamplesPerLeaf > 1;
    this.grower = new TreeGrower(binned, classCount + (this.countChannel ? 1 : 0), threads?.memory, threads);
    this.treeFeatures = allFeatures(columns);
    this.rowIndices = threads?.int32(rows) ?? new Int32Array(rows);
    this.draws = threads?.float32(rows) ?? new Float32Array(rows);
    this.weights = threads?.float32(rows) ?? new Float32Array(rows);
  }

  /** Tree `treeIndex` of the forest (its rows and features drawn from its own random stream). */
  grow(treeIndex: number): TreeIR {
    const { settings, draws, weights, rowIndices, sampleWeights } = this;
    const rows = this.binned.rows;
    const random = new SeededRandom(settings.seed, treeIndex + 1);
    draws.fill(settings.bootstrap ? 0 : 1);
    if (settings.bootstrap) {
      const drawCount = Math.max(1, Math.round(settings.sampleFraction * rows));
      for (let draw = 0; draw < drawCount; draw++) draws[random.nextInt(rows)]++;
    }
    let rowCount = 0;
    let totalWeight = 0;
    for (let row = 0; row < rows; row++) {
      const weight = draws[row] * (sampleWeights === undefined ? 1 : sampleWeights[row]);
      weights[row] = weight;
      if (weight > 0) {
        rowIndices[rowCount++] = row;
        totalWeight += weight;
      }
    }
    const statistics = new ClassWeightStatistics(this.classCount, this.labels, weights, this.countChannel ? draws : undefined);
    const tree = this.grower.grow({
      statistics,
      rowIndices,
      rowCount,
      treeFeatures: this.treeFeatures,
      nodeFeatureCount: settings.nodeFeatureCount,
      random,
      limits: {
        maxDepth: settings.maxDepth,
        maxLeaves: settings.maxLeaves,
        minSamplesPerLeaf: settings.minSamplesPerLeaf,
        minChildWeight: settings.minChildWeight,
        minSplitGain: settings.minSplitGain * totalWeight,
        growPolicy: settings.growPolicy,
      },
    });
    return grownTreeToIR(tree, this.binned.binning, this.classCount, classFrequencyWriter(tree, this.classCount, settings.treeCount));
  }
}

function classFrequencyWriter(tree: GrownTree, classCount: number, treeCount: number) {
  return (node: number, values: Float32Array, offset: number): void => {
    const totalsOffset = node * tree.channels;
    let total = 0;
    for (let label = 0; label < classCount; label++) total += tree.totals[totalsOffset + label];
    for (let label = 0; label < classCount; label++) {
      // a tree whose draws all had weight 0 has an empty root: it votes uniformly
      const frequency = total > 0 ? tree.totals[totalsOffset + label] / total : 1 / classCount;
      values[offset + label] = frequency / treeCount;
    }
  };
}

/** What every thread needs to grow trees of one forest (arrays as byte offsets in the pool's memory). */
interface ForestContext {
  readonly codes: number;
  readonly rows: number;
  readonly columns: number;
  readonly binning: FeatureBinning;
  readonly labels: number;
  /** −1 without sample weights. */
  readonly weights: number;
  readonly classCount: number;
  readonly settings: ClassificationForestSettings;
}

/** Integer parameters of the trees job. */
const TREES = { context: 0 } as const;

function growTreesOnThreads(
  threads: TreeThreadPool,
  binned: BinnedMatrix,
  labels: Int32Array,
  weights: Float32Array | undefined,
  classCount: number,
  settings: ClassificationForestSettings,
  progress: ProgressReporter,
): TreeIR[] {
  const context: ForestContext = {
    codes: threads.memory.offsetOf(binned.codes),
    rows: binned.rows,
    columns: binned.columns,
    binning: binned.binning,
    labels: threads.memory.offsetOf(labels),
    weights: weights === undefined ? -1 : threads.memory.offsetOf(weights),
    classCount,
    settings,
  };
  threads.integers[TREES.context] = threads.addContext(context);
  threads.run(TASK_KINDS.growTrees, settings.treeCount, (done) => progress.update(done));
  const trees = new Array<TreeIR>(settings.treeCount);
  for (const message of threads.takeMessages()) if (message.type === 'result') trees[message.task] = message.value as TreeIR;
  progress.update(settings.treeCount);
  return trees;
}

/** One tree of the trees job, on whichever thread claims it; the tree goes back as a result message. */
export function runGrowTreesTask(environment: TaskEnvironment, task: number): void {
  const contextId = environment.integers[TREES.context];
  let cached = environment.local.get('forest') as { readonly id: number; readonly trees: ForestTrees } | undefined;
  if (cached?.id !== contextId) {
    const context = environment.context(contextId) as ForestContext;
    const { memory } = environment;
    const { rows, columns } = context;
    const binned: BinnedMatrix = { rows, columns, codes: memory.view(Uint8Array, context.codes, rows * columns), binning: context.binning };
    const weights = context.weights < 0 ? undefined : memory.view(Float32Array, context.weights, rows);
    cached = { id: contextId, trees: new ForestTrees(binned, memory.view(Int32Array, context.labels, rows), weights, context.classCount, context.settings) };
    environment.local.set('forest', cached);
  }
  const tree = cached.trees.grow(task);
  const transfer = [tree.feature.buffer, tree.threshold.buffer, tree.left.buffer, tree.right.buffer, tree.value.buffer] as ArrayBuffer[];
  environment.send({ type: 'result', task, value: tree }, transfer);
}
