/**
 * The project's own trainers on SageMaker: a training job in the project's image runs
 * `retail-mlops train-job` on a channel that holds exactly the files of the job's lake version.
 * On the AWS emulator the job really runs (this install's CLI as a child process on SageMaker's
 * /opt/ml layout), so the model it returns can be compared byte for byte with a local run.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_SPEC } from '../../../core/features/spec';
import { ingest } from '../../../core/lake/ingest';
import { LAKE_MANIFEST, Lake } from '../../../core/lake/lake';
import { pushLake } from '../../../core/lake/lake-sync';
import { trainInProcess } from '../../../core/training/in-process';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION, type TrainedModel, type TrainingJob } from '../../../core/training/port';
import { startAwsEmulator, type RunningAwsEmulator } from '../../../providers/aws/emulator/emulator';
import { S3RVER_CREDENTIALS } from '../../../providers/aws/emulator/s3';
import { createS3ObjectStorage, type S3ObjectStorage } from '../../../providers/aws/object-storage';
import { PROJECT_IMAGE_ENTRYPOINT } from '../../../providers/aws/project-training-job';
import { createSageMakerTrainingBackend, type SageMakerTrainingBackendOptions } from '../../../providers/aws/training-backend';
import { REPO_ROOT, SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/6f1e0d2c-3b4a-5968-7a8b-9c0d1e2f3a4b';
const scratch = temporaryDirectory('sagemaker-project-');
let emulator: RunningAwsEmulator;
let storage: S3ObjectStorage;
let lakeDirectory: string;
let job: TrainingJob;
let trained: TrainedModel;

function backendOptions(overrides: Partial<SageMakerTrainingBackendOptions> = {}): SageMakerTrainingBackendOptions {
  return {
    region: 'us-east-1',
    endpoint: emulator.controlPlane.endpoint,
    credentials: S3RVER_CREDENTIALS,
    storage,
    roleArn: emulator.env.RETAIL_MLOPS_AWS_ROLE_ARN,
    projectImage: emulator.env.RETAIL_MLOPS_AWS_IMAGE,
    subnetIds: ['subnet-0a1b2c3d4e5f60718'],
    securityGroupIds: ['sg-0123456789abcdef0'],
    pollIntervalMs: 50,
    workDirectory: path.join(scratch.path, 'work'),
    ...overrides,
  };
}

beforeAll(async () => {
  emulator = await startAwsEmulator({ dataDirectory: path.join(scratch.path, 'emulator') });
  const bucket = new URL(emulator.lake).host;
  storage = createS3ObjectStorage({ ...emulator.s3.connection, bucket, prefix: 'training', kmsKeyId: KMS_KEY });
  // version 1: three weeks; version 2 adds the fourth; the lake also holds a prediction log
  lakeDirectory = path.join(scratch.path, 'lake');
  await ingest({ inputs: SAMPLE_FILES.slice(0, 3), lake: lakeDirectory });
  const weeks = (await Lake.open(lakeDirectory)).weeks();
  await ingest({ inputs: SAMPLE_FILES.slice(3), lake: lakeDirectory });
  const lakeStorage = createS3ObjectStorage({ ...emulator.s3.connection, bucket, prefix: 'lake' });
  await pushLake(await Lake.open(lakeDirectory), lakeStorage);
  await lakeStorage.put('predictions/2024-05-01/part-0.jsonl', Buffer.from('{"label":"MM"}\n'));
  job = {
    specificationVersion: TRAINING_SPECIFICATION_VERSION,
    name: 'train-lr-sagemaker',
    dataset: { uri: emulator.lake, version: 1 },
    split: defaultTimeSplit(weeks),
    featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
    algorithm: 'lr',
    hyperparameters: { maxIterations: 60 },
    seed: 7,
  };
  trained = await createSageMakerTrainingBackend(backendOptions()).train(job);
});
afterAll(async () => {
  await emulator?.close();
  scratch.remove();
});

describe('SageMaker training job in the project image', () => {
  it('gives the TrainedModel of a local run of the same job: identical ONNX bytes, metrics, lineage, statistics', async () => {
    const local = await trainInProcess({ ...job, dataset: { uri: lakeDirectory, version: 1 } });
    expect(trained.engine).toBe('sagemaker');
    expect(trained.job).toEqual(job);
    expect(Buffer.from(trained.onnx).equals(Buffer.from(local.onnx))).toBe(true);
    expect(trained.metrics).toEqual(local.metrics);
    expect(trained.lineage).toEqual(local.lineage);
    expect(trained.featureStatistics).toEqual(local.featureStatistics);
  });

  it('asks SageMaker for the project image running train-job, with spot, VPC, KMS and network isolation as the XGBoost jobs do', () => {
    const [create] = emulator.controlPlane.requestsOf('CreateTrainingJob');
    const bucket = new URL(emulator.lake).host;
    const folder = `s3://${bucket}/training/jobs/train-lr-sagemaker`;
    expect(create.body).toMatchObject({
      TrainingJobName: 'train-lr-sagemaker',
      RoleArn: emulator.env.RETAIL_MLOPS_AWS_ROLE_ARN,
      AlgorithmSpecification: {
        TrainingImage: emulator.env.RETAIL_MLOPS_AWS_IMAGE,
        TrainingInputMode: 'File',
        ContainerEntrypoint: ['node', '/app/lib/bin/retail-mlops.js'],
        ContainerArguments: ['train-job', '--job', '/opt/ml/input/data/job/job.json', '--lake', '/opt/ml/input/data/lake', '--out', '/opt/ml/model'],
      },
      InputDataConfig: [
        { ChannelName: 'job', ContentType: 'application/json', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `${folder}/job/` } } },
        { ChannelName: 'lake', DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: `${folder}/lake.manifest` } } },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${bucket}/training/jobs/`, KmsKeyId: KMS_KEY },
      ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30, VolumeKmsKeyId: KMS_KEY },
      StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 },
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: `${folder}/checkpoints/`, LocalPath: '/opt/ml/checkpoints' },
      VpcConfig: { Subnets: ['subnet-0a1b2c3d4e5f60718'], SecurityGroupIds: ['sg-0123456789abcdef0'] },
      EnableNetworkIsolation: true,
      EnableInterContainerTrafficEncryption: true,
    });
    expect((create.body.Environment as Record<string, string>).RETAIL_MLOPS_COMMIT).toBe(trained.lineage.codeCommit);
    expect(create.body.HyperParameters).toBeUndefined();
  });

  it('ships exactly the files of the job\'s lake version: its gold files and the lake manifest, no later version, no predictions', async () => {
    const manifest = JSON.parse(Buffer.from(await storage.get('jobs/train-lr-sagemaker/lake.manifest')).toString('utf8')) as [{ prefix: string }, ...string[]];
    const bucket = new URL(emulator.lake).host;
    expect(manifest[0]).toEqual({ prefix: `s3://${bucket}/lake/` });
    const versionOne = (await Lake.open(lakeDirectory)).atVersion(1).manifest;
    expect(manifest.slice(1)).toEqual([LAKE_MANIFEST, ...versionOne.gold.map((entry) => entry.path)]);
    expect(manifest.slice(1).some((entry) => String(entry).startsWith('predictions/'))).toBe(false);
    const lakeVersionTwo = (await Lake.open(lakeDirectory)).manifest;
    expect(lakeVersionTwo.gold.length).toBeGreaterThan(versionOne.gold.length);
  });

  it('runs the CLI the way the project\'s image does (WORKDIR /app, ENTRYPOINT node lib/bin/retail-mlops.js)', () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    const workdir = /^WORKDIR (\S+)$/m.exec(runtime)?.[1];
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[];
    expect(PROJECT_IMAGE_ENTRYPOINT).toEqual([entrypoint[0], path.posix.join(workdir ?? '', entrypoint[1])]);
  });

  it('fails with TRAINING_JOB_FAILED and the container\'s own error when train-job fails', async () => {
    const backend = createSageMakerTrainingBackend(backendOptions());
    // a version the manifest has but a split with weeks the lake lacks: train-job exits 1 with its reason
    const error = await backend.train({ ...job, name: 'train-lr-bad-split', split: { trainWeeks: [199901], validationWeeks: [], testWeeks: [199902] } }).catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('TRAINING_JOB_FAILED');
    expect((error as Error).message).toMatch(/^SageMaker training job train-lr-bad-split ended Failed: /);
  });

  it('keeps polling a running job through throttling and 5xx answers (after the SDK\'s own retries), and the job completes', async () => {
    const before = emulator.controlPlane.requestsOf('DescribeTrainingJob').length;
    // 4 failures: the first poll's three attempts (the SDK retries with backoff), then one more
    emulator.controlPlane.failNext(4, { status: 503, code: 'ServiceUnavailable', message: 'please retry', operation: 'DescribeTrainingJob' });
    const model = await createSageMakerTrainingBackend(backendOptions()).train({ ...job, name: 'train-lr-bumpy-polls' });
    // the same job under another name: the same metrics (the name is in the model's metadata, so not the same bytes)
    expect(model.metrics).toEqual(trained.metrics);
    expect(emulator.controlPlane.requestsOf('DescribeTrainingJob').length - before).toBeGreaterThanOrEqual(6);
  });

  it('turns a denied request into one line naming the job and what the denial means', async () => {
    emulator.controlPlane.failNext(1, { status: 400, code: 'AccessDeniedException', message: 'User is not authorized to perform: sagemaker:CreateTrainingJob', operation: 'CreateTrainingJob' });
    const error = await createSageMakerTrainingBackend(backendOptions()).train({ ...job, name: 'train-lr-denied' }).catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('SAGEMAKER_REQUEST_FAILED');
    expect((error as Error).message).toBe(
      'SageMaker CreateTrainingJob (train-lr-denied) failed: AccessDeniedException: User is not authorized to perform: sagemaker:CreateTrainingJob ' +
        '(denied: check the credentials in use and their IAM permissions on this resource)',
    );
  });

  it('refuses what it cannot run before calling SageMaker, listing every problem', async () => {
    const before = emulator.controlPlane.requests.length;
    const backend = createSageMakerTrainingBackend(backendOptions());
    const error = await backend
      .train({ ...job, name: 'bad name', featureSpec: { version: '0', hash: 'other' }, dataset: { uri: lakeDirectory, version: 1 } })
      .catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('INVALID_OPTIONS');
    expect((error as { problems?: string[] }).problems).toHaveLength(3);
    const missing = await backend.train({ ...job, name: 'train-lr-v9', dataset: { uri: emulator.lake, version: 9 } }).catch((caught: unknown) => caught);
    expect((missing as Error).message).toContain('has versions 1…2, not 9');
    expect(emulator.controlPlane.requests.length).toBe(before);
    const withoutImage = await createSageMakerTrainingBackend(backendOptions({ projectImage: undefined })).train(job).catch((caught: unknown) => caught);
    expect((withoutImage as Error).message).toContain("algorithm 'lr' is not one of sagemaker-xgboost (give projectImage to run the project's own trainers)");
  });
});
