/**
 * The Azure ML training backend end to end on this machine: the lake is pushed to azurite, the
 * backend creates a real command job through the real SDK client against the fake control plane,
 * and the fake "runs" it the way Azure ML would: it downloads the job's inputs from azurite, runs
 * the job's command (the real `retail-mlops train-job`, through tsx) and uploads the output folder.
 */
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeControlPlane, staticTokenCredential, type FakeControlPlane, type FakeJob, type JsonObject } from './fake-control-plane';
import { FEATURE_SPEC } from '../../../core/features/spec';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { pushLake } from '../../../core/lake/lake-sync';
import type { ObjectStorage } from '../../../core/storage/port';
import { trainInProcess } from '../../../core/training/in-process';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION, type TrainingBackend, type TrainingJob } from '../../../core/training/port';
import { createBlobObjectStorage } from '../../../providers/azure/blob-object-storage';
import { IMAGE_CLI, TRAIN_JOB_ARGUMENTS } from '../../../providers/azure/command-job';
import { azuriteCredential, startAzurite, type RunningAzurite } from '../../../providers/azure/emulator/azurite';
import { createAzureMlTrainingBackend, ensureAmlCompute, environmentVersionOf } from '../../../providers/azure/training-backend';
import { REPO_ROOT, SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

const run = promisify(execFile);
const SUBSCRIPTION = '00000000-0000-0000-0000-00000000cccc';
const IMAGE = 'retailmlops.azurecr.io/retail-mlops:0.1.0';
const WORKSPACE_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-retail-mlops/providers/Microsoft.MachineLearningServices/workspaces/mlw-retail-mlops`;

let azurite: RunningAzurite;
let controlPlane: FakeControlPlane;
let lakeStorage: ObjectStorage;
let datastore: ObjectStorage;
let backend: TrainingBackend;
let lakeDirectory: string;
let weeks: number[];
const scratch = temporaryDirectory('azureml-training-');

/** What Azure ML does with a command job, against azurite: download inputs, run the command, upload the output. */
async function runLikeAzureMl(job: FakeJob): Promise<'Completed' | 'Failed' | 'Canceled'> {
  const properties = job.properties;
  const inputs = properties.inputs as Record<string, JsonObject>;
  const outputs = properties.outputs as Record<string, JsonObject>;
  const work = path.join(scratch.path, 'azureml', job.name);
  const pathOf = (uri: unknown): string => {
    const match = /^azureml:\/\/datastores\/lake\/paths\/(.+)$/.exec(String(uri));
    if (!match) throw new Error(`unsupported uri ${String(uri)}`);
    return match[1];
  };
  const substitutions: Record<string, string> = {};
  for (const [name, input] of Object.entries(inputs)) {
    const local = path.join(work, 'inputs', name);
    if (input.jobInputType === 'uri_folder') {
      const prefix = pathOf(input.uri);
      for (const object of await datastore.list(prefix)) await datastore.download(object.key, path.join(local, object.key.slice(prefix.length)));
      substitutions[`\${{inputs.${name}}}`] = local;
    } else if (input.jobInputType === 'uri_file') {
      const key = pathOf(input.uri);
      await datastore.download(key, path.join(local, path.basename(key)));
      substitutions[`\${{inputs.${name}}}`] = path.join(local, path.basename(key));
    }
  }
  const outputDirectory = path.join(work, 'outputs', 'model');
  await fs.mkdir(outputDirectory, { recursive: true });
  substitutions['${{outputs.model}}'] = outputDirectory;
  // the image's CLI (IMAGE_CLI) is this checkout's CLI run from source
  const command = String(properties.command);
  expect(command.startsWith(`${IMAGE_CLI} `)).toBe(true);
  const args = command.slice(IMAGE_CLI.length + 1).split(' ').map((word) => substitutions[word] ?? word);
  try {
    await run(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), [path.join(REPO_ROOT, 'bin/retail-mlops.ts'), ...args], {
      env: { ...process.env, ...(properties.environmentVariables as Record<string, string>) },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    return 'Failed';
  }
  const outputPrefix = pathOf(outputs.model.uri);
  for (const file of await fs.readdir(outputDirectory)) await datastore.upload(`${outputPrefix}${file}`, path.join(outputDirectory, file));
  return 'Completed';
}

function trainingJob(name: string, overrides: Partial<TrainingJob> = {}): TrainingJob {
  return {
    specificationVersion: TRAINING_SPECIFICATION_VERSION,
    name,
    dataset: { uri: `${azurite.accountUrl}/lake/lakes/team-a`, version: 1 },
    split: defaultTimeSplit(weeks),
    featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
    algorithm: 'lr',
    hyperparameters: { maxIterations: 60 },
    seed: 7,
    ...overrides,
  };
}

beforeAll(async () => {
  [azurite, controlPlane] = await Promise.all([startAzurite(), startFakeControlPlane()]);
  const credential = await azuriteCredential();
  lakeDirectory = path.join(scratch.path, 'lake');
  await ingest({ inputs: SAMPLE_FILES.slice(0, 3), lake: lakeDirectory });
  const lake = await Lake.open(lakeDirectory);
  weeks = lake.weeks();
  datastore = await createBlobObjectStorage({ accountUrl: azurite.accountUrl, container: 'lake', credential, createContainer: true });
  lakeStorage = await createBlobObjectStorage({ accountUrl: azurite.accountUrl, container: 'lake', prefix: 'lakes/team-a', credential });
  await pushLake(lake, lakeStorage);
  backend = await createAzureMlTrainingBackend({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: 'rg-retail-mlops',
    workspace: 'mlw-retail-mlops',
    image: IMAGE,
    datastoreLocation: `${azurite.accountUrl}/lake`,
    pollIntervalMs: 50,
    credential: staticTokenCredential,
    storageCredential: credential,
    managementEndpoint: controlPlane.endpoint,
    trustedCertificates: controlPlane.certificate,
  });
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), controlPlane?.close()]);
  scratch.remove();
});

describe('Azure ML training backend', () => {
  it('trains through a command job that runs retail-mlops train-job, giving the same model as training locally', async () => {
    controlPlane.runJob = runLikeAzureMl;
    const job = trainingJob('train-lr-e2e');
    const before = controlPlane.requests.length;
    const trained = await backend.train(job);
    expect(trained.engine).toBe('azureml');
    expect(trained.job).toEqual(job);
    expect(trained.classes).toEqual(['LA', 'MM', 'UM']);

    const local = await trainInProcess({ ...job, dataset: { uri: lakeDirectory, version: 1 } });
    expect(Buffer.from(trained.onnx).equals(Buffer.from(local.onnx))).toBe(true);
    expect(trained.metrics).toEqual(local.metrics);
    expect(trained.lineage).toEqual(local.lineage);
    expect(trained.featureStatistics).toEqual(local.featureStatistics);

    const calls = controlPlane.requests.slice(before);
    const environmentPut = calls.find((call) => call.method === 'PUT' && call.path.includes('/environments/'));
    expect(environmentPut?.path).toBe(`${WORKSPACE_ID}/environments/retail-mlops/versions/${environmentVersionOf(IMAGE)}`);
    expect(JSON.parse(environmentPut!.body)).toEqual({
      properties: {
        description: 'The retail-mlops container image (the API image; `retail-mlops train-job` trains in it)',
        image: IMAGE,
        osType: 'Linux',
        tags: { 'retail-mlops.image': IMAGE },
      },
    });
    const jobPut = calls.find((call) => call.method === 'PUT' && call.path.endsWith('/jobs/train-lr-e2e'));
    expect(JSON.parse(jobPut!.body)).toEqual({
      properties: {
        jobType: 'Command',
        displayName: 'train-lr-e2e',
        description: 'retail-mlops training job train-lr-e2e: lr on lake version 1',
        experimentName: 'retail-mlops',
        command: `node /app/lib/bin/retail-mlops.js ${TRAIN_JOB_ARGUMENTS}`,
        environmentId: `${WORKSPACE_ID}/environments/retail-mlops/versions/${environmentVersionOf(IMAGE)}`,
        computeId: `${WORKSPACE_ID}/computes/cpu-cluster`,
        environmentVariables: { RETAIL_MLOPS_COMMIT: local.lineage.codeCommit },
        inputs: {
          lake: { jobInputType: 'uri_folder', mode: 'Download', uri: 'azureml://datastores/lake/paths/lakes/team-a/', description: 'lake version 1' },
          job: { jobInputType: 'uri_file', mode: 'Download', uri: 'azureml://datastores/lake/paths/training-jobs/train-lr-e2e/job.json', description: 'the TrainingJob document' },
        },
        outputs: {
          model: { jobOutputType: 'uri_folder', mode: 'Upload', uri: 'azureml://datastores/lake/paths/training-jobs/train-lr-e2e/output/', description: 'model.onnx and trained-model.json' },
        },
        limits: { jobLimitsType: 'Command', timeout: 'PT2H' },
        resources: { instanceCount: 1 },
        tags: {
          'retail-mlops.job': 'train-lr-e2e',
          'retail-mlops.algorithm': 'lr',
          'retail-mlops.lake-version': '1',
          'retail-mlops.feature-spec': `${FEATURE_SPEC.version}:${FEATURE_SPEC.hash.slice(0, 12)}`,
          'retail-mlops.seed': '7',
        },
        properties: { 'retail-mlops.dataset': job.dataset.uri, 'retail-mlops.specification-version': 'v1' },
      },
    });
    expect(calls.filter((call) => call.method === 'GET' && call.path.endsWith('/jobs/train-lr-e2e')).length).toBeGreaterThanOrEqual(1);
    expect((await datastore.list('training-jobs/train-lr-e2e/')).map((object) => object.key)).toEqual([
      'training-jobs/train-lr-e2e/job.json',
      'training-jobs/train-lr-e2e/output/model.onnx',
      'training-jobs/train-lr-e2e/output/trained-model.json',
    ]);
  });

  it('waits for a job submitted before under the same name instead of failing, and refuses to reuse a name for another job', async () => {
    const job = trainingJob('train-lr-e2e');
    const before = controlPlane.requests.length;
    const again = await backend.train(job);
    const calls = controlPlane.requests.slice(before);
    expect(calls.filter((call) => call.method === 'PUT')).toEqual([]);
    expect(again.engine).toBe('azureml');
    expect(again.metrics.accuracy).toBeGreaterThan(0);
    const error = await backend.train({ ...job, seed: 8 }).catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('INVALID_OPTIONS');
    expect((error as Error).message).toMatch(/exists for another training job/);
  });

  it('runs the CLI the way the project\'s image does (WORKDIR /app, ENTRYPOINT node lib/bin/retail-mlops.js)', () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    const workdir = /^WORKDIR (\S+)$/m.exec(runtime)?.[1];
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[];
    expect(IMAGE_CLI).toBe(`${entrypoint[0]} ${path.posix.join(workdir ?? '', entrypoint[1])}`);
  });

  it('fails with AZUREML_JOB_FAILED when the job fails', async () => {
    controlPlane.runJob = async () => 'Failed';
    const error = await backend.train(trainingJob('train-lr-fails')).catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('AZUREML_JOB_FAILED');
    expect((error as Error).message).toMatch(/ended Failed/);
  });

  it('keeps polling a running job through throttling and 5xx answers (after the SDK\'s own retries), and the job completes', async () => {
    const polls = (): number => controlPlane.requests.filter((call) => call.method === 'GET' && call.path.endsWith('/jobs/train-lr-bumpy-polls')).length;
    controlPlane.runJob = async (job) => {
      // once the job runs: 4 failures, the first poll's attempts (the SDK retries, honouring Retry-After) and then some
      controlPlane.failNext(4, { status: 503, code: 'ServiceUnavailable', operation: 'GET jobs', retryAfterSeconds: 0 });
      return runLikeAzureMl(job);
    };
    const trained = await backend.train(trainingJob('train-lr-bumpy-polls'));
    expect(trained.engine).toBe('azureml');
    expect(polls()).toBeGreaterThanOrEqual(6);
  });

  it('turns a denied request into one line naming the job and what the denial means', async () => {
    controlPlane.failNext(1, { status: 403, code: 'AuthorizationFailed', message: "The client does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/jobs/write'", operation: 'PUT jobs' });
    const error = await backend.train(trainingJob('train-lr-denied')).catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('AZURE_REQUEST_FAILED');
    expect((error as Error).message).toBe(
      "create Azure ML job 'train-lr-denied' failed (403 AuthorizationFailed): The client does not have authorization to perform action " +
        "'Microsoft.MachineLearningServices/workspaces/jobs/write' (denied: check the identity in use and its role assignments on this resource)",
    );
  });

  it('cancels the job when the signal aborts', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    controlPlane.runJob = async (job) => {
      started();
      while (!job.cancelRequested) await new Promise((resolve) => setTimeout(resolve, 10));
      return 'Canceled';
    };
    const controller = new AbortController();
    const training = backend.train(trainingJob('train-lr-cancelled'), { signal: controller.signal });
    await running;
    controller.abort(new Error('stopped by the user'));
    await expect(training).rejects.toThrow('stopped by the user');
    expect(controlPlane.requests.some((call) => call.method === 'POST' && call.path.endsWith('/jobs/train-lr-cancelled/cancel'))).toBe(true);
    expect(controlPlane.jobs.get('train-lr-cancelled')?.status).toBe('Canceled');
  });

  it('refuses jobs it cannot run, listing every problem, before calling Azure', async () => {
    const before = controlPlane.requests.length;
    const error = await backend
      .train(trainingJob('bad name!', { algorithm: 'xgboost', featureSpec: { version: '0', hash: 'other' }, dataset: { uri: 'https://elsewhere.blob.core.windows.net/lake/x', version: 1 } }))
      .catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('INVALID_OPTIONS');
    expect((error as { problems?: string[] }).problems).toHaveLength(4);
    expect(controlPlane.requests.length).toBe(before);
  });

  it('creates the training cluster with low-priority nodes scaling to zero', async () => {
    await ensureAmlCompute({
      subscriptionId: SUBSCRIPTION,
      resourceGroup: 'rg-retail-mlops',
      workspace: 'mlw-retail-mlops',
      location: 'westeurope',
      credential: staticTokenCredential,
      managementEndpoint: controlPlane.endpoint,
      trustedCertificates: controlPlane.certificate,
    });
    const put = controlPlane.requests.filter((call) => call.method === 'PUT' && call.path.endsWith('/computes/cpu-cluster')).at(-1);
    expect(JSON.parse(put!.body)).toEqual({
      location: 'westeurope',
      properties: {
        computeType: 'AmlCompute',
        description: 'retail-mlops training: low-priority nodes, scales to zero',
        disableLocalAuth: true,
        properties: {
          osType: 'Linux',
          vmSize: 'Standard_D4s_v3',
          vmPriority: 'LowPriority',
          scaleSettings: { minNodeCount: 0, maxNodeCount: 4, nodeIdleTimeBeforeScaleDown: 'PT5M' },
          remoteLoginPortPublicAccess: 'Disabled',
          enableNodePublicIp: false,
        },
      },
    });
  });
});
