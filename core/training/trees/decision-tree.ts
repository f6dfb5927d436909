/**
 * A CART decision tree: Gini impurity on class-weight histograms. Leaves hold class frequencies, so
 * the model's scores are probabilities as they are (postTransform 'none').
 */
import { DEFAULT_BIN_SAMPLE_ROWS, MAX_BIN_LIMIT } from './binning';
import { growClassificationForest } from './classification-forest';
import { GROW_POLICIES, type GrowPolicy } from './node-statistics';
import { checkChoiceOption, checkFractionOption, checkIntegerOption, checkNumberOption, limitOrInfinity } from './option-checks';
import { checkClasses, checkFeatureMatrix } from './training-data';
import { ProblemCollector } from '../../errors';
import { silentProgress } from '../../progress';
import type { FeatureMatrix, TreeEnsembleIR } from '../model';
import type { TreeThreadPool } from './thread-pool';

export interface DecisionTreeOptions {
  /** Maximum depth (the root is depth 0); 0 = no limit. @default 0 */
  readonly maxDepth?: number;
  /** Maximum number of leaves; 0 = no limit. @default 0 */
  readonly maxLeaves?: number;
  /** Minimum rows in each leaf. @default 1 */
  readonly minSamplesPerLeaf?: number;
  /** Minimum total sample weight in each leaf. @default 0 */
  readonly minChildWeight?: number;
  /**
   * Minimum decrease of weighted Gini impurity a split must bring, as a fraction of the total training
   * weight (scikit-learn's `min_impurity_decrease`). @default 0
   */
  readonly minSplitGain?: number;
  /** Fraction of the features examined at each node (sampled with `seed`). @default 1 */
  readonly columnSampleByNode?: number;
  /** Level by level, or best split first (useful with `maxLeaves`). @default 'depthwise' */
  readonly growPolicy?: GrowPolicy;
  /** Quantile bins per feature, 2–256, a missing-value bin included. @default 256 */
  readonly maxBin?: number;
  /** Rows sampled to place the bin cuts. @default 100000 */
  readonly binSampleRows?: number;
  /** Seed of every random choice (bin sampling, column sampling). @default 0 */
  readonly seed?: number;
}

/** Threads of one training run (not an option: the tree is the same with any number). */
export interface DecisionTreeRun {
  /** Threads to search nodes on. @default this thread only */
  readonly threads?: TreeThreadPool;
}

/** Trains one CART tree; throws `InvalidOptionsError` listing every problem of the options and data. */
export function trainDecisionTree(
  matrix: FeatureMatrix,
  classes: readonly string[],
  options: DecisionTreeOptions = {},
  run: DecisionTreeRun = {},
): TreeEnsembleIR {
  const problems = new ProblemCollector('decision tree options');
  checkIntegerOption(problems, 'maxDepth', options.maxDepth, 0);
  checkIntegerOption(problems, 'maxLeaves', options.maxLeaves, 0);
  if (options.maxLeaves !== undefined) problems.check(options.maxLeaves !== 1, 'maxLeaves must be 0 (no limit) or at least 2 (got 1)');
  checkIntegerOption(problems, 'minSamplesPerLeaf', options.minSamplesPerLeaf, 1);
  checkNumberOption(problems, 'minChildWeight', options.minChildWeight, 0);
  checkNumberOption(problems, 'minSplitGain', options.minSplitGain, 0);
  checkFractionOption(problems, 'columnSampleByNode', options.columnSampleByNode);
  checkChoiceOption(problems, 'growPolicy', options.growPolicy, GROW_POLICIES);
  checkIntegerOption(problems, 'maxBin', options.maxBin, 2, MAX_BIN_LIMIT);
  checkIntegerOption(problems, 'binSampleRows', options.binSampleRows, 1);
  checkIntegerOption(problems, 'seed', options.seed, 0, 0xffffffff);
  checkClasses(problems, classes);
  checkFeatureMatrix(problems, 'training matrix', matrix, classes.length);
  problems.throwIfAny();

  const nodeFeatureCount = Math.max(1, Math.round((options.columnSampleByNode ?? 1) * matrix.columns));
  const [tree] = growClassificationForest(
    matrix,
    classes.length,
    {
      treeCount: 1,
      bootstrap: false,
      sampleFraction: 1,
      nodeFeatureCount,
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
    silentProgress,
    run.threads,
  );
  return {
    kind: 'trees',
    classes: [...classes],
    featureCount: matrix.columns,
    trees: [tree],
    baseValues: new Float32Array(classes.length),
    postTransform: 'none',
  };
}
