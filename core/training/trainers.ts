import { InvalidOptionsError } from '../errors';
import type { ProgressReporter } from '../progress';
import { trainLogisticRegression } from './logistic-regression';
import type { FeatureMatrix, ModelIR } from './model';
import type { HyperparameterValue } from './port';
import { trainDecisionTree } from './trees/decision-tree';
import { trainGradientBoostedTrees } from './trees/gradient-boosting';
import { trainRandomForest } from './trees/random-forest';
import type { TreeThreadPool } from './trees/thread-pool';

/** One in-process algorithm: defaults, and a function from matrices to a model IR. */
export interface InProcessTrainer {
  readonly defaults: Readonly<Record<string, HyperparameterValue>>;
  /** Trains on several threads when given them (`TrainerInput.threads`). */
  readonly threaded: boolean;
  /** Its training time relative to the others' at the defaults (the scheduler starts long jobs first). */
  readonly relativeCost: number;
  /**
   * Trains on `train`; `validation` (when given) may stop early. Returns the model and the
   * parameters as used, including any chosen by early stopping (so a refit can reuse them).
   */
  train(input: TrainerInput): { readonly model: ModelIR; readonly parameters: Readonly<Record<string, HyperparameterValue>> };
}

export interface TrainerInput {
  readonly train: FeatureMatrix;
  readonly validation?: FeatureMatrix;
  readonly classes: readonly string[];
  readonly hyperparameters: Readonly<Record<string, HyperparameterValue>>;
  readonly seed: number;
  readonly progress?: ProgressReporter;
  /** Threads a threaded trainer runs on (the model is the same with any number). @default this thread only */
  readonly threads?: TreeThreadPool;
}

/** Reads a numeric hyperparameter, or throws naming it. */
export function numberParameter(parameters: Readonly<Record<string, HyperparameterValue>>, name: string): number {
  const value = parameters[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidOptionsError('hyperparameters', [`${name} must be a number, got ${JSON.stringify(value)}`]);
  return value;
}

const logisticRegression: InProcessTrainer = {
  defaults: { l2: 1e-3, maxIterations: 300 },
  threaded: false,
  relativeCost: 2,
  train({ train, classes, hyperparameters, progress }) {
    const result = trainLogisticRegression(train, classes, {
      l2: numberParameter(hyperparameters, 'l2'),
      maxIterations: numberParameter(hyperparameters, 'maxIterations'),
      progress,
    });
    return { model: result.model, parameters: { ...hyperparameters, iterations: result.iterations } };
  },
};

const decisionTree: InProcessTrainer = {
  defaults: { maxDepth: 12, minSamplesPerLeaf: 20 },
  threaded: true,
  relativeCost: 1,
  train({ train, classes, hyperparameters, seed, threads }) {
    const model = trainDecisionTree(
      train,
      classes,
      {
        maxDepth: numberParameter(hyperparameters, 'maxDepth'),
        minSamplesPerLeaf: numberParameter(hyperparameters, 'minSamplesPerLeaf'),
        seed,
      },
      { threads },
    );
    return { model, parameters: hyperparameters };
  },
};

const randomForest: InProcessTrainer = {
  defaults: { treeCount: 60, maxDepth: 16, minSamplesPerLeaf: 5 },
  threaded: true,
  relativeCost: 2,
  train({ train, classes, hyperparameters, seed, progress, threads }) {
    const model = trainRandomForest(
      train,
      classes,
      {
        treeCount: numberParameter(hyperparameters, 'treeCount'),
        maxDepth: numberParameter(hyperparameters, 'maxDepth'),
        minSamplesPerLeaf: numberParameter(hyperparameters, 'minSamplesPerLeaf'),
        seed,
      },
      { progress, threads },
    );
    return { model, parameters: hyperparameters };
  },
};

/**
 * Gradient-boosted trees. With a validation matrix, rounds stop early and `rounds` in the returned
 * parameters becomes the rounds kept, so the refit on train + validation trains exactly that many.
 */
const gradientBoosting: InProcessTrainer = {
  defaults: { rounds: 400, learningRate: 0.1, maxDepth: 6, minChildWeight: 1, l2Regularization: 1, rowSampleFraction: 0.9, columnSampleByTree: 0.9, earlyStoppingRounds: 20 },
  threaded: true,
  relativeCost: 4,
  train({ train, validation, classes, hyperparameters, seed, progress, threads }) {
    const result = trainGradientBoostedTrees(
      train,
      classes,
      {
        rounds: numberParameter(hyperparameters, 'rounds'),
        learningRate: numberParameter(hyperparameters, 'learningRate'),
        maxDepth: numberParameter(hyperparameters, 'maxDepth'),
        minChildWeight: numberParameter(hyperparameters, 'minChildWeight'),
        l2Regularization: numberParameter(hyperparameters, 'l2Regularization'),
        rowSampleFraction: numberParameter(hyperparameters, 'rowSampleFraction'),
        columnSampleByTree: numberParameter(hyperparameters, 'columnSampleByTree'),
        earlyStoppingRounds: numberParameter(hyperparameters, 'earlyStoppingRounds'),
        seed,
      },
      { validation, progress, threads },
    );
    return { model: result.model, parameters: { ...hyperparameters, rounds: result.roundsKept } };
  },
};

/** The local algorithms by name. */
export const IN_PROCESS_TRAINERS: Readonly<Record<string, InProcessTrainer>> = {
  lr: logisticRegression,
  dt: decisionTree,
  rf: randomForest,
  gbdt: gradientBoosting,
};
