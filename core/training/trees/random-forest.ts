/**
 * A random forest: CART trees on bootstrap draws of the rows, each node choosing among a random
 * subset of the features. Leaves hold class frequencies divided by the number of trees, so the summed
 * scores are the forest's average probabilities (postTransform 'none').
 */
import { checkClassificationTreeOptions, trainClassificationTrees, type ClassificationTreeOptions } from './classification-tree-options';
import { checkChoiceOption, checkFractionOption, checkIntegerOption } from './option-checks';
import { ProblemCollector } from '../../errors';
import { silentProgress, type ProgressReporter } from '../../progress';
import type { FeatureMatrix, TreeEnsembleIR } from '../model';
import type { TreeThreadPool } from './thread-pool';

/** How many features a node examines: √F, log2 F, all F, or a count (capped at F). */
export type FeaturesPerNode = 'sqrt' | 'log2' | 'all' | number;

export interface RandomForestOptions extends ClassificationTreeOptions {
  /** Number of trees. @default 100 */
  readonly treeCount?: number;
  /** Features examined at each node. @default 'sqrt' */
  readonly featuresPerNode?: FeaturesPerNode;
  /** Draw each tree's rows with replacement (else every tree sees every row). @default true */
  readonly bootstrap?: boolean;
  /** Bootstrap draws per tree as a fraction of the rows. @default 1 */
  readonly sampleFraction?: number;
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
  checkClassificationTreeOptions(problems, options, classes, matrix);
  problems.throwIfAny();

  const shape = {
    treeCount: options.treeCount ?? 100,
    bootstrap: options.bootstrap ?? true,
    sampleFraction: options.sampleFraction ?? 1,
    nodeFeatureCount: featureCountPerNode(perNode ?? 'sqrt', matrix.columns),
  };
  return trainClassificationTrees(matrix, classes, options, shape, run.progress ?? silentProgress, run.threads);
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
