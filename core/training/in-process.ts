import { execFileSync } from 'node:child_process';
import {
  TRAINING_SPECIFICATION_VERSION,
  type HyperparameterValue,
  type TrainedModel,
  type TrainingBackend,
  type TrainingJob,
  type TrainingRunOptions,
} from './port';
import { InvalidOptionsError } from '../errors';
import { trainInWorker } from './job-thread';
import type { FeatureMatrix } from './model';
import { modelProbabilities } from './model-outputs';
import { featureImportance, rowsOfWeeks } from './split-rows';
import { IN_PROCESS_TRAINERS, type InProcessTrainer } from './trainers';
import { TreeThreadPool } from './trees/thread-pool';
import { contextOnlyBaseline } from '../evaluation/context-baseline';
import { computeMetrics, type EvaluationMetrics } from '../evaluation/metrics';
import type { BasketBatch } from '../features/basket-batch';
import { FEATURE_COUNT, FEATURE_SPEC } from '../features/spec';
import { statisticsToDocument } from '../features/statistics';
import { heldOutFeatures, outOfFoldFeatures } from '../features/training-matrix';
import { readGoldBaskets } from '../lake/gold-reader';
import { Lake } from '../lake/lake';
import { exportOnnx } from '../onnx/export';
import { silentProgress } from '../progress';
import type { ModelLineage } from '../registry/types';
import { PRICE_SENSITIVITY_CLASSES } from '../schema/lgsr';

const CLASSES = PRICE_SENSITIVITY_CLASSES;

export interface InProcessTrainingBackendOptions {
  /**
   * Opens the lake a job names (`job.dataset.uri`) as a local, readable lake: the provider seam
   * passes one that copies a cloud lake's gold layer into a cache.
   * @default - the URI is a directory: Lake.openExisting
   */
  readonly openLake?: (uri: string) => Promise<Lake>;
}

/**
 * Training jobs run in this process, on a lake readable from here. Each job trains on a worker
 * thread of its own (`trainInWorker`), so jobs can run side by side (`trainJobs`); their lakes are
 * opened here, one at a time.
 */
export function createInProcessTrainingBackend(options: InProcessTrainingBackendOptions = {}): TrainingBackend {
  let opening: Promise<unknown> = Promise.resolve();
  const openLake =
    options.openLake === undefined
      ? undefined
      : (uri: string): Promise<Lake> => {
        const opened = opening.then(() => options.openLake!(uri));
        opening = opened.catch(() => undefined);
        return opened;
      };
  return {
    specificationVersion: TRAINING_SPECIFICATION_VERSION,
    provider: 'local',
    algorithms: Object.keys(IN_PROCESS_TRAINERS),
    trainsHere: true,
    train: (job, runOptions) => trainInWorker(job, { ...runOptions, openLake }),
  };
}


function labelsOf(batch: BasketBatch, rows: Int32Array): Int32Array {
  return rows.map((row) => batch.label[row]);
}

function matrix(values: Float32Array, labels: Int32Array, columns = FEATURE_COUNT): FeatureMatrix {
  return { rows: labels.length, columns, values, labels };
}

function validateJob(job: TrainingJob): void {
  const problems: string[] = [];
  if (job.specificationVersion !== TRAINING_SPECIFICATION_VERSION) problems.push(`specificationVersion must be ${TRAINING_SPECIFICATION_VERSION}`);
  if (!IN_PROCESS_TRAINERS[job.algorithm]) problems.push(`algorithm '${job.algorithm}' is not one of ${Object.keys(IN_PROCESS_TRAINERS).join(', ')}`);
  if (job.featureSpec.hash !== FEATURE_SPEC.hash) problems.push(`feature spec ${job.featureSpec.version} (${job.featureSpec.hash}) is not this code's ${FEATURE_SPEC.version} (${FEATURE_SPEC.hash})`);
  if (job.split.trainWeeks.length === 0) problems.push('split.trainWeeks is empty');
  if (job.split.testWeeks.length === 0) problems.push('split.testWeeks is empty');
  const overlap = job.split.testWeeks.filter((week) => job.split.trainWeeks.includes(week) || job.split.validationWeeks.includes(week));
  if (overlap.length > 0) problems.push(`test weeks ${overlap.join(', ')} are also training or validation weeks`);
  if (problems.length > 0) throw new InvalidOptionsError('training job', problems);
}

/**
 * Runs a training job in-process: features fitted on the training weeks (out-of-fold for the
 * training rows), the algorithm trained with early stopping on the validation weeks, then refitted
 * on training + validation weeks with the chosen settings, evaluated on the test weeks, exported to ONNX.
 */
export async function trainInProcess(job: TrainingJob, options: TrainingRunOptions & InProcessTrainingBackendOptions = {}): Promise<TrainedModel> {
  validateJob(job);
  const started = performance.now();
  const trainer = IN_PROCESS_TRAINERS[job.algorithm];
  const lake = (await (options.openLake ?? Lake.openExisting)(job.dataset.uri)).atVersion(job.dataset.version);
  const weeks = [...job.split.trainWeeks, ...job.split.validationWeeks, ...job.split.testWeeks];
  const { batch } = await readGoldBaskets(lake, weeks);
  const train = rowsOfWeeks(batch, job.split.trainWeeks);
  const validation = rowsOfWeeks(batch, job.split.validationWeeks);
  const test = rowsOfWeeks(batch, job.split.testWeeks);
  if (train.rows.length === 0 || test.rows.length === 0) {
    throw new InvalidOptionsError('training job', [`the lake has ${train.rows.length} labelled training and ${test.rows.length} test baskets in the split's weeks`]);
  }
  const hyperparameters = { ...trainer.defaults, ...job.hyperparameters };
  options.signal?.throwIfAborted();
  const threads = trainer.threaded ? await TreeThreadPool.start({ threads: options.threads }) : undefined;
  try {
    return await trainAndEvaluate(job, options, { started, trainer, lake, batch, train, validation, test, hyperparameters, threads });
  } finally {
    await threads?.close();
  }
}

