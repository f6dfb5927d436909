/**
 * Gradient-boosted trees for multiclass softmax (XGBoost's `multi:softprob` with `tree_method=hist`):
 * each round fits one tree per class to the second-order expansion of the log loss
 * (g = p − y, h = 2p(1 − p), as XGBoost, so `minChildWeight` and `l2Regularization` mean the same),
 * shrinks its leaf weights −G/(H+λ) by the learning rate and adds them to that class's score.
 * Scores start from the log class priors. With a validation matrix the multiclass log loss is
 * tracked each round; training stops after `earlyStoppingRounds` rounds without improvement and the
 * model keeps the best round's trees.
 */
import { DEFAULT_BIN_SAMPLE_ROWS, MAX_BIN_LIMIT } from './binning';
import { binTrainingMatrix } from './binning-tasks';
import { BoostingRounds, type ScoredTree } from './boosting-tasks';
import { grownTreeToIR, TreeGrower, type GrownTree, type GrowRequest } from './grow';
import { MAX_GROUPS } from './node-search';
import { GradientStatistics, GROW_POLICIES, type GrowPolicy } from './node-statistics';
import { checkChoiceOption, checkFractionOption, checkIntegerOption, checkNumberOption, limitOrInfinity } from './option-checks';
import { SeededRandom } from './random';
import { allFeatures, checkClasses, checkFeatureMatrix, classWeightTotals } from './training-data';
import { ProblemCollector } from '../../errors';
import { silentProgress, type ProgressReporter } from '../../progress';
import type { FeatureMatrix, TreeEnsembleIR, TreeIR } from '../model';
import type { TreeThreadPool } from './thread-pool';
import { TrainingMemory } from './training-memory';
import { addTreeScores } from './tree-scores';

export interface GradientBoostingOptions {
  /** Boosting rounds (each adds one tree per class). @default 100 */
  readonly rounds?: number;
  /** Shrinkage of every leaf weight (XGBoost `eta`). @default 0.3 */
  readonly learningRate?: number;
  /** Maximum depth (the root is depth 0); 0 = no limit. @default 6 */
  readonly maxDepth?: number;
  /** Maximum leaves per tree; 0 = no limit. @default 0 */
  readonly maxLeaves?: number;
  /** Minimum hessian sum in each child (XGBoost `min_child_weight`). @default 1 */
  readonly minChildWeight?: number;
  /** Minimum rows in each child. @default 1 */
  readonly minSamplesPerLeaf?: number;
  /** L2 penalty on leaf weights (XGBoost `lambda`). @default 1 */
  readonly l2Regularization?: number;
  /** Minimum loss reduction of a split (XGBoost `gamma`). @default 0 */
  readonly minSplitGain?: number;
  /** Fraction of rows each tree is grown on, drawn anew per tree (XGBoost `subsample`). @default 1 */
  readonly rowSampleFraction?: number;
  /** Fraction of features each tree may use (XGBoost `colsample_bytree`). @default 1 */
  readonly columnSampleByTree?: number;
  /** Fraction of the tree's features examined at each node (XGBoost `colsample_bynode`). @default 1 */
  readonly columnSampleByNode?: number;
  /** Level by level (XGBoost's default), or best split first (useful with `maxLeaves`). @default 'depthwise' */
  readonly growPolicy?: GrowPolicy;
  /** Quantile bins per feature, 2–256, a missing-value bin included (XGBoost `max_bin`). @default 256 */
  readonly maxBin?: number;
  /** Rows sampled to place the bin cuts. @default 100000 */
  readonly binSampleRows?: number;
  /** With a validation matrix: stop after this many rounds without a lower validation loss. @default 10 */
  readonly earlyStoppingRounds?: number;
  /** Seed of every random choice (bins, rows, columns). @default 0 */
  readonly seed?: number;
}

/** Data and observers of one training run (not options: they do not describe the model). */
export interface GradientBoostingRun {
  /** Held-out rows for early stopping; without it every round is trained and kept. */
  readonly validation?: FeatureMatrix;
  /** Told about rounds as they finish. @default silent */
  readonly progress?: ProgressReporter;
  /** Threads to train on (the model is the same with any number). @default this thread only */
  readonly threads?: TreeThreadPool;
}

export interface GradientBoostingResult {
  /** postTransform 'softmax'; tree r·classes + k is round r's tree of class k and only adds to class k. */
  readonly model: TreeEnsembleIR;
  /** Rounds trained before stopping. */
  readonly roundsTrained: number;
  /** Rounds kept in the model: the best round + 1 with a validation matrix, else `roundsTrained`. */
  readonly roundsKept: number;
  /** Weighted multiclass log loss on the validation matrix after each trained round. */
  readonly validationLoss?: Float64Array;
}

