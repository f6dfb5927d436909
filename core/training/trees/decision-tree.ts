/**
 * A CART decision tree: Gini impurity on class-weight histograms. Leaves hold class frequencies, so
 * the model's scores are probabilities as they are (postTransform 'none').
 */
import { checkClassificationTreeOptions, trainClassificationTrees, type ClassificationTreeOptions } from './classification-tree-options';
import { checkFractionOption } from './option-checks';
import { ProblemCollector } from '../../errors';
import { silentProgress } from '../../progress';
import type { FeatureMatrix, TreeEnsembleIR } from '../model';
import type { TreeThreadPool } from './thread-pool';

export interface DecisionTreeOptions extends ClassificationTreeOptions {
  /** Fraction of the features examined at each node (sampled with `seed`). @default 1 */
  readonly columnSampleByNode?: number;
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
  checkFractionOption(problems, 'columnSampleByNode', options.columnSampleByNode);
  checkClassificationTreeOptions(problems, options, classes, matrix);
  problems.throwIfAny();

  const nodeFeatureCount = Math.max(1, Math.round((options.columnSampleByNode ?? 1) * matrix.columns));
  return trainClassificationTrees(matrix, classes, options, { treeCount: 1, bootstrap: false, sampleFraction: 1, nodeFeatureCount }, silentProgress, run.threads);
}
