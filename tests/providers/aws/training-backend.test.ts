/**
 * The SageMaker training backend, end to end on this machine: the lake on s3rver, the production
 * code's real SageMaker client against the fake control plane, which "runs" each training job with
 * real XGBoost 1.7 on the uploaded channels and writes model.tar.gz back to S3. Everything the
 * backend does runs for real: features, channels, CreateTrainingJob, polling, download, import, metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../core/evaluation/metrics';
import { FEATURE_SPEC } from '../../../core/features/spec';
import { statisticsFromDocument } from '../../../core/features/statistics';
import { heldOutFeatures } from '../../../core/features/training-matrix';
import { readGoldBaskets } from '../../../core/lake/gold-reader';
import type { Lake } from '../../../core/lake/lake';
import { pushLake } from '../../../core/lake/lake-sync';
import { readOnnxMetadata } from '../../../core/onnx/metadata';
import type { ProgressReporter } from '../../../core/progress';
import { defaultTimeSplit, type TrainedModel, type TrainingJob } from '../../../core/training/port';
import { startControlPlane, type ControlPlane } from '../../../providers/aws/emulator/control-plane';
import { startS3Emulator, type S3Emulator } from '../../../providers/aws/emulator/s3';
import { realXGBoostAlgorithm } from '../../../providers/aws/emulator/training-runner';
import { createS3ObjectStorage, type S3ObjectStorage } from '../../../providers/aws/object-storage';
import { createSageMakerTrainingBackend, type SageMakerTrainingBackendOptions } from '../../../providers/aws/training-backend';
import { runWithOnnxRuntime } from '../../helpers/onnx';
import { temporaryDirectory } from '../../helpers/paths';
import { ingestSample } from '../../helpers/sample-features';
import { xgboostUnavailableReason } from '../../helpers/xgboost';

const BUCKET = 'retail-mlops-test';
const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/6f1e0d2c-3b4a-5968-7a8b-9c0d1e2f3a4b';
const ROLE = 'arn:aws:iam::111122223333:role/retail-mlops-sagemaker-execution';
const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret-not-used' };
const unavailable = xgboostUnavailableReason();
if (unavailable) console.warn(`SKIPPED the SageMaker training backend run: ${unavailable}`);

function recordingProgress(): ProgressReporter & { readonly phases: string[] } {
  const phases: string[] = [];
  return { phases, start: (phase) => phases.push(phase), update: () => undefined, stop: () => undefined };
}

describe.skipIf(unavailable !== undefined)('SageMaker training backend (fake control plane running real XGBoost)', () => {
  const scratch = temporaryDirectory('sagemaker-backend-');
  let s3: S3Emulator;
  let controlPlane: ControlPlane;
  let storage: S3ObjectStorage;
  let lake: Lake;
  let job: TrainingJob;
  let trained: TrainedModel;
  const progress = recordingProgress();

  const backendOptions = (overrides: Partial<SageMakerTrainingBackendOptions> = {}): SageMakerTrainingBackendOptions => ({
    region: 'us-east-1',
    endpoint: controlPlane.endpoint,
    credentials: DUMMY_CREDENTIALS,
    storage,
    roleArn: ROLE,
    subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b1c2d3e4f5a60718'],
    securityGroupIds: ['sg-0123456789abcdef0'],
    pollIntervalMs: 20,
    workDirectory: `${scratch.path}/work`,
    tags: { team: 'pricing' },
    ...overrides,
  });

  beforeAll(async () => {
    s3 = await startS3Emulator([BUCKET]);
    controlPlane = await startControlPlane({ runTrainingJob: realXGBoostAlgorithm(s3) });
    storage = createS3ObjectStorage({ ...s3.connection, bucket: BUCKET, prefix: 'training', kmsKeyId: KMS_KEY });
    lake = await ingestSample(scratch.path, 4);
    await pushLake(lake, createS3ObjectStorage({ ...s3.connection, bucket: BUCKET, prefix: 'lake', kmsKeyId: KMS_KEY }));
    job = {
      specificationVersion: 'v1',
      name: 'price-sensitivity-20240501',
      dataset: { uri: `s3://${BUCKET}/lake`, version: lake.manifest.version },
      split: defaultTimeSplit(lake.weeks()),
      featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
      algorithm: 'sagemaker-xgboost',
      hyperparameters: { num_round: 80, max_depth: 5, eta: 0.3, early_stopping_rounds: 5 },
      seed: 7,
    };
    trained = await createSageMakerTrainingBackend(backendOptions()).train(job, { progress });
  });
  afterAll(async () => {
    await controlPlane?.close();
    await s3?.close();
    scratch.remove();
  });

  it('trains through two SageMaker jobs (early stopping, then the refit) and returns the contract', () => {
    expect(trained.engine).toBe('sagemaker');
    expect(trained.classes).toEqual(['LA', 'MM', 'UM']);
    expect(trained.lineage).toMatchObject({
      algorithm: 'sagemaker-xgboost',
      featureSpecHash: FEATURE_SPEC.hash,
      lakeVersion: String(lake.manifest.version),
      trainingWeeks: [...job.split.trainWeeks, ...job.split.validationWeeks],
      evaluationWeeks: job.split.testWeeks,
    });
    expect(trained.lineage.inputFiles).toHaveLength(4);
    expect(trained.parameters.trainingJobs).toBe('price-sensitivity-20240501-early-stopping,price-sensitivity-20240501');
    const rounds = Number(trained.parameters.num_round);
    expect(rounds).toBeGreaterThan(1);
    expect(rounds).toBeLessThanOrEqual(80);
    expect(trained.validationMetrics?.accuracy).toBeGreaterThan(0.7);
    // the same floor the seed's gate holds in-process models to
    expect(trained.metrics.accuracy).toBeGreaterThan(0.75);
    expect(trained.metrics.macroF1).toBeGreaterThan(0.7);
    expect(trained.metrics.lift?.baseline.name).toBe('context-only logistic regression');
    expect(trained.metrics.excluded.XX).toBeGreaterThan(0);
    expect(trained.featureImportance[0].importance).toBeGreaterThan(0);
    expect(progress.phases.some((phase) => phase.includes('InProgress (Training)'))).toBe(true);
    expect(progress.phases.some((phase) => phase.startsWith('price-sensitivity-20240501: Completed'))).toBe(true);
  });

  it('returns an ONNX model with the project metadata whose predictions in ONNX Runtime give the reported test metrics', async () => {
    const info = readOnnxMetadata(trained.onnx);
    expect(info).toMatchObject({ algorithm: 'sagemaker-xgboost', featureSpecHash: FEATURE_SPEC.hash, classLabels: ['LA', 'MM', 'UM'] });
    expect(info.properties.sagemakerTrainingJob).toBe('price-sensitivity-20240501');
    // the server's path: features from the shipped statistics, then ONNX Runtime
    const { batch } = await readGoldBaskets(lake, job.split.testWeeks);
    const rows = Int32Array.from({ length: batch.size }, (_, basket) => basket).filter((basket) => batch.label[basket] >= 0);
    const values = heldOutFeatures(statisticsFromDocument(trained.featureStatistics), batch, rows);
    const output = await runWithOnnxRuntime(trained.onnx, values, rows.length, FEATURE_SPEC.names.length);
    const metrics = computeMetrics(rows.map((row) => batch.label[row]), output.probabilities, ['LA', 'MM', 'UM']);
    expect(metrics.rows).toBe(trained.metrics.rows);
    expect(metrics.accuracy).toBeCloseTo(trained.metrics.accuracy, 10);
    expect(metrics.macroF1).toBeCloseTo(trained.metrics.macroF1, 10);
  });

  it('sent exactly these CreateTrainingJob requests (X-Amz-Target and JSON body)', () => {
    const creates = controlPlane.requestsOf('CreateTrainingJob');
    expect(creates).toHaveLength(2);
    for (const request of creates) {
      expect(request.headers['x-amz-target']).toBe('SageMaker.CreateTrainingJob');
      expect(request.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTESTTESTTEST\/\d{8}\/us-east-1\/sagemaker\/aws4_request/);
    }
    const channel = (jobName: string, name: string): unknown => ({
      ChannelName: name,
      ContentType: 'text/csv',
      CompressionType: 'None',
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3DataDistributionType: 'FullyReplicated', S3Uri: `s3://${BUCKET}/training/jobs/${jobName}/channels/${name}/` } },
    });
    const common = (jobName: string): Record<string, unknown> => ({
      TrainingJobName: jobName,
      RoleArn: ROLE,
      AlgorithmSpecification: { TrainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', TrainingInputMode: 'File' },
      OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/training/jobs/`, KmsKeyId: KMS_KEY },
      ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30, VolumeKmsKeyId: KMS_KEY },
      StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 },
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: `s3://${BUCKET}/training/jobs/${jobName}/checkpoints/`, LocalPath: '/opt/ml/checkpoints' },
      VpcConfig: { Subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b1c2d3e4f5a60718'], SecurityGroupIds: ['sg-0123456789abcdef0'] },
      EnableNetworkIsolation: true,
      EnableInterContainerTrafficEncryption: true,
      Tags: [{ Key: 'retail-mlops:component', Value: 'training' }, { Key: 'team', Value: 'pricing' }],
    });
    const hyperparameters = {
      alpha: '0',
      colsample_bytree: '0.8',
      eta: '0.3',
      eval_metric: 'mlogloss',
      gamma: '0',
      lambda: '1',
      max_bin: '256',
      max_depth: '5',
      min_child_weight: '1',
      num_class: '3',
      objective: 'multi:softprob',
      seed: '7',
      subsample: '0.8',
      tree_method: 'hist',
    };
    expect(creates[0].body).toEqual({
      ...common('price-sensitivity-20240501-early-stopping'),
      HyperParameters: { ...hyperparameters, num_round: '80', early_stopping_rounds: '5' },
      InputDataConfig: [channel('price-sensitivity-20240501-early-stopping', 'train'), channel('price-sensitivity-20240501-early-stopping', 'validation')],
    });
    expect(creates[1].body).toEqual({
      ...common('price-sensitivity-20240501'),
      HyperParameters: { ...hyperparameters, num_round: String(trained.parameters.num_round) },
      InputDataConfig: [channel('price-sensitivity-20240501', 'train')],
    });
  });

  it('ships the channels as label-first CSV without a header, every value written, encrypted with the KMS key', async () => {
    const text = Buffer.from(await storage.get('jobs/price-sensitivity-20240501/channels/train/train.csv')).toString('utf8');
    const lines = text.trimEnd().split('\n');
    const first = lines[0].split(',');
    expect(first).toHaveLength(1 + FEATURE_SPEC.names.length);
    expect(['0', '1', '2']).toContain(first[0]);
    expect(first.every((cell) => Number.isFinite(Number(cell)))).toBe(true);
    const uploads = s3.requests.filter((request) => request.method === 'PUT' && request.url.includes('/training/jobs/') && request.url.includes('/channels/'));
    expect(uploads.length).toBeGreaterThanOrEqual(3);
    for (const upload of uploads) expect(upload.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe(KMS_KEY);
  });

  it('stops the SageMaker job when aborted, and rejects with the abort reason', async () => {
    const hanging = await startControlPlane({
      runTrainingJob: (_request, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
    });
    try {
      const controller = new AbortController();
      const backend = createSageMakerTrainingBackend(backendOptions({ endpoint: hanging.endpoint }));
      const training = backend.train({ ...job, name: 'aborted-job', hyperparameters: { ...job.hyperparameters, num_round: 5 } }, { signal: controller.signal });
      const watcher = setInterval(() => {
        if (hanging.requestsOf('DescribeTrainingJob').length >= 2) controller.abort(new Error('user pressed ctrl-c'));
      }, 5);
      const error = await training.catch((caught: unknown) => caught);
      clearInterval(watcher);
      expect((error as Error).message).toBe('user pressed ctrl-c');
      expect(hanging.requestsOf('StopTrainingJob').map((request) => request.body)).toEqual([{ TrainingJobName: 'aborted-job-early-stopping' }]);
    } finally {
      await hanging.close();
    }
  });

  it('reports a failed job with a stable code and SageMaker\'s failure reason', async () => {
    const failing = await startControlPlane({ runTrainingJob: () => Promise.reject(new Error('out of memory')) });
    try {
      const backend = createSageMakerTrainingBackend(backendOptions({ endpoint: failing.endpoint }));
      const error = await backend.train({ ...job, name: 'failing-job' }).catch((caught: unknown) => caught);
      expect((error as { code: string }).code).toBe('TRAINING_JOB_FAILED');
      expect((error as Error).message).toContain('AlgorithmError: out of memory');
    } finally {
      await failing.close();
    }
  });

  it('validates options and jobs eagerly, listing every problem', async () => {
    let caught: unknown;
    try {
      createSageMakerTrainingBackend({ ...backendOptions(), region: 'mars-1', roleArn: 'role', subnetIds: ['subnet-1'], securityGroupIds: [], maxRuntimeSeconds: 10 });
    } catch (error) {
      caught = error;
    }
    expect((caught as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((caught as { problems: string[] }).problems).toHaveLength(6);
    const backend = createSageMakerTrainingBackend(backendOptions());
    const error = await backend
      .train({ ...job, name: 'bad name', algorithm: 'gbdt', hyperparameters: { max_depth: 0.5, booster: 'dart' } })
      .catch((rejection: unknown) => rejection);
    expect((error as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((error as { problems: string[] }).problems).toHaveLength(4);
  });
});
