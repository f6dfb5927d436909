import type { EvaluationMetrics } from '../evaluation/metrics';
import type { FeatureStatisticsDocument } from '../features/statistics';
import type { ProgressReporter } from '../progress';
import type { ModelLineage } from '../registry/types';

/**
 * The training port: what a training job receives and what it must return (the training contract;
 * the registry's and storage's ports sit beside it in core/registry/port.ts, core/storage/port.ts).
 * Local trainers implement it in-process; SageMaker and Azure ML implement it on their managed engines. A
 * breaking change bumps TRAINING_SPECIFICATION_VERSION.
 */
export const TRAINING_SPECIFICATION_VERSION = 'v1';

/** Which lake, at which version: a job reads exactly that version, wherever it runs. */
export interface DatasetReference {
  /** A local directory, `s3://bucket/prefix` or `https://<account>.blob.core.windows.net/<container>/<prefix>`. */
  readonly uri: string;
  /** The lake manifest version to read. */
  readonly version: number;
}

/** A time split by SHOP_WEEK: the model never sees its test weeks, the statistics only training weeks. */
export interface TimeSplit {
  readonly trainWeeks: readonly number[];
  /** Early-stopping weeks; after choosing the rounds, the final model refits on train + validation. */
  readonly validationWeeks: readonly number[];
  readonly testWeeks: readonly number[];
}

export type HyperparameterValue = number | string | boolean;

export interface TrainingJob {
  readonly specificationVersion: typeof TRAINING_SPECIFICATION_VERSION;
  /** Unique name (a cloud job name: letters, digits, hyphens). */
  readonly name: string;
  readonly dataset: DatasetReference;
  readonly split: TimeSplit;
  /** The feature spec the job must compute; a backend with other features refuses the job. */
  readonly featureSpec: { readonly version: string; readonly hash: string };
  /** `lr`, `dt`, `rf`, `gbdt` (local); a backend lists what it supports. */
  readonly algorithm: string;
  readonly hyperparameters: Readonly<Record<string, HyperparameterValue>>;
  readonly seed: number;
}

export interface FeatureImportance {
  readonly name: string;
  readonly importance: number;
}

/** What every backend returns: one ONNX model in the project's form, its metrics and its lineage. */
export interface TrainedModel {
  readonly job: TrainingJob;
  /** An ai.onnx.ml model: input `features` float32 [N, F]; outputs `label` int64, `probabilities` float32 [N, 3]. */
  readonly onnx: Uint8Array;
  readonly classes: readonly string[];
  /** Metrics on the job's test weeks (XX excluded and counted). */
  readonly metrics: EvaluationMetrics;
  /** Metrics on the validation weeks, from the early-stopping model. */
  readonly validationMetrics?: EvaluationMetrics;
  /** The fitted feature statistics the server needs beside the model. */
  readonly featureStatistics: FeatureStatisticsDocument;
  readonly featureImportance: readonly FeatureImportance[];
  readonly lineage: ModelLineage;
  /** Hyperparameters as used (defaults filled in, early-stopping rounds). */
  readonly parameters: Readonly<Record<string, HyperparameterValue>>;
  readonly trainSeconds: number;
  /** Which engine trained it: `local`, `sagemaker`, `azureml`. */
  readonly engine: string;
}

export interface TrainingRunOptions {
  readonly progress?: ProgressReporter;
  readonly signal?: AbortSignal;
  /**
   * Threads of this machine the job may use (a backend that trains here; remote backends ignore it).
   * The model does not depend on it. @default every core
   */
  readonly threads?: number;
}

/** A place that runs training jobs. */
export interface TrainingBackend {
  readonly specificationVersion: typeof TRAINING_SPECIFICATION_VERSION;
  readonly provider: string;
  /** Algorithms this backend can train. */
  readonly algorithms: readonly string[];
  /**
   * Jobs train on this machine's threads (`TrainingRunOptions.threads`), so several can share its
   * cores (`trainJobs`); a backend that trains elsewhere runs one job at a time. @default false
   */
  readonly trainsHere?: boolean;
  train(job: TrainingJob, options?: TrainingRunOptions): Promise<TrainedModel>;
}

/**
 * The default split of a lake's weeks: the last `testWeeks` weeks are held out, the `validationWeeks`
 * before them stop early, the rest train. With the real four-week sample: train 2, validate 1, test 1
 * (and the final model refits on the first three).
 */
export function defaultTimeSplit(
  weeks: readonly number[],
  options: { readonly testWeeks?: number; readonly validationWeeks?: number } = {},
): TimeSplit {
  const sorted = [...new Set(weeks)].sort((a, b) => a - b);
  const test = Math.max(1, options.testWeeks ?? 1);
  const validation = Math.max(0, options.validationWeeks ?? 1);
  const trainCount = sorted.length - test - validation;
  if (trainCount < 1) {
    const fallbackValidation = Math.max(0, sorted.length - test - 1);
    return {
      trainWeeks: sorted.slice(0, sorted.length - test - fallbackValidation),
      validationWeeks: sorted.slice(sorted.length - test - fallbackValidation, sorted.length - test),
      testWeeks: sorted.slice(sorted.length - test),
    };
  }
  return {
    trainWeeks: sorted.slice(0, trainCount),
    validationWeeks: sorted.slice(trainCount, trainCount + validation),
    testWeeks: sorted.slice(trainCount + validation),
  };
}
