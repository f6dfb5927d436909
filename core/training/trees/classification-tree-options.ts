/**
 * What the decision tree and the random forest share: the options of one CART tree, their checks and
 * defaults, and the step from options to a trained ensemble (classification-forest.ts grows the trees).
 * Each trainer adds its own options (the forest's tree count, bootstrap, features per node; the tree's
 * column sampling) and says how many trees to grow on which rows.
 */
import { DEFAULT_BIN_SAMPLE_ROWS, MAX_BIN_LIMIT } from './binning';
import { growClassificationForest } from './classification-forest';
import { GROW_POLICIES, type GrowPolicy } from './node-statistics';
import { checkChoiceOption, checkIntegerOption, checkNumberOption, limitOrInfinity } from './option-checks';
import type { TreeThreadPool } from './thread-pool';
import { checkClasses, checkFeatureMatrix } from './training-data';
import type { ProblemCollector } from '../../errors';
import type { ProgressReporter } from '../../progress';
import type { FeatureMatrix, TreeEnsembleIR } from '../model';

/** The options of each CART tree, alone or in a forest. */
export interface ClassificationTreeOptions {
  /** Maximum depth (the root is depth 0); 0 = no limit. @default 0 */
  readonly maxDepth?: number;
  /** Maximum leaves per tree; 0 = no limit. @default 0 */
  readonly maxLeaves?: number;
  /** Minimum rows in each leaf (bootstrap draws counted). @default 1 */
  readonly minSamplesPerLeaf?: number;
  /** Minimum total weight in each leaf (sample weight × draws). @default 0 */
  readonly minChildWeight?: number;
  /**
   * Minimum decrease of weighted Gini impurity a split must bring, as a fraction of the tree's total
   * training weight (scikit-learn's `min_impurity_decrease`). @default 0
   */
  readonly minSplitGain?: number;
  /** Level by level, or best split first (useful with `maxLeaves`). @default 'depthwise' */
  readonly growPolicy?: GrowPolicy;
  /** Quantile bins per feature, 2–256, a missing-value bin included. @default 256 */
  readonly maxBin?: number;
  /** Rows sampled to place the bin cuts. @default 100000 */
  readonly binSampleRows?: number;
  /** Seed of every random choice (bin sampling, rows, features); tree i draws from its own stream. @default 0 */
  readonly seed?: number;
}

/** Records every problem of the tree options, the classes and the training matrix. */
export function checkClassificationTreeOptions(
  problems: ProblemCollector,
  options: ClassificationTreeOptions,
  classes: readonly string[],
  matrix: FeatureMatrix,
): void {
  checkIntegerOption(problems, 'maxDepth', options.maxDepth, 0);
  checkIntegerOption(problems, 'maxLeaves', options.maxLeaves, 0);
  if (options.maxLeaves !== undefined) problems.check(options.maxLeaves !== 1, 'maxLeaves must be 0 (no limit) or at least 2 (got 1)');
  checkIntegerOption(problems, 'minSamplesPerLeaf', options.minSamplesPerLeaf, 1);
  checkNumberOption(problems, 'minChildWeight', options.minChildWeight, 0);
  checkNumberOption(problems, 'minSplitGain', options.minSplitGain, 0);
  checkChoiceOption(problems, 'growPolicy', options.growPolicy, GROW_POLICIES);
  checkIntegerOption(problems, 'maxBin', options.maxBin, 2, MAX_BIN_LIMIT);
  checkIntegerOption(problems, 'binSampleRows', options.binSampleRows, 1);
  checkIntegerOption(problems, 'seed', options.seed, 0, 0xffffffff);
  checkClasses(problems, classes);
  checkFeatureMatrix(problems, 'training matrix', matrix, classes.length);
}

/** How many trees a trainer grows, on which rows, examining how many features at each node. */
export interface ForestShape {
  readonly treeCount: number;
  readonly bootstrap: boolean;
  readonly sampleFraction: number;
  readonly nodeFeatureCount: number;
}

/**
 * Grows the trees of checked options (defaults applied); leaves hold class frequencies divided by the
 * number of trees, so the summed scores are probabilities as they are (postTransform 'none').
 */
export function trainClassificationTrees(
  matrix: FeatureMatrix,
  classes: readonly string[],
  options: ClassificationTreeOptions,
  shape: ForestShape,
  progress: ProgressReporter,
  threads: TreeThreadPool | undefined,
): TreeEnsembleIR {
  const trees = growClassificationForest(
    matrix,
    classes.length,
    {
      ...shape,
      maxDepth: limitOrInfinity(options.maxDepth ?? 0),
      maxLeaves: limitOrInfinity(options.maxLeaves ?? 0),
      minSamplesPerLeaf: options.minSamplesPerLeaf ?? 1,
      minChildWeight: options.minChildWeight ?? 0,
      minSplitGain: options.minSplitGain ?? 0,
      growPolicy: options.growPolicy ?? 'depthwise',
      maxBin: options.maxBin ?? MAX_BIN_LIMIT,
      binSampleRows: options.binSampleRows ?? DEFAULT_BIN_SAMPLE_ROWS,
      seed: options.seed ?? 0,
    },
    progress,
    threads,
  );
  return {
    kind: 'trees',
    classes: [...classes],
    featureCount: matrix.columns,
    trees,
    baseValues: new Float32Array(classes.length),
    postTransform: 'none',
  };
}
