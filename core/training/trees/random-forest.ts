/**
 * A random forest: CART trees on bootstrap draws of the rows, each node choosing among a random
 * subset of the features. Leaves hold class frequencies divided by the number of trees, so the summed
 * scores are the forest's average probabilities (postTransform 'none').
 */
import { DEFAULT_BIN_SAMPLE_ROWS, MAX_BIN_LIMIT } from './binning';
import { growClassificationForest } from './classification-forest';
import { GROW_POLICIES, type GrowPolicy } from './node-statistics';
import { checkChoiceOption, checkFractionOption, checkIntegerOption, checkNumberOption, limitOrInfinity } from './option-checks';
import { checkClasses, checkFeatureMatrix } from './training-data';
import { ProblemCollector } from '../../errors';
import { silentProgress, type ProgressReporter } from '../../progress';
import type { FeatureMatrix, TreeEnsembleIR } from '../model';
import type { TreeThreadPool } from './thread-pool';

/** How many features a node examines: √F, log2 F, all F, or a count (capped at F). */
export type FeaturesPerNode = 'sqrt' | 'log2' | 'all' | number;

export interface RandomForestOptions {
  /** Number of trees. @default 100 */
  readonly treeCount?: number;
  /** Features examined at each node. @default 'sqrt' */
  readonly featuresPerNode?: FeaturesPerNode;
  /** Draw each tree's rows with replacement (else every tree sees every row). @default true */
  readonly bootstrap?: boolean;
  /** Bootstrap draws per tree as a fraction of the rows. @default 1 */
  readonly sampleFraction?: number;
  /** Maximum depth (the root is depth 0); 0 = no limit. @default 0 */
  readonly maxDepth?: number;
  /** Maximum leaves per tree; 0 = no limit. @default 0 */
  readonly maxLeaves?: number;
  /** Minimum rows (bootstrap draws counted) in each leaf. @default 1 */
  readonly minSamplesPerLeaf?: number;
  /** Minimum total weight (sample weight × draws) in each leaf. @default 0 */
  readonly minChildWeight?: number;
  /** Minimum weighted Gini decrease of a split, as a fraction of the tree's total weight. @default 0 */
  readonly minSplitGain?: number;
  /** Level by level, or best split first. @default 'depthwise' */
  readonly growPolicy?: GrowPolicy;
  /** Quantile bins per feature, 2–256, a missing-value bin included. @default 256 */
  readonly maxBin?: number;
  /** Rows sampled to place the bin cuts. @default 100000 */
  readonly binSampleRows?: number;
  /** Seed of every random choice; tree i draws from its own stream, so trees do not depend on each other. @default 0 */
  readonly seed?: number;
}

/** Observers and threads of one training run (not options: they do not change the model). */
export interface RandomForestRun {
  /** Told about trees as they finish. @default silent */
  readonly progress?: ProgressReporter;
  /** Threads to grow trees on (the forest is the same with any number). @default this thread only */
  readonly threads?: TreeThreadPool;
}

/** Trains a random forest; throws `InvalidOptionsError` listing every problem of the options and data. */
export function trainRandomForest(
  matrix: FeatureMatrix,
  classes: readonly string[],
  options: RandomForestOptions = {},
  run: RandomForestRun = {},
): TreeEnsembleIR {
  const problems = new ProblemCollector('random forest options');
  checkIntegerOption(problems, 'treeCount', options.treeCount, 1);
  const perNode = options.featuresPerNode;
  if (typeof perNode === 'number') checkIntegerOption(problems, 'featuresPerNode', perNode, 1);
  else checkChoiceOption(problems, 'featuresPerNode', perNode, ['sqrt', 'log2', 'all']);
  if (options.bootstrap !== undefined) problems.check(typeof options.bootstrap === 'boolean', 'bootstrap must be true or false');
  checkFractionOption(problems, 'sampleFraction', options.sampleFraction);
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
  problems.throwIfAny();

  const trees = growClassificationForest(
    matrix,
    classes.length,
    {
      treeCount: options.treeCount ?? 100,
      bootstrap: options.bootstrap ?? true,
      sampleFraction: options.sampleFraction ?? 1,
      nodeFeatureCount: featureCountPerNode(perNode ?? 'sqrt', matrix.columns),
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
    run.progress ?? silentProgress,
    run.threads,
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

function featureCountPerNode(perNode: FeaturesPerNode, columns: number): number {
  switch (perNode) {
    case 'all':
      return columns;
    case 'sqrt':
      return Math.max(1, Math.floor(Math.sqrt(columns)));
    case 'log2':
      return Math.max(1, Math.floor(Math.log2(columns)));
    default:
      return Math.min(perNode, columns);
  }
}
