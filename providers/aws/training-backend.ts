/**
 * The training contract on SageMaker, two ways:
 *
 * - the project's own trainers (`lr`, `dt`, `rf`, `gbdt`) as a training job in the project's
 *   container image (`projectImage`): the job runs `retail-mlops train-job` on a channel holding
 *   exactly the files of the job's lake version and returns model.onnx + trained-model.json in its
 *   model.tar.gz (project-training-job.ts), so the result is the TrainedModel a local run gives;
 * - SageMaker's built-in XGBoost algorithm (1.7-1, `sagemaker-xgboost`), with the project's own
 *   features, as below.
 *
 * The features are computed here, exactly as the in-process backend computes them (the lake pulled
 * from S3, statistics fitted on the training weeks, out-of-fold for the training rows), and shipped
 * to S3 as the algorithm's channels (CSV or libsvm, label first). Then, like the in-process backend:
 *
 * 1. with validation weeks: a job `<name>-early-stopping` trains on the training weeks and stops
 *    early on the validation weeks (the container keeps the best rounds: `save_best`); its model
 *    gives the validation metrics and the number of rounds;
 * 2. a job `<name>` refits on training + validation weeks with those rounds;
 * 3. the model (model.tar.gz → `xgboost-model`, XGBoost's legacy binary format, which the 1.7-1
 *    container writes) is converted to the project's ONNX by core/onnx/xgboost-import.ts, and scored
 *    here on the held-out test weeks.
 *
 * Jobs run on managed spot capacity with checkpoints in S3, inside the VPC's private subnets, with
 * network isolation, encrypted inter-container traffic, and the volume and output encrypted with
 * KMS. The backend polls DescribeTrainingJob, reports progress, and stops the job when aborted.
 */
import { mkdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import type { CreateTrainingJobCommandInput, DescribeTrainingJobCommandOutput, SageMakerClient, TrainingInstanceType } from '@aws-sdk/client-sagemaker';
import { checkConnectionOptions, clientConfiguration, loadSageMaker, type AwsConnectionOptions } from './connection';
import { isTransientAwsFailure, SageMakerRequestError, TrainingJobFailedError } from './errors';
import { extractFromModelArchive, ModelArchiveError, readTarEntries } from './model-archive';
import type { S3ObjectStorage } from './object-storage';
import { JOB_CHANNEL, JOB_DOCUMENT_FILE, LAKE_CHANNEL, PROJECT_IMAGE_ENTRYPOINT, projectTrainingArguments, sageMakerManifest } from './project-training-job';
import { CHANNEL_CONTENT_TYPES, writeChannelFile, type ChannelFormat } from './training-channels';
import { xgboostImageUri } from './xgboost-image';
import { InvalidOptionsError, ProblemCollector } from '../../core/errors';
import { contextOnlyBaseline } from '../../core/evaluation/context-baseline';
import { computeMetrics, type EvaluationMetrics } from '../../core/evaluation/metrics';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import { statisticsToDocument } from '../../core/features/statistics';
import { heldOutFeatures, outOfFoldFeatures } from '../../core/features/training-matrix';
import { readGoldBaskets } from '../../core/lake/gold-reader';
import { LAKE_MANIFEST, Lake, manifestAtVersion, type LakeManifest } from '../../core/lake/lake';
import { pullLake } from '../../core/lake/lake-sync';
import { importXGBoostModel } from '../../core/onnx/xgboost-import';
import { silentProgress, type ProgressReporter } from '../../core/progress';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';
import { ObjectNotFoundError } from '../../core/storage/errors';
import { codeCommit, modelLineage } from '../../core/training/in-process';
import { modelProbabilities } from '../../core/training/model-outputs';
import {
  TRAINING_SPECIFICATION_VERSION,
  type HyperparameterValue,
  type TrainedModel,
  type TrainingBackend,
  type TrainingJob,
  type TrainingRunOptions,
} from '../../core/training/port';
import { featureImportance, rowsOfWeeks } from '../../core/training/split-rows';
import { fromTrainedModelDocument, ONNX_MODEL_FILE, TRAINED_MODEL_FILE, type TrainedModelDocument } from '../../core/training/trained-model-files';
import { IN_PROCESS_TRAINERS } from '../../core/training/trainers';
import { pollDelayMs } from '../job-polling';

/** The algorithm name jobs use to ask for this backend. */
export const SAGEMAKER_XGBOOST_ALGORITHM = 'sagemaker-xgboost';

/** The built-in algorithm's hyperparameters this backend sets, with its defaults. */
export const SAGEMAKER_XGBOOST_DEFAULTS: Readonly<Record<string, HyperparameterValue>> = {
  num_round: 300,
  max_depth: 6,
  eta: 0.1,
  tree_method: 'hist',
  max_bin: 256,
  subsample: 0.8,
  colsample_bytree: 0.8,
  lambda: 1,
  alpha: 0,
  gamma: 0,
  min_child_weight: 1,
  early_stopping_rounds: 20,
};

/** Allowed ranges: [minimum, maximum, integer]. */
const HYPERPARAMETER_RANGES: Readonly<Record<string, readonly [number, number, boolean]>> = {
  num_round: [1, 100_000, true],
  max_depth: [1, 32, true],
  eta: [1e-6, 1, false],
  max_bin: [2, 65_536, true],
  subsample: [1e-3, 1, false],
  colsample_bytree: [1e-3, 1, false],
  lambda: [0, 1e6, false],
  alpha: [0, 1e6, false],
  gamma: [0, 1e6, false],
  min_child_weight: [0, 1e6, false],
  early_stopping_rounds: [0, 100_000, true],
};
const TREE_METHODS = ['hist', 'approx', 'exact'];

export interface SageMakerTrainingBackendOptions extends AwsConnectionOptions {
  /** Where channels, checkpoints and model outputs go (under `jobs/<training job>/`); also the connection for pulling `s3://` lakes. */
  readonly storage: S3ObjectStorage;
  /** The SageMaker execution role the jobs run as (least privilege: see providers/aws/infra). */
  readonly roleArn: string;
  /**
   * The training image of the built-in algorithm (`sagemaker-xgboost` jobs).
   * @default - the built-in XGBoost 1.7-1 image of `region` (see xgboost-image.ts)
   */
  readonly trainingImage?: string;
  /**
   * The project's container image (in ECR, pinned by tag or digest). With it the backend also runs
   * the project's own trainers (lr, dt, rf, gbdt) as SageMaker training jobs in that image.
   * @default - none: only `sagemaker-xgboost`
   */
  readonly projectImage?: string;
  /** @default 'ml.m5.xlarge' */
  readonly instanceType?: string;
  /**
   * Size of the ML storage volume.
   * @default 30
   */
  readonly volumeSizeGb?: number;
  /**
   * KMS key of the training volume (instance types with only NVMe instance storage, such as ml.m5d,
   * refuse a volume key: pass `null` for them).
   * @default - the storage's kmsKeyId
   */
  readonly volumeKmsKeyId?: string | null;
  /**
   * KMS key of the model output.
   * @default - the storage's kmsKeyId
   */
  readonly outputKmsKeyId?: string;
  /**
   * Train on managed spot capacity (up to ~70% cheaper; interruptions resume from S3 checkpoints).
   * @default true
   */
  readonly managedSpot?: boolean;
  /**
   * The longest a job may train.
   * @default 3600
   */
  readonly maxRuntimeSeconds?: number;
  /**
   * Spot only: the longest a job may take, waiting for capacity included (≥ maxRuntimeSeconds).
   * @default - 2 × maxRuntimeSeconds
   */
  readonly maxWaitSeconds?: number;
  /**
   * Private subnets the job's network interfaces go in (with securityGroupIds).
   * @default - no VPC configuration
   */
  readonly subnetIds?: readonly string[];
  /** @default - none (required with subnetIds) */
  readonly securityGroupIds?: readonly string[];
  /**
   * No network access from the training container (the built-in algorithm needs none).
   * @default true
   */
  readonly networkIsolation?: boolean;
  /** @default true */
  readonly interContainerTrafficEncryption?: boolean;
  /**
   * Format of the channels.
   * @default 'csv'
   */
  readonly channelFormat?: ChannelFormat;
  /**
   * How often DescribeTrainingJob is polled once a job has run a while (the first polls come after 1 s, 2 s, 4 s, …).
   * @default 30_000
   */
  readonly pollIntervalMs?: number;
  /**
   * Local directory for the lake cache and channel files.
   * @default - `<os tmpdir>/retail-mlops-sagemaker`
   */
  readonly workDirectory?: string;
  /**
   * Tags on every training job.
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** The options with every default filled in. */
interface ResolvedOptions extends AwsConnectionOptions {
  readonly storage: S3ObjectStorage;
  readonly roleArn: string;
  readonly trainingImage: string;
  readonly projectImage?: string;
  readonly instanceType: string;
  readonly volumeSizeGb: number;
  readonly volumeKmsKeyId?: string;
  readonly outputKmsKeyId?: string;
  readonly managedSpot: boolean;
  readonly maxRuntimeSeconds: number;
  readonly maxWaitSeconds: number;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly networkIsolation: boolean;
  readonly interContainerTrafficEncryption: boolean;
  readonly channelFormat: ChannelFormat;
  readonly pollIntervalMs: number;
  readonly workDirectory: string;
  readonly tags: Readonly<Record<string, string>>;
}

const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** SageMaker's name rule, leaving room for the `-early-stopping` suffix. */
const JOB_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,47}$/;
const EARLY_STOPPING_SUFFIX = '-early-stopping';
/** Polls of a running job that may fail in a row (throttling, 5xx, no answer) before training gives up. */
const MAX_FAILED_POLLS = 5;
const IMAGE_PATTERN = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/;

/**
 * Creates the SageMaker training backend (no request until a job is trained).
 * @throws InvalidOptionsError listing every problem of the options
 */
export function createSageMakerTrainingBackend(options: SageMakerTrainingBackendOptions): TrainingBackend {
  const problems = new ProblemCollector('SageMaker training backend options');
  checkConnectionOptions(options, problems);
  problems.check(typeof options?.storage?.uriOf === 'function', 'storage must be an S3 object storage (createS3ObjectStorage)');
  problems.check(typeof options?.roleArn === 'string' && ROLE_ARN_PATTERN.test(options.roleArn), `roleArn must be an IAM role ARN, got ${JSON.stringify(options?.roleArn)}`);
  const instanceType = options?.instanceType ?? 'ml.m5.xlarge';
  problems.check(/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(instanceType), `instanceType must look like ml.m5.xlarge, got ${JSON.stringify(instanceType)}`);
  const volumeSizeGb = options?.volumeSizeGb ?? 30;
  problems.check(Number.isInteger(volumeSizeGb) && volumeSizeGb >= 1 && volumeSizeGb <= 16_384, `volumeSizeGb must be an integer from 1 to 16384, got ${volumeSizeGb}`);
  const maxRuntimeSeconds = options?.maxRuntimeSeconds ?? 3600;
  problems.check(Number.isInteger(maxRuntimeSeconds) && maxRuntimeSeconds >= 60, `maxRuntimeSeconds must be an integer ≥ 60, got ${maxRuntimeSeconds}`);
  const managedSpot = options?.managedSpot ?? true;
  const maxWaitSeconds = options?.maxWaitSeconds ?? 2 * maxRuntimeSeconds;
  problems.check(
    !managedSpot || (Number.isInteger(maxWaitSeconds) && maxWaitSeconds >= maxRuntimeSeconds),
    `maxWaitSeconds (${maxWaitSeconds}) must be an integer ≥ maxRuntimeSeconds (${maxRuntimeSeconds}) for spot training`,
  );
  problems.check(managedSpot || options?.maxWaitSeconds === undefined, 'maxWaitSeconds applies to managed spot training only');
  const subnets = options?.subnetIds ?? [];
  const securityGroups = options?.securityGroupIds ?? [];
  problems.check((subnets.length === 0) === (securityGroups.length === 0), 'subnetIds and securityGroupIds go together: give both or neither');
  problems.check(subnets.every((subnet) => /^subnet-[0-9a-f]{8,17}$/.test(subnet)), `subnetIds must be subnet ids, got ${JSON.stringify(subnets)}`);
  problems.check(securityGroups.every((group) => /^sg-[0-9a-f]{8,17}$/.test(group)), `securityGroupIds must be security group ids, got ${JSON.stringify(securityGroups)}`);
  const channelFormat = options?.channelFormat ?? 'csv';
  problems.check(channelFormat === 'csv' || channelFormat === 'libsvm', `channelFormat must be csv or libsvm, got ${JSON.stringify(channelFormat)}`);
  const pollIntervalMs = options?.pollIntervalMs ?? 30_000;
  problems.check(Number.isInteger(pollIntervalMs) && pollIntervalMs >= 10, `pollIntervalMs must be an integer ≥ 10, got ${pollIntervalMs}`);
  const tags = options?.tags ?? {};
  problems.check(Object.keys(tags).length <= 45, 'at most 45 tags');
  problems.check(
    options?.projectImage === undefined || (typeof options.projectImage === 'string' && IMAGE_PATTERN.test(options.projectImage) && !options.projectImage.endsWith(':latest')),
    `projectImage must be a pinned registry/repository:tag (or @sha256:…) image reference, got ${JSON.stringify(options?.projectImage)}`,
  );
  let trainingImage = options?.trainingImage;
  if (trainingImage === undefined && typeof options?.region === 'string') {
    try {
      trainingImage = xgboostImageUri(options.region);
    } catch (error) {
      for (const problem of (error as InvalidOptionsError).problems ?? [String(error)]) problems.check(false, problem);
    }
  }
  problems.throwIfAny();
  const volumeKmsKeyId = options.volumeKmsKeyId === null ? undefined : options.volumeKmsKeyId ?? options.storage.kmsKeyId;
  return new SageMakerTrainingBackend({
    ...options,
    trainingImage: trainingImage!,
    instanceType,
    volumeSizeGb,
    volumeKmsKeyId,
    outputKmsKeyId: options.outputKmsKeyId ?? options.storage.kmsKeyId,
    subnetIds: subnets,
    securityGroupIds: securityGroups,
    managedSpot,
    maxRuntimeSeconds,
    maxWaitSeconds,
    networkIsolation: options.networkIsolation ?? true,
    interContainerTrafficEncryption: options.interContainerTrafficEncryption ?? true,
    channelFormat,
    pollIntervalMs,
    workDirectory: options.workDirectory ?? path.join(os.tmpdir(), 'retail-mlops-sagemaker'),
    tags,
  });
}

interface Channel {
  readonly values: Float32Array;
  readonly labels: Int32Array;
}

const CLASSES = PRICE_SENSITIVITY_CLASSES;


class SageMakerTrainingBackend implements TrainingBackend {
  readonly specificationVersion = TRAINING_SPECIFICATION_VERSION;
  readonly provider = 'aws';
  readonly algorithms: readonly string[];
  private client?: Promise<SageMakerClient>;

  constructor(private readonly options: ResolvedOptions) {
    this.algorithms = [SAGEMAKER_XGBOOST_ALGORITHM, ...(options.projectImage !== undefined ? Object.keys(IN_PROCESS_TRAINERS) : [])];
  }

  async train(job: TrainingJob, runOptions: TrainingRunOptions = {}): Promise<TrainedModel> {
    if (job?.algorithm !== SAGEMAKER_XGBOOST_ALGORITHM && this.options.projectImage !== undefined && Object.hasOwn(IN_PROCESS_TRAINERS, job?.algorithm ?? '')) {
      return this.trainInProjectImage(job, runOptions);
    }
    return this.trainBuiltInXGBoost(job, runOptions);
  }

  /** A project trainer as one training job in the project's image; its model.tar.gz holds the TrainedModel. */
  private async trainInProjectImage(job: TrainingJob, runOptions: TrainingRunOptions): Promise<TrainedModel> {
    const lakeLocation = this.checkProjectJob(job);
    const progress = runOptions.progress ?? silentProgress;
    runOptions.signal?.throwIfAborted();
    const storage = this.options.storage;
    const lakeStorage = storage.withLocation(lakeLocation.bucket, lakeLocation.prefix);
    const manifest = await this.lakeManifest(lakeStorage, job);
    const version = manifestAtVersion(manifest, job.dataset.version);
    // exactly what train-job reads of that version: the manifest (it opens the version) and its gold files
    const lakeFiles = [LAKE_MANIFEST, ...version.gold.map((entry) => entry.path)];
    const folder = `jobs/${job.name}`;
    progress.start(`${job.name}: writing the job and the lake manifest to ${storage.uriOf(`${folder}/`)}`);
    await storage.put(`${folder}/${JOB_CHANNEL}/${JOB_DOCUMENT_FILE}`, Buffer.from(`${JSON.stringify(job, null, 2)}\n`), { contentType: 'application/json' });
    await storage.put(`${folder}/${LAKE_CHANNEL}.manifest`, Buffer.from(sageMakerManifest(lakeStorage.uriOf(''), lakeFiles)), { contentType: 'application/json' });
    progress.stop();
    const request: CreateTrainingJobCommandInput = {
      ...this.commonRequest(job.name),
      AlgorithmSpecification: {
        TrainingImage: this.options.projectImage,
        TrainingInputMode: 'File',
        ContainerEntrypoint: [...PROJECT_IMAGE_ENTRYPOINT],
        ContainerArguments: projectTrainingArguments(),
      },
      Environment: { RETAIL_MLOPS_COMMIT: codeCommit() },
      InputDataConfig: [
        {
          ChannelName: JOB_CHANNEL,
          DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: storage.uriOf(`${folder}/${JOB_CHANNEL}/`), S3DataDistributionType: 'FullyReplicated' } },
          ContentType: 'application/json',
          CompressionType: 'None',
        },
        {
          ChannelName: LAKE_CHANNEL,
          DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: storage.uriOf(`${folder}/${LAKE_CHANNEL}.manifest`), S3DataDistributionType: 'FullyReplicated' } },
          CompressionType: 'None',
        },
      ],
    };
    const archive = await this.runToCompletion(job.name, request, progress, runOptions.signal);
    let document: TrainedModelDocument;
    let onnx: Uint8Array;
    try {
      const entries = readTarEntries(gunzipSync(archive));
      const documentBytes = entries.get(TRAINED_MODEL_FILE);
      const onnxBytes = entries.get(ONNX_MODEL_FILE);
      if (!documentBytes || !onnxBytes) throw new ModelArchiveError(`it holds ${[...entries.keys()].join(', ') || 'nothing'}, not ${ONNX_MODEL_FILE} and ${TRAINED_MODEL_FILE}`);
      document = JSON.parse(Buffer.from(documentBytes).toString('utf8')) as TrainedModelDocument;
      onnx = onnxBytes;
    } catch (error) {
      throw new TrainingJobFailedError(job.name, 'Completed', `its model.tar.gz is not what retail-mlops train-job writes: ${(error as Error).message}`);
    }
    try {
      return { ...fromTrainedModelDocument(document, onnx), job, engine: 'sagemaker' };
    } catch (error) {
      throw new TrainingJobFailedError(job.name, 'Completed', `its model.tar.gz is inconsistent: ${(error as Error).message}`);
    }
  }

  /** The lake's manifest in S3, checked to hold the job's version. */
  private async lakeManifest(lakeStorage: S3ObjectStorage, job: TrainingJob): Promise<LakeManifest> {
    let manifest: LakeManifest;
    try {
      manifest = JSON.parse(Buffer.from(await lakeStorage.get(LAKE_MANIFEST)).toString('utf8')) as LakeManifest;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw new InvalidOptionsError('training job', [`dataset.uri ${job.dataset.uri} holds no lake (no ${LAKE_MANIFEST}); ingest into it first`]);
      throw error;
    }
    if (!Number.isInteger(job.dataset.version) || job.dataset.version < 1 || job.dataset.version > manifest.version) {
      throw new InvalidOptionsError('training job', [`dataset ${job.dataset.uri} has versions 1…${manifest.version}, not ${job.dataset.version}`]);
    }
    return manifest;
  }

  /** Checks a project-trainer job (every problem at once); returns the lake's bucket and prefix. */
  private checkProjectJob(job: TrainingJob): { readonly bucket: string; readonly prefix: string } {
    const problems = new ProblemCollector('training job');
    problems.check(job?.specificationVersion === TRAINING_SPECIFICATION_VERSION, `specificationVersion must be ${TRAINING_SPECIFICATION_VERSION}`);
    problems.check(typeof job?.name === 'string' && JOB_NAME_PATTERN.test(job.name), `name must be letters, digits and hyphens, at most 48 characters, got ${JSON.stringify(job?.name)}`);
    problems.check(
      job?.featureSpec?.hash === FEATURE_SPEC.hash,
      `feature spec ${job?.featureSpec?.version} (${job?.featureSpec?.hash}) is not the image's ${FEATURE_SPEC.version} (${FEATURE_SPEC.hash})`,
    );
    const uri = String(job?.dataset?.uri ?? '');
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*?))?\/*$/.exec(uri);
    problems.check(match !== null, `dataset.uri must be an s3:// lake (the job reads it from S3), got ${JSON.stringify(job?.dataset?.uri)}`);
    problems.throwIfAny();
    return { bucket: match![1], prefix: match![2] ?? '' };
  }

  private async trainBuiltInXGBoost(job: TrainingJob, runOptions: TrainingRunOptions): Promise<TrainedModel> {
    const hyperparameters = this.validateJob(job);
    const started = performance.now();
    const progress = runOptions.progress ?? silentProgress;
    runOptions.signal?.throwIfAborted();
    const lake = await this.openLake(job);
    const { batch } = await readGoldBaskets(lake, [...job.split.trainWeeks, ...job.split.validationWeeks, ...job.split.testWeeks]);
    const train = rowsOfWeeks(batch, job.split.trainWeeks);
    const validation = rowsOfWeeks(batch, job.split.validationWeeks);
    const test = rowsOfWeeks(batch, job.split.testWeeks);
    if (train.rows.length === 0 || test.rows.length === 0) {
      throw new InvalidOptionsError('training job', [`the lake has ${train.rows.length} labelled training and ${test.rows.length} test baskets in the split's weeks`]);
    }
    const labelsOf = (rows: Int32Array): Int32Array => rows.map((row) => batch.label[row]);
    const metadata = (trainingJobName: string) => ({
      featureSpecVersion: FEATURE_SPEC.version,
      featureSpecHash: FEATURE_SPEC.hash,
      featureNames: FEATURE_SPEC.names,
      algorithm: SAGEMAKER_XGBOOST_ALGORITHM,
      properties: { job: job.name, lakeVersion: String(job.dataset.version), sagemakerTrainingJob: trainingJobName },
    });

    // 1. early stopping on the validation weeks: the number of rounds, and the validation metrics
    let rounds = Number(hyperparameters.num_round);
    let validationMetrics: EvaluationMetrics | undefined;
    const trainingJobs: string[] = [];
    const earlyStoppingRounds = Number(hyperparameters.early_stopping_rounds);
    if (validation.rows.length > 0 && earlyStoppingRounds > 0) {
      const fitted = outOfFoldFeatures(batch, train.rows, { seed: job.seed });
      const validationValues = heldOutFeatures(fitted.statistics, batch, validation.rows);
      const validationLabels = labelsOf(validation.rows);
      const name = `${job.name}${EARLY_STOPPING_SUFFIX}`;
      const modelFile = await this.runTrainingJob(
        name,
        { train: { values: fitted.values, labels: labelsOf(train.rows) }, validation: { values: validationValues, labels: validationLabels } },
        this.algorithmHyperparameters(hyperparameters, job.seed, { rounds, earlyStoppingRounds }),
        progress,
        runOptions.signal,
      );
      trainingJobs.push(name);
      const early = importXGBoostModel(modelFile, { classes: CLASSES, featureCount: FEATURE_COUNT, rounds: 'best', metadata: metadata(name) });
      rounds = early.rounds.kept;
      validationMetrics = computeMetrics(validationLabels, modelProbabilities(early.model, validationValues, validationLabels.length), CLASSES);
    }

    // 2. the final model: statistics and trees on training + validation weeks, with the rounds kept
    const finalRows = Int32Array.from([...train.rows, ...validation.rows]);
    const finalLabels = labelsOf(finalRows);
    const final = outOfFoldFeatures(batch, finalRows, { seed: job.seed });
    const modelFile = await this.runTrainingJob(
      job.name,
      { train: { values: final.values, labels: finalLabels } },
      this.algorithmHyperparameters(hyperparameters, job.seed, { rounds, earlyStoppingRounds: 0 }),
      progress,
      runOptions.signal,
    );
    trainingJobs.push(job.name);
    const imported = importXGBoostModel(modelFile, { classes: CLASSES, featureCount: FEATURE_COUNT, rounds, metadata: metadata(job.name) });

    // 3. held-out weeks, scored here with the converted model, and the context-only baseline
    const testValues = heldOutFeatures(final.statistics, batch, test.rows);
    const testLabels = labelsOf(test.rows);
    const baseline = contextOnlyBaseline({ values: final.values, labels: finalLabels }, { values: testValues, labels: testLabels }, CLASSES);
    const metrics = computeMetrics(testLabels, modelProbabilities(imported.model, testValues, testLabels.length), CLASSES, { baseline });

    const usedParameters: Record<string, HyperparameterValue> = {
      ...hyperparameters,
      num_round: rounds,
      seed: job.seed,
      trainingImage: this.options.trainingImage,
      instanceType: this.options.instanceType,
      managedSpot: this.options.managedSpot,
      channelFormat: this.options.channelFormat,
      trainingJobs: trainingJobs.join(','),
    };
    return {
      job,
      onnx: imported.onnx,
      classes: CLASSES,
      metrics: { ...metrics, excluded: { ...metrics.excluded, XX: test.unclassified } },
      validationMetrics,
      featureStatistics: statisticsToDocument(final.statistics),
      featureImportance: featureImportance(imported.model),
      lineage: modelLineage(job, lake, SAGEMAKER_XGBOOST_ALGORITHM, usedParameters),
      parameters: usedParameters,
      trainSeconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      engine: 'sagemaker',
    };
  }

  // ---------------------------------------------------------------------------------------------

  /** Checks the job (every problem at once); returns its hyperparameters with the defaults filled in. */
  private validateJob(job: TrainingJob): Readonly<Record<string, HyperparameterValue>> {
    const problems = new ProblemCollector('training job');
    problems.check(job?.specificationVersion === TRAINING_SPECIFICATION_VERSION, `specificationVersion must be ${TRAINING_SPECIFICATION_VERSION}`);
    problems.check(job?.algorithm === SAGEMAKER_XGBOOST_ALGORITHM, `algorithm '${job?.algorithm}' is not one of ${this.algorithms.join(', ')}${this.options.projectImage === undefined ? ' (give projectImage to run the project\'s own trainers)' : ''}`);
    problems.check(typeof job?.name === 'string' && JOB_NAME_PATTERN.test(job.name), `name must be letters, digits and hyphens, at most 48 characters, got ${JSON.stringify(job?.name)}`);
    problems.check(
      job?.featureSpec?.hash === FEATURE_SPEC.hash,
      `feature spec ${job?.featureSpec?.version} (${job?.featureSpec?.hash}) is not this code's ${FEATURE_SPEC.version} (${FEATURE_SPEC.hash})`,
    );
    problems.check(Number.isInteger(job?.seed), `seed must be an integer, got ${job?.seed}`);
    const split = job?.split;
    problems.check((split?.trainWeeks?.length ?? 0) > 0, 'split.trainWeeks is empty');
    problems.check((split?.testWeeks?.length ?? 0) > 0, 'split.testWeeks is empty');
    const overlap = (split?.testWeeks ?? []).filter((week) => split.trainWeeks.includes(week) || split.validationWeeks.includes(week));
    problems.check(overlap.length === 0, `test weeks ${overlap.join(', ')} are also training or validation weeks`);
    const hyperparameters = { ...SAGEMAKER_XGBOOST_DEFAULTS, ...(job?.hyperparameters ?? {}) };
    for (const [name, value] of Object.entries(hyperparameters)) {
      if (name === 'tree_method') {
        problems.check(typeof value === 'string' && TREE_METHODS.includes(value), `tree_method must be one of ${TREE_METHODS.join(', ')}, got ${JSON.stringify(value)}`);
        continue;
      }
      const range = HYPERPARAMETER_RANGES[name];
      if (!range) {
        problems.check(false, `unknown hyperparameter '${name}' (known: ${Object.keys(SAGEMAKER_XGBOOST_DEFAULTS).join(', ')})`);
        continue;
      }
      const [minimum, maximum, integer] = range;
      problems.check(
        typeof value === 'number' && value >= minimum && value <= maximum && (!integer || Number.isInteger(value)),
        `${name} must be ${integer ? 'an integer' : 'a number'} from ${minimum} to ${maximum}, got ${JSON.stringify(value)}`,
      );
    }
    problems.throwIfAny();
    return hyperparameters;
  }

  /** The built-in algorithm's HyperParameters map (strings), for one job. */
  private algorithmHyperparameters(
    hyperparameters: Readonly<Record<string, HyperparameterValue>>,
    seed: number,
    job: { readonly rounds: number; readonly earlyStoppingRounds: number },
  ): Record<string, string> {
    const values: Record<string, string> = {
      objective: 'multi:softprob',
      num_class: String(CLASSES.length),
      eval_metric: 'mlogloss',
      seed: String(seed),
    };
    for (const [name, value] of Object.entries(hyperparameters)) if (name !== 'early_stopping_rounds' && name !== 'num_round') values[name] = String(value);
    values.num_round = String(job.rounds);
    if (job.earlyStoppingRounds > 0) values.early_stopping_rounds = String(job.earlyStoppingRounds);
    return Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  private async openLake(job: TrainingJob): Promise<Lake> {
    const { uri, version } = job.dataset;
    if (!uri.startsWith('s3://')) return (await Lake.openExisting(uri)).atVersion(version);
    const [bucket, ...rest] = uri.slice('s3://'.length).replace(/\/+$/, '').split('/');
    const lakeStorage = this.options.storage.withLocation(bucket, rest.join('/'));
    const cache = path.join(this.options.workDirectory, 'lakes', bucket, ...rest);
    return (await pullLake(lakeStorage, cache)).atVersion(version);
  }

  /** The CreateTrainingJob request of one built-in XGBoost job (its channels already in S3). */
  trainingJobRequest(name: string, channels: readonly string[], hyperparameters: Record<string, string>): CreateTrainingJobCommandInput {
    const storage = this.options.storage;
    const contentType = CHANNEL_CONTENT_TYPES[this.options.channelFormat];
    return {
      ...this.commonRequest(name),
      AlgorithmSpecification: { TrainingImage: this.options.trainingImage, TrainingInputMode: 'File' },
      HyperParameters: hyperparameters,
      InputDataConfig: channels.map((channel) => ({
        ChannelName: channel,
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: storage.uriOf(`jobs/${name}/channels/${channel}/`), S3DataDistributionType: 'FullyReplicated' } },
        ContentType: contentType,
        CompressionType: 'None',
      })),
    };
  }

  /** What every job of this backend sets: role, output, instance, limits, spot, VPC, isolation, encryption, tags. */
  private commonRequest(name: string): Omit<CreateTrainingJobCommandInput, 'AlgorithmSpecification'> {
    const storage = this.options.storage;
    return {
      TrainingJobName: name,
      RoleArn: this.options.roleArn,
      OutputDataConfig: { S3OutputPath: storage.uriOf('jobs/'), ...(this.options.outputKmsKeyId ? { KmsKeyId: this.options.outputKmsKeyId } : {}) },
      ResourceConfig: {
        InstanceType: this.options.instanceType as TrainingInstanceType,
        InstanceCount: 1,
        VolumeSizeInGB: this.options.volumeSizeGb,
        ...(this.options.volumeKmsKeyId ? { VolumeKmsKeyId: this.options.volumeKmsKeyId } : {}),
      },
      StoppingCondition: {
        MaxRuntimeInSeconds: this.options.maxRuntimeSeconds,
        ...(this.options.managedSpot ? { MaxWaitTimeInSeconds: this.options.maxWaitSeconds } : {}),
      },
      EnableManagedSpotTraining: this.options.managedSpot,
      ...(this.options.managedSpot ? { CheckpointConfig: { S3Uri: storage.uriOf(`jobs/${name}/checkpoints/`), LocalPath: '/opt/ml/checkpoints' } } : {}),
      ...(this.options.subnetIds.length > 0
        ? { VpcConfig: { Subnets: [...this.options.subnetIds], SecurityGroupIds: [...this.options.securityGroupIds] } }
        : {}),
      EnableNetworkIsolation: this.options.networkIsolation,
      EnableInterContainerTrafficEncryption: this.options.interContainerTrafficEncryption,
      Tags: Object.entries({ 'retail-mlops:component': 'training', ...this.options.tags }).map(([Key, Value]) => ({ Key, Value })),
    };
  }

  /** Ships the channels, runs one training job to its end, and returns the model file from its model.tar.gz. */
  private async runTrainingJob(
    name: string,
    channels: Readonly<Record<string, Channel>>,
    hyperparameters: Record<string, string>,
    progress: ProgressReporter,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const storage = this.options.storage;
    const local = path.join(this.options.workDirectory, 'jobs', name);
    await mkdir(local, { recursive: true });
    try {
      progress.start(`${name}: writing channels to ${storage.uriOf(`jobs/${name}/channels/`)}`);
      for (const [channel, data] of Object.entries(channels)) {
        const file = path.join(local, `${channel}.${this.options.channelFormat}`);
        await writeChannelFile(file, data.values, data.labels, FEATURE_COUNT, this.options.channelFormat);
        await storage.upload(`jobs/${name}/channels/${channel}/${channel}.${this.options.channelFormat}`, file, { contentType: CHANNEL_CONTENT_TYPES[this.options.channelFormat] });
      }
      progress.stop();
    } finally {
      await rm(local, { recursive: true, force: true });
    }
    const archive = await this.runToCompletion(name, this.trainingJobRequest(name, Object.keys(channels), hyperparameters), progress, signal);
    return extractFromModelArchive(archive, 'xgboost-model');
  }

  /** Creates the job, waits for it to complete, and returns its model.tar.gz. */
  private async runToCompletion(name: string, request: CreateTrainingJobCommandInput, progress: ProgressReporter, signal: AbortSignal | undefined): Promise<Uint8Array> {
    signal?.throwIfAborted();
    const storage = this.options.storage;
    const { CreateTrainingJobCommand } = await loadSageMaker();
    await this.send('CreateTrainingJob', name, async (client) => client.send(new CreateTrainingJobCommand(request)));
    const description = await this.waitForTrainingJob(name, progress, signal);
    const artifacts = description.ModelArtifacts?.S3ModelArtifacts ?? '';
    const key = storage.keyOf(artifacts);
    if (!key) throw new TrainingJobFailedError(name, 'Completed', `its model artifacts ${JSON.stringify(artifacts)} are not under ${storage.location}`);
    return storage.get(key);
  }

  /** Polls until the job ends; on abort asks SageMaker to stop it, waits for that, and throws the abort reason. */
  private async waitForTrainingJob(
    name: string,
    progress: ProgressReporter,
    signal: AbortSignal | undefined,
  ): Promise<DescribeTrainingJobCommandOutput> {
    const { DescribeTrainingJobCommand, StopTrainingJobCommand } = await loadSageMaker();
    let stopRequested = false;
    let shown = '';
    let failedPolls = 0;
    let polls = 0;
    const started = Date.now();
    try {
      for (;;) {
        if (signal?.aborted && !stopRequested) {
          stopRequested = true;
          await this.send('StopTrainingJob', name, async (client) => client.send(new StopTrainingJobCommand({ TrainingJobName: name })));
        }
        let description: DescribeTrainingJobCommandOutput;
        try {
          description = await this.send('DescribeTrainingJob', name, async (client) => client.send(new DescribeTrainingJobCommand({ TrainingJobName: name })));
          failedPolls = 0;
        } catch (error) {
          // the job runs on whatever the poll meets: a throttled or failing poll (after the SDK's own retries) is tried again next interval
          failedPolls += 1;
          if (!isTransientAwsFailure(error) || failedPolls > MAX_FAILED_POLLS) throw error;
          await sleep(this.options.pollIntervalMs * failedPolls, undefined, { signal: stopRequested ? undefined : signal }).catch(() => undefined);
          continue;
        }
        const status = description.TrainingJobStatus ?? 'Unknown';
        const phase = `${name}: ${status}${description.SecondaryStatus ? ` (${description.SecondaryStatus})` : ''}`;
        if (phase !== shown) {
          if (shown) progress.stop();
          progress.start(phase, undefined, 's');
          shown = phase;
        }
        progress.update(Math.round((Date.now() - started) / 1000));
        if (status === 'Completed') return description;
        if (status === 'Failed' || status === 'Stopped') {
          if (stopRequested) signal?.throwIfAborted();
          throw new TrainingJobFailedError(name, status, description.FailureReason);
        }
        await sleep(pollDelayMs(polls++, this.options.pollIntervalMs), undefined, { signal: stopRequested ? undefined : signal }).catch(() => undefined);
      }
    } finally {
      if (shown) progress.stop();
    }
  }

  private clientPromise(): Promise<SageMakerClient> {
    this.client ??= loadSageMaker().then(({ SageMakerClient: Client }) => new Client(clientConfiguration(this.options)));
    return this.client;
  }

  private async send<T>(operation: string, resource: string, body: (client: SageMakerClient) => Promise<T>): Promise<T> {
    const client = await this.clientPromise();
    try {
      return await body(client);
    } catch (error) {
      throw new SageMakerRequestError(operation, resource, { cause: error });
    }
  }
}
