import { InvalidOptionsError } from '../errors';
import type { ProgressReporter } from '../progress';
import type { HyperparameterValue } from './contract';
import { trainLogisticRegression } from './logistic-regression';
import type { FeatureMatrix, ModelIR } from './model';

/** One in-process algorithm: defaults, and a function from matrices to a model IR. */
export interface InProcessTrainer {
  readonly defaults: Readonly<Record<string, HyperparameterValue>>;
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
}

/** Reads a numeric hyperparameter, or throws naming it. */
export function numberParameter(parameters: Readonly<Record<string, HyperparameterValue>>, name: string): number {
  const value = parameters[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidOptionsError('hyperparameters', [`${name} must be a number, got ${JSON.stringify(value)}`]);
  return value;
}

const logisticRegression: InProcessTrainer = {
  defaults: { l2: 1e-3, maxIterations: 300 },
  train({ train, classes, hyperparameters, progress }) {
    const result = trainLogisticRegression(train, classes, {
      l2: numberParameter(hyperparameters, 'l2'),
      maxIterations: numberParameter(hyperparameters, 'maxIterations'),
      progress,
    });
    return { model: result.model, parameters: { ...hyperparameters, iterations: result.iterations } };
  },
};

/** The local algorithms by name. */
export const IN_PROCESS_TRAINERS: Readonly<Record<string, InProcessTrainer>> = {
  lr: logisticRegression,
};