/** Trains boosted trees; throws `InvalidOptionsError` listing every problem of the options and data. */
export function trainGradientBoostedTrees(
  matrix: FeatureMatrix,
  classes: readonly string[],
  options: GradientBoostingOptions = {},
  run: GradientBoostingRun = {},
): GradientBoostingResult {
  validate(matrix, classes, options, run.validation);
  try {
    return boost(matrix, classes, resolve(options), run);
  } finally {
    run.threads?.release();
  }
}

function boost(matrix: FeatureMatrix, classes: readonly string[], settings: BoostingSettings, run: GradientBoostingRun): GradientBoostingResult {
  const progress = run.progress ?? silentProgress;
  const { rows, columns } = matrix;
  const classCount = classes.length;

  const binningSettings = { maxBin: settings.maxBin, sampleRows: settings.binSampleRows, seed: settings.seed };
  const baseValues = logPriors(matrix, classCount);
  // the arrays the histogram kernels and the threads work on live in one training memory (the pool's, when there is one)
  const memory = run.threads?.memory ?? TrainingMemory.create();
  const threads = run.threads !== undefined && run.threads.threads > 1 ? run.threads : undefined;
  const binned = binTrainingMatrix(matrix.values, rows, columns, binningSettings, memory, threads);
  const { binning } = binned;
  // training scores one array per class: a tree updates its class's array only
  const rounds = new BoostingRounds(binned, matrix.labels, matrix.weights, baseValues, memory, threads);
  const { pairs } = rounds;
  // without sampling no tree of a round draws a random number while it grows: the round's class trees grow
  // together (their levels in the same parallel jobs), each with its own grower and row indices
  const together = settings.rowSampleFraction === 1 && settings.columnSampleByTree === 1 && settings.columnSampleByNode === 1 && classCount <= MAX_GROUPS;
  const channels = settings.minSamplesPerLeaf > 1 ? 3 : 2;
  const growers = Array.from({ length: together ? classCount : 1 }, () => new TreeGrower(binned, channels, memory, threads));
  // the together trees' row indices start in order, and the scores job puts them back in order after each round
  const rowIndexSets = growers.map(() => memory.int32(rows));
  if (together) for (const rowIndices of rowIndexSets) for (let row = 0; row < rows; row++) rowIndices[row] = row;
  const features = memory.copy(allFeatures(columns));
  const identity = Int32Array.from({ length: rows }, (_, row) => row);
  const random = new SeededRandom(settings.seed);
  const limits = {
    maxDepth: settings.maxDepth,
    maxLeaves: settings.maxLeaves,
    minSamplesPerLeaf: settings.minSamplesPerLeaf,
    minChildWeight: settings.minChildWeight,
    minSplitGain: settings.minSplitGain,
    growPolicy: settings.growPolicy,
  };

  const validation = run.validation;
  const validationScores = validation === undefined ? undefined : new Float64Array(validation.rows * classCount);
  if (validation !== undefined) for (let row = 0; row < validation.rows; row++) validationScores!.set(baseValues, row * classCount);
  const validationLoss: number[] = [];
  let bestRound = -1;
  let bestLoss = Number.POSITIVE_INFINITY;

  // every tree of a round starts from all rows and features: build the three roots in one pass
  // (when the trees use full histograms: no row or tree column sampling, no count channel, most features per node)
  const subtractionRegime = Math.max(1, Math.round(settings.columnSampleByNode * columns)) * 2 > columns;
  const fullRows = settings.rowSampleFraction === 1 && settings.minSamplesPerLeaf === 1;
  const sharedRoots = classCount === 3 && fullRows && settings.columnSampleByTree === 1 && subtractionRegime;

  const trees: TreeIR[] = [];
  let roundsTrained = 0;
  progress.start('boosting', settings.rounds, 'rounds');
  for (let round = 0; round < settings.rounds; round++) {
    rounds.computeGradients();
    let rootHistograms: [Float64Array, Float64Array, Float64Array] | undefined;
    if (sharedRoots) {
      // each from the grower that grows (and releases) it
      const owner = (label: number): TreeGrower => growers[together ? label : 0];
      rootHistograms = [owner(0).acquireHistogram(), owner(1).acquireHistogram(), owner(2).acquireHistogram()];
      rounds.buildThreeClassRoots(features, rootHistograms);
    }
    // the training scores take the float32 leaf values the model will hold
    const scored = (label: number, grown: GrownTree, statistics: GradientStatistics): ScoredTree => {
      const tree = grownTreeToIR(grown, binning, classCount, (node, values, offset) => {
        values[offset + label] = settings.learningRate * statistics.leafWeight(grown.totals, node * grown.channels);
      });
      trees.push(tree);
      return { label, tree: grown, valueOf: (node) => tree.value[node * classCount + label] };
    };
    const requests: GrowRequest[] = [];
    const roundStatistics: GradientStatistics[] = [];
    for (let label = 0; label < classCount; label++) {
      const rowIndices = rowIndexSets[together ? label : 0];
      const rowCount = together ? rows : settings.rowSampleFraction < 1 ? sampleRows(random, rows, settings.rowSampleFraction, rowIndices) : identityRows(rowIndices, identity);
      const treeFeatureCount = Math.max(1, Math.round(settings.columnSampleByTree * columns));
      const treeFeatures = treeFeatureCount < columns ? random.sampleSorted(features, treeFeatureCount) : features;
      const nodeFeatureCount = Math.max(1, Math.round(settings.columnSampleByNode * treeFeatures.length));
      const statistics = new GradientStatistics(pairs[label], settings.l2Regularization, settings.minSamplesPerLeaf > 1, memory.kernels);
      const rootHistogram = rootHistograms?.[label];
      const request = { statistics, rowIndices, rowCount, treeFeatures, nodeFeatureCount, limits, random, rootHistogram };
      if (together) {
        requests.push(request);
        roundStatistics.push(statistics);
      } else {
        rounds.addTreesToScores([scored(label, growers[0].grow(request), statistics)], rowCount);
      }
    }
    if (together) rounds.addTreesToScores(TreeGrower.growTogether(growers, requests).map((grown, label) => scored(label, grown, roundStatistics[label])), rows, true);
    roundsTrained = round + 1;
    progress.update(roundsTrained);
    if (validation !== undefined && validationScores !== undefined) {
      for (const tree of trees.slice(-classCount)) addTreeScores(tree, validation.values, validation.rows, columns, classCount, validationScores);
      const loss = multiclassLogLoss(validationScores, validation.labels, validation.weights, validation.rows, classCount);
      validationLoss.push(loss);
      if (loss < bestLoss || bestRound < 0) {
        bestLoss = loss;
        bestRound = round;
      } else if (round - bestRound >= settings.earlyStoppingRounds) {
        break;
      }
    }
  }
  progress.stop();

  const roundsKept = validation === undefined ? roundsTrained : bestRound + 1;
  return {
    model: {
      kind: 'trees',
      classes: [...classes],
      featureCount: columns,
      trees: trees.slice(0, roundsKept * classCount),
      baseValues,
      postTransform: 'softmax',
    },
    roundsTrained,
    roundsKept,
    validationLoss: validation === undefined ? undefined : Float64Array.from(validationLoss),
  };
}