interface PreparedJob {
  readonly started: number;
  readonly trainer: InProcessTrainer;
  readonly lake: Lake;
  readonly batch: BasketBatch;
  readonly train: ReturnType<typeof rowsOfWeeks>;
  readonly validation: ReturnType<typeof rowsOfWeeks>;
  readonly test: ReturnType<typeof rowsOfWeeks>;
  readonly hyperparameters: Readonly<Record<string, HyperparameterValue>>;
  readonly threads: TreeThreadPool | undefined;
}

async function trainAndEvaluate(job: TrainingJob, options: TrainingRunOptions, prepared: PreparedJob): Promise<TrainedModel> {
  const { started, trainer, lake, batch, train, validation, test, hyperparameters, threads } = prepared;
  const progress = options.progress ?? silentProgress;

  // 1. early stopping: statistics from the training weeks, the model checked on validation weeks
  let parameters: Readonly<Record<string, HyperparameterValue>> = hyperparameters;
  let validationMetrics: EvaluationMetrics | undefined;
  if (validation.rows.length > 0) {
    const fitted = outOfFoldFeatures(batch, train.rows, { seed: job.seed });
    const validationValues = heldOutFeatures(fitted.statistics, batch, validation.rows);
    const validationLabels = labelsOf(batch, validation.rows);
    const first = trainer.train({
      train: matrix(fitted.values, labelsOf(batch, train.rows)),
      validation: matrix(validationValues, validationLabels),
      classes: CLASSES,
      hyperparameters,
      seed: job.seed,
      progress,
      threads,
    });
    parameters = first.parameters;
    validationMetrics = computeMetrics(validationLabels, modelProbabilities(first.model, validationValues, validationLabels.length), CLASSES);
    options.signal?.throwIfAborted();
  }

  // 2. the final model: statistics and model on training + validation weeks
  const finalRows = Int32Array.from([...train.rows, ...validation.rows]);
  const finalLabels = labelsOf(batch, finalRows);
  const final = outOfFoldFeatures(batch, finalRows, { seed: job.seed });
  const { model, parameters: finalParameters } = trainer.train({
    train: matrix(final.values, finalLabels),
    classes: CLASSES,
    hyperparameters: { ...parameters, earlyStopping: false },
    seed: job.seed,
    progress,
    threads,
  });

  // 3. held-out weeks, with a context-only baseline for the lift
  const testValues = heldOutFeatures(final.statistics, batch, test.rows);
  const testLabels = labelsOf(batch, test.rows);
  const baseline = contextOnlyBaseline({ values: final.values, labels: finalLabels }, { values: testValues, labels: testLabels }, CLASSES);
  const probabilities = modelProbabilities(model, testValues, testLabels.length);
  const metrics = computeMetrics(testLabels, probabilities, CLASSES, { baseline });
  const testMetrics: EvaluationMetrics = { ...metrics, excluded: { ...metrics.excluded, XX: test.unclassified } };

  const usedParameters = { ...finalParameters, seed: job.seed };
  const onnx = exportOnnx(model, {
    featureSpecVersion: FEATURE_SPEC.version,
    featureSpecHash: FEATURE_SPEC.hash,
    featureNames: FEATURE_SPEC.names,
    algorithm: job.algorithm,
    properties: { job: job.name, lakeVersion: String(job.dataset.version) },
  });
  return {
    job,
    onnx,
    classes: CLASSES,
    metrics: testMetrics,
    validationMetrics,
    featureStatistics: statisticsToDocument(final.statistics),
    featureImportance: featureImportance(model, final.values, finalLabels.length),
    lineage: modelLineage(job, lake, job.algorithm, usedParameters),
    parameters: usedParameters,
    trainSeconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    engine: 'local',
  };
}


/** The lineage every backend records: the lake version and its input files, the feature spec, the code, the split. */
export function modelLineage(
  job: TrainingJob,
  lake: Pick<Lake, 'manifest'>,
  algorithm: string,
  parameters: Readonly<Record<string, HyperparameterValue>>,
): ModelLineage {
  return {
    lakeVersion: String(job.dataset.version),
    inputFiles: lake.manifest.raw.map((entry) => ({ path: entry.name, sha256: entry.sha256 })),
    featureSpecVersion: FEATURE_SPEC.version,
    featureSpecHash: FEATURE_SPEC.hash,
    codeCommit: codeCommit(),
    algorithm,
    parameters,
    trainingWeeks: [...job.split.trainWeeks, ...job.split.validationWeeks].sort((a, b) => a - b),
    evaluationWeeks: [...job.split.testWeeks],
  };
}

/** The commit of the code that trains: $RETAIL_MLOPS_COMMIT, else git's HEAD, else 'unknown'. */
export function codeCommit(): string {
  if (process.env.RETAIL_MLOPS_COMMIT) return process.env.RETAIL_MLOPS_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}
