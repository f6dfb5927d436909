/**
 * Classification trees on class-weight histograms (CART with Gini): the decision tree is one of them
 * on all rows, the random forest many on bootstrap draws with few features per node.
 */
import { binFeatureMatrix, fitFeatureBinning } from './binning';
import { grownTreeToIR, TreeGrower, type GrownTree } from './grow';
import { ClassWeightStatistics, type GrowPolicy } from './node-statistics';
import { SeededRandom } from './random';
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
): TreeIR[] {
  const { rows, columns } = matrix;
  const binning = fitFeatureBinning(matrix.values, rows, columns, {
    maxBin: settings.maxBin,
    sampleRows: settings.binSampleRows,
    seed: settings.seed,
  });
  const binned = binFeatureMatrix(matrix.values, rows, columns, binning);
  const sampleWeights = matrix.weights;
  // a separate row-count channel is only needed when weights are not counts and leaves need > 1 row
  const countChannel = sampleWeights !== undefined && settings.minSamplesPerLeaf > 1;
  const grower = new TreeGrower(binned, classCount + (countChannel ? 1 : 0));
  const treeFeatures = allFeatures(columns);
  const rowIndices = new Int32Array(rows);
  const draws = new Float32Array(rows);
  const weights = new Float32Array(rows);
  const trees: TreeIR[] = [];
  progress.start('trees', settings.treeCount, 'trees');
  for (let treeIndex = 0; treeIndex < settings.treeCount; treeIndex++) {
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
    const statistics = new ClassWeightStatistics(classCount, matrix.labels, weights, countChannel ? draws : undefined);
    const tree = grower.grow({
      statistics,
      rowIndices,
      rowCount,
      treeFeatures,
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
    trees.push(grownTreeToIR(tree, binning, classCount, classFrequencyWriter(tree, classCount, settings.treeCount)));
    progress.update(treeIndex + 1);
  }
  progress.stop();
  return trees;
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