interface BoostingSettings {
  readonly rounds: number;
  readonly learningRate: number;
  readonly maxDepth: number;
  readonly maxLeaves: number;
  readonly minChildWeight: number;
  readonly minSamplesPerLeaf: number;
  readonly l2Regularization: number;
  readonly minSplitGain: number;
  readonly rowSampleFraction: number;
  readonly columnSampleByTree: number;
  readonly columnSampleByNode: number;
  readonly growPolicy: GrowPolicy;
  readonly maxBin: number;
  readonly binSampleRows: number;
  readonly earlyStoppingRounds: number;
  readonly seed: number;
}

function validate(matrix: FeatureMatrix, classes: readonly string[], options: GradientBoostingOptions, validation: FeatureMatrix | undefined): void {
  const problems = new ProblemCollector('gradient boosting options');
  checkIntegerOption(problems, 'rounds', options.rounds, 1);
  if (options.learningRate !== undefined) {
    problems.check(Number.isFinite(options.learningRate) && options.learningRate > 0, `learningRate must be a finite number > 0 (got ${options.learningRate})`);
  }
  checkIntegerOption(problems, 'maxDepth', options.maxDepth, 0);
  checkIntegerOption(problems, 'maxLeaves', options.maxLeaves, 0);
  if (options.maxLeaves !== undefined) problems.check(options.maxLeaves !== 1, 'maxLeaves must be 0 (no limit) or at least 2 (got 1)');
  checkNumberOption(problems, 'minChildWeight', options.minChildWeight, 0);
  checkIntegerOption(problems, 'minSamplesPerLeaf', options.minSamplesPerLeaf, 1);
  checkNumberOption(problems, 'l2Regularization', options.l2Regularization, 0);
  checkNumberOption(problems, 'minSplitGain', options.minSplitGain, 0);
  checkFractionOption(problems, 'rowSampleFraction', options.rowSampleFraction);
  checkFractionOption(problems, 'columnSampleByTree', options.columnSampleByTree);
  checkFractionOption(problems, 'columnSampleByNode', options.columnSampleByNode);
  checkChoiceOption(problems, 'growPolicy', options.growPolicy, GROW_POLICIES);
  checkIntegerOption(problems, 'maxBin', options.maxBin, 2, MAX_BIN_LIMIT);
  checkIntegerOption(problems, 'binSampleRows', options.binSampleRows, 1);
  checkIntegerOption(problems, 'earlyStoppingRounds', options.earlyStoppingRounds, 1);
  checkIntegerOption(problems, 'seed', options.seed, 0, 0xffffffff);
  checkClasses(problems, classes);
  checkFeatureMatrix(problems, 'training matrix', matrix, classes.length);
  if (validation !== undefined) checkFeatureMatrix(problems, 'validation matrix', validation, classes.length, matrix.columns);
  problems.throwIfAny();
}

function resolve(options: GradientBoostingOptions): BoostingSettings {
  return {
    rounds: options.rounds ?? 100,
    learningRate: options.learningRate ?? 0.3,
    maxDepth: limitOrInfinity(options.maxDepth ?? 6),
    maxLeaves: limitOrInfinity(options.maxLeaves ?? 0),
    minChildWeight: options.minChildWeight ?? 1,
    minSamplesPerLeaf: options.minSamplesPerLeaf ?? 1,
    l2Regularization: options.l2Regularization ?? 1,
    minSplitGain: options.minSplitGain ?? 0,
    rowSampleFraction: options.rowSampleFraction ?? 1,
    columnSampleByTree: options.columnSampleByTree ?? 1,
    columnSampleByNode: options.columnSampleByNode ?? 1,
    growPolicy: options.growPolicy ?? 'depthwise',
    maxBin: options.maxBin ?? MAX_BIN_LIMIT,
    binSampleRows: options.binSampleRows ?? DEFAULT_BIN_SAMPLE_ROWS,
    earlyStoppingRounds: options.earlyStoppingRounds ?? 10,
    seed: options.seed ?? 0,
  };
}

/** log of the weighted class frequencies (floored, so an absent class gets a large negative score), as float32. */
function logPriors(matrix: FeatureMatrix, classCount: number): Float32Array {
  const totals = classWeightTotals(matrix, classCount);
  let sum = 0;
  for (const total of totals) sum += total;
  return Float32Array.from(totals, (total) => Math.log(Math.max(total / sum, 1e-12)));
}

/** Weighted mean of −log p(true class) for raw scores (softmax applied here). */
function multiclassLogLoss(scores: Float64Array, labels: Int32Array, weights: Float32Array | undefined, rows: number, classCount: number): number {
  let loss = 0;
  let totalWeight = 0;
  for (let row = 0; row < rows; row++) {
    const offset = row * classCount;
    let maximum = Number.NEGATIVE_INFINITY;
    for (let label = 0; label < classCount; label++) maximum = Math.max(maximum, scores[offset + label]);
    let sum = 0;
    for (let label = 0; label < classCount; label++) sum += Math.exp(scores[offset + label] - maximum);
    const logProbability = scores[offset + labels[row]] - maximum - Math.log(sum);
    const weight = weights === undefined ? 1 : weights[row];
    loss -= weight * Math.max(logProbability, Math.log(1e-15));
    totalWeight += weight;
  }
  return totalWeight > 0 ? loss / totalWeight : 0;
}

/** All rows, in order (copied from `identity`, which holds 0…rows−1). */
function identityRows(rowIndices: Int32Array, identity: Int32Array): number {
  rowIndices.set(identity);
  return rowIndices.length;
}

/** Each row with probability `fraction` (at least one row), ascending. */
function sampleRows(random: SeededRandom, rows: number, fraction: number, rowIndices: Int32Array): number {
  let count = 0;
  for (let row = 0; row < rows; row++) if (random.nextFloat() < fraction) rowIndices[count++] = row;
  if (count === 0) rowIndices[count++] = random.nextInt(rows);
  return count;
}
