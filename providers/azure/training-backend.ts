/**
 * The training contract on Azure ML: each TrainingJob becomes a command job that runs this
 * project's own trainer (`retail-mlops train-job`, core/training/in-process.ts) inside the project's
 * container on an AmlCompute cluster (low-priority nodes, scaling to zero), so the result is the
 * same ONNX form as a local run. The backend
 *
 * 1. registers the container image as an Azure ML environment version (idempotent),
 * 2. writes the job document beside the lake, in the datastore's container,
 * 3. creates the job (`jobs.createOrUpdate`; inputs: the lake as `uri_folder`, the job as `uri_file`;
 *    output: a `uri_folder` at a known path),
 * 4. polls `jobs.get` until Completed, Failed or Canceled (an AbortSignal cancels the job),
 * 5. reads `model.onnx` and `trained-model.json` from the output folder.
 */
import { createHash } from 'node:crypto';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning' with { 'resolution-mode': 'import' };
import type { TokenCredential } from '@azure/identity' with { 'resolution-mode': 'import' };
import type { StorageSharedKeyCredential } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { CONTAINER_NAME_PATTERN, formatBlobLocation, normalizePrefix, parseBlobLocation } from './blob-location';
import { createBlobObjectStorage } from './blob-object-storage';
import { buildCommandJob, IMAGE_CLI } from './command-job';
import { createDefaultCredential, isTokenCredential } from './credential';
import { azureFailure, AzureMlJobError, AzureMlJobOutputError, hasStatus, isTransientAzureFailure } from './errors';
import type { JobAssetRepair } from './job-asset-repair';
import { createManagementClient, managementEndpointProblems, workspaceResourceId } from './management-client';
import { InvalidOptionsError, ProblemCollector } from '../../core/errors';
import { FEATURE_SPEC } from '../../core/features/spec';
import { silentProgress } from '../../core/progress';
import { ObjectNotFoundError } from '../../core/storage/errors';
import type { ObjectStorage } from '../../core/storage/port';
import { codeCommit } from '../../core/training/in-process';
import { TRAINING_SPECIFICATION_VERSION, type TrainedModel, type TrainingBackend, type TrainingJob, type TrainingRunOptions } from '../../core/training/port';
import { fromTrainedModelDocument, ONNX_MODEL_FILE, TRAINED_MODEL_FILE, type TrainedModelDocument } from '../../core/training/trained-model-files';
import { IN_PROCESS_TRAINERS } from '../../core/training/trainers';
import { pollDelayMs } from '../job-polling';

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Azure ML job names: a letter or digit first, then letters, digits, '-' and '_'; at most 255. */
const JOB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const IMAGE_PATTERN = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/;
/** Polls of a running job that may fail in a row (throttling, 5xx, no answer) before training gives up. */
const MAX_FAILED_POLLS = 5;
/** The states after which a job never changes again (NotResponding is not one: a job may recover from it). */
const TERMINAL_STATES = new Set(['Completed', 'Failed', 'Canceled']);

export interface AzureMlTrainingBackendOptions {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** The Azure ML workspace. */
  readonly workspace: string;
  /**
   * The AmlCompute cluster jobs run on (created by the infrastructure template; see `ensureAmlCompute`).
   * @default 'cpu-cluster'
   */
  readonly computeName?: string;
  /** The project's container image in ACR, e.g. `retailmlops.azurecr.io/retail-mlops:1a2b3c4d5e6f`. */
  readonly image: string;
  /**
   * The Azure ML environment the image is registered as (its version is derived from the image reference).
   * @default 'retail-mlops'
   */
  readonly environmentName?: string;
  /**
   * The workspace datastore whose container holds the lakes; the jobs' files go to the same container.
   * @default 'lake'
   */
  readonly datastore?: string;
  /** The container that datastore points at: `https://<account>.blob.core.windows.net/<container>`. */
  readonly datastoreLocation: string;
  /**
   * Where job documents and outputs go inside that container.
   * @default 'training-jobs'
   */
  readonly jobsPrefix?: string;
  /** @default 'retail-mlops' */
  readonly experimentName?: string;
  /**
   * How the image runs the project's CLI (the job's command is `<cli> train-job …`).
   * @default 'node /app/lib/bin/retail-mlops.js' (the project's Dockerfile)
   */
  readonly cli?: string;
  /**
   * Azure ML stops a job that runs longer (ISO 8601 duration).
   * @default 'PT2H'
   */
  readonly jobTimeout?: string;
  /**
   * How often the job's status is read once it has run a while (the first reads come after 1 s, 2 s, 4 s, …).
   * @default 15_000
   */
  readonly pollIntervalMs?: number;
  /** @default - DefaultAzureCredential (workload identity on AKS, the service connection in Azure Pipelines) */
  readonly credential?: TokenCredential;
  /** @default - `credential` */
  readonly storageCredential?: TokenCredential | StorageSharedKeyCredential;
  /** @default 'https://management.azure.com' */
  readonly managementEndpoint?: string;
  /** PEM certificates trusted besides the system's for the management endpoint. @default - the system's */
  readonly trustedCertificates?: string;
}

function validate(options: AzureMlTrainingBackendOptions): void {
  const problems = new ProblemCollector('Azure ML training backend options');
  problems.check(typeof options?.subscriptionId === 'string' && GUID_PATTERN.test(options.subscriptionId), `subscriptionId must be a GUID, got ${JSON.stringify(options?.subscriptionId)}`);
  problems.check(typeof options?.resourceGroup === 'string' && /^[-\w.()]{1,89}[-\w()]$/.test(options.resourceGroup), `resourceGroup ${JSON.stringify(options?.resourceGroup)} is not a resource group name`);
  problems.check(typeof options?.workspace === 'string' && /^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$/.test(options.workspace), `workspace ${JSON.stringify(options?.workspace)} is not a workspace name`);
  const computeName = options?.computeName ?? 'cpu-cluster';
  problems.check(typeof computeName === 'string' && /^[A-Za-z][A-Za-z0-9-]{1,23}$/.test(computeName), `computeName ${JSON.stringify(computeName)} must be 2–24 letters, digits and '-', starting with a letter`);
  problems.check(typeof options?.image === 'string' && IMAGE_PATTERN.test(options.image) && !/:latest$/.test(options.image), `image ${JSON.stringify(options?.image)} must be a pinned registry/repository:tag (or @sha256:…) reference`);
  const environmentName = options?.environmentName ?? 'retail-mlops';
  problems.check(typeof environmentName === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(environmentName), `environmentName ${JSON.stringify(environmentName)} is not an Azure ML asset name`);
  const datastore = options?.datastore ?? 'lake';
  problems.check(typeof datastore === 'string' && /^[a-z0-9_]{1,255}$/i.test(datastore), `datastore ${JSON.stringify(datastore)} must hold only letters, digits and '_'`);
  try {
    const location = parseBlobLocation(String(options?.datastoreLocation));
    problems.check(location.prefix === '' && CONTAINER_NAME_PATTERN.test(location.container), `datastoreLocation must name a container without a prefix, got '${options.datastoreLocation}'`);
  } catch (error) {
    if (!(error instanceof InvalidOptionsError)) throw error;
    for (const problem of error.problems) problems.check(false, `datastoreLocation: ${problem}`);
  }
  const jobsPrefix = normalizePrefix(options?.jobsPrefix ?? 'training-jobs');
  problems.check(jobsPrefix.length > 0 && !jobsPrefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'), `jobsPrefix '${options?.jobsPrefix}' must be a relative path`);
  problems.check(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(options?.experimentName ?? 'retail-mlops'), `experimentName ${JSON.stringify(options?.experimentName)} is not an experiment name`);
  problems.check(/^P(T(\d+H)?(\d+M)?(\d+S)?)$/.test(options?.jobTimeout ?? 'PT2H') && (options?.jobTimeout ?? 'PT2H') !== 'PT', `jobTimeout ${JSON.stringify(options?.jobTimeout)} must be an ISO 8601 duration such as PT2H`);
  const cli = options?.cli ?? IMAGE_CLI;
  problems.check(typeof cli === 'string' && /^[\w./@:-]+( [\w./@:-]+)*$/.test(cli), `cli ${JSON.stringify(cli)} must be a command (words of letters, digits and . / @ : - _)`);
  const pollIntervalMs = options?.pollIntervalMs ?? 15_000;
  problems.check(Number.isInteger(pollIntervalMs) && pollIntervalMs >= 1, `pollIntervalMs must be a positive integer, got ${pollIntervalMs}`);
  problems.check(options?.credential === undefined || isTokenCredential(options.credential), 'credential must be a TokenCredential');
  for (const problem of managementEndpointProblems(options?.managementEndpoint, options?.trustedCertificates)) problems.check(false, problem);
  problems.throwIfAny();
}

/** The environment version of an image reference: stable for the same image, new for another (Azure ML versions are immutable). */
export function environmentVersionOf(image: string): string {
  return createHash('sha256').update(image).digest('hex').slice(0, 12);
}

/**
 * Creates the backend: validates every option, then loads the SDKs.
 * @throws InvalidOptionsError listing every problem of the options
 */
export async function createAzureMlTrainingBackend(options: AzureMlTrainingBackendOptions): Promise<TrainingBackend> {
  validate(options);
  const credential = options.credential ?? (await createDefaultCredential());
  const location = parseBlobLocation(options.datastoreLocation);
  const storage = await createBlobObjectStorage({
    accountUrl: location.accountUrl,
    container: location.container,
    credential: options.storageCredential ?? credential,
  });
  const { client, jobAssetRepair } = await createManagementClient({
    subscriptionId: options.subscriptionId,
    credential,
    endpoint: options.managementEndpoint,
    trustedCertificates: options.trustedCertificates,
  });
  return new AzureMlTrainingBackend(options, client, jobAssetRepair, storage, formatBlobLocation(location));
}

const sleep = (milliseconds: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, milliseconds);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

class AzureMlTrainingBackend implements TrainingBackend {
  readonly specificationVersion = TRAINING_SPECIFICATION_VERSION;
  readonly provider = 'azure';
  readonly algorithms = Object.keys(IN_PROCESS_TRAINERS);
  private readonly workspaceId: string;

  constructor(
    private readonly options: AzureMlTrainingBackendOptions,
    private readonly client: AzureMachineLearningWorkspaces,
    private readonly repair: JobAssetRepair,
    private readonly storage: ObjectStorage,
    private readonly datastoreUrl: string,
  ) {
    this.workspaceId = workspaceResourceId(options.subscriptionId, options.resourceGroup, options.workspace);
  }

  async train(job: TrainingJob, runOptions: TrainingRunOptions = {}): Promise<TrainedModel> {
    const lakePath = this.checkJob(job);
    const progress = runOptions.progress ?? silentProgress;
    const signal = runOptions.signal;
    signal?.throwIfAborted();
    const { resourceGroup, workspace } = this.options;
    const jobsPrefix = normalizePrefix(this.options.jobsPrefix ?? 'training-jobs');
    const folder = `${jobsPrefix}/${job.name}`;
    const jobDocument = `${JSON.stringify(job, null, 2)}\n`;
    if (await this.attachToExisting(job, `${folder}/job.json`, jobDocument)) {
      progress.start(`Azure ML job ${job.name} (submitted before)`);
    } else {
      await this.submit(job, lakePath, folder, jobDocument);
      progress.start(`Azure ML job ${job.name}`);
    }
    let status = 'Queued';
    let cancelled = false;
    let failedPolls = 0;
    let polls = 0;
    try {
      for (;;) {
        if (signal?.aborted && !cancelled) {
          cancelled = true;
          await this.cancel(job.name);
        }
        try {
          status = (await this.client.jobs.get(resourceGroup, workspace, job.name)).properties.status ?? 'Unknown';
          failedPolls = 0;
        } catch (error) {
          // the job runs on whatever the poll meets: a throttled or failing poll (after the SDK's own retries) is tried again next interval
          failedPolls += 1;
          if (!isTransientAzureFailure(error) || failedPolls > MAX_FAILED_POLLS) throw azureFailure(`get Azure ML job '${job.name}'`, error);
          await sleep((this.options.pollIntervalMs ?? 15_000) * failedPolls, cancelled ? undefined : signal);
          continue;
        }
        if (TERMINAL_STATES.has(status)) break;
        await sleep(pollDelayMs(polls++, this.options.pollIntervalMs ?? 15_000), cancelled ? undefined : signal);
      }
    } finally {
      progress.stop();
    }
    if (cancelled) signal?.throwIfAborted();
    if (status !== 'Completed') throw new AzureMlJobError(job.name, status, `see the job in Azure ML studio (experiment ${this.options.experimentName ?? 'retail-mlops'})`);
    return this.readOutput(job, `${folder}/output`);
  }

  /**
   * True when a job of this name was submitted before with the same TrainingJob (a resubmission after
   * the submitting process died): the caller then waits for it instead of failing. A job of the same
   * name holding another TrainingJob is refused.
   */
  private async attachToExisting(job: TrainingJob, documentKey: string, jobDocument: string): Promise<boolean> {
    try {
      await this.client.jobs.get(this.options.resourceGroup, this.options.workspace, job.name);
    } catch (error) {
      if (hasStatus(error, 404)) return false;
      throw azureFailure(`get Azure ML job '${job.name}'`, error);
    }
    const stored = await this.storage.get(documentKey).then(
      (bytes) => Buffer.from(bytes).toString('utf8'),
      (error: unknown) => {
        if (error instanceof ObjectNotFoundError) return undefined;
        throw error;
      },
    );
    if (stored !== jobDocument) {
      throw new InvalidOptionsError('training job', [`an Azure ML job named '${job.name}' exists for another training job: give this one a new name`]);
    }
    return true;
  }

  private async submit(job: TrainingJob, lakePath: string, folder: string, jobDocument: string): Promise<void> {
    const { resourceGroup, workspace } = this.options;
    const environmentName = this.options.environmentName ?? 'retail-mlops';
    const environmentVersion = environmentVersionOf(this.options.image);
    await this.ensureEnvironment(environmentName, environmentVersion);
    await this.storage.put(`${folder}/job.json`, Buffer.from(jobDocument), { contentType: 'application/json' });
    const { body, assets } = buildCommandJob(
      {
        workspaceId: this.workspaceId,
        computeName: this.options.computeName ?? 'cpu-cluster',
        environmentName,
        environmentVersion,
        datastore: this.options.datastore ?? 'lake',
        experimentName: this.options.experimentName ?? 'retail-mlops',
        timeout: this.options.jobTimeout ?? 'PT2H',
        environmentVariables: { RETAIL_MLOPS_COMMIT: codeCommit() },
        cli: this.options.cli ?? IMAGE_CLI,
      },
      job,
      { lake: lakePath, jobDocument: `${folder}/job.json`, output: `${folder}/output` },
    );
    const jobUrl = `https://management.azure.com${this.workspaceId}/jobs/${job.name}`;
    try {
      await this.repair.repairedCreate(jobUrl, assets, () => this.client.jobs.createOrUpdate(resourceGroup, workspace, job.name, body));
    } catch (error) {
      throw azureFailure(`create Azure ML job '${job.name}'`, error);
    }
  }

  /** The lake's folder in the datastore; refuses a job this backend cannot run (every problem at once). */
  private checkJob(job: TrainingJob): string {
    const problems: string[] = [];
    if (job?.specificationVersion !== TRAINING_SPECIFICATION_VERSION) problems.push(`specificationVersion must be ${TRAINING_SPECIFICATION_VERSION}`);
    if (typeof job?.name !== 'string' || !JOB_NAME_PATTERN.test(job.name)) problems.push(`name ${JSON.stringify(job?.name)} is not an Azure ML job name (letters, digits, '-', '_')`);
    if (!this.algorithms.includes(job?.algorithm)) problems.push(`algorithm '${job?.algorithm}' is not one of ${this.algorithms.join(', ')}`);
    if (job?.featureSpec?.hash !== FEATURE_SPEC.hash) problems.push(`feature spec ${job?.featureSpec?.version} (${job?.featureSpec?.hash}) is not the image's ${FEATURE_SPEC.version} (${FEATURE_SPEC.hash})`);
    const uri = String(job?.dataset?.uri ?? '').replace(/\/+$/, '');
    // the lake is the datastore's container (as the infrastructure template creates it) or a folder of it
    const lakePath = uri.startsWith(`${this.datastoreUrl}/`) ? normalizePrefix(uri.slice(this.datastoreUrl.length + 1)) : '';
    if (uri !== this.datastoreUrl && lakePath === '') problems.push(`dataset.uri '${job?.dataset?.uri}' must be the datastore's container ${this.datastoreUrl} or a folder of it`);
    if (problems.length > 0) throw new InvalidOptionsError('training job', problems);
    return lakePath;
  }

  private async ensureEnvironment(name: string, version: string): Promise<void> {
    try {
      await this.client.environmentVersions.createOrUpdate(this.options.resourceGroup, this.options.workspace, name, version, {
        properties: {
          description: 'The retail-mlops container image (the API image; `retail-mlops train-job` trains in it)',
          image: this.options.image,
          osType: 'Linux',
          tags: { 'retail-mlops.image': this.options.image },
        },
      });
    } catch (error) {
      throw azureFailure(`register environment ${name}:${version} (${this.options.image})`, error);
    }
  }

  private async cancel(jobName: string): Promise<void> {
    try {
      const { resourceGroup, workspace, pollIntervalMs } = this.options;
      await this.client.jobs.beginCancelAndWait(resourceGroup, workspace, jobName, { updateIntervalInMs: pollIntervalMs });
    } catch (error) {
      throw azureFailure(`cancel Azure ML job '${jobName}'`, error);
    }
  }

  private async readOutput(job: TrainingJob, folder: string): Promise<TrainedModel> {
    let document: TrainedModelDocument;
    let onnx: Uint8Array;
    try {
      document = JSON.parse(Buffer.from(await this.storage.get(`${folder}/${TRAINED_MODEL_FILE}`)).toString('utf8')) as TrainedModelDocument;
      onnx = await this.storage.get(`${folder}/${ONNX_MODEL_FILE}`);
    } catch (error) {
      throw new AzureMlJobOutputError(job.name, `cannot read ${TRAINED_MODEL_FILE} and ${ONNX_MODEL_FILE} from ${this.datastoreUrl}/${folder}`, { cause: error });
    }
    try {
      return { ...fromTrainedModelDocument(document, onnx), job, engine: 'azureml' };
    } catch (error) {
      throw new AzureMlJobOutputError(job.name, `the output in ${this.datastoreUrl}/${folder} is inconsistent: ${(error as Error).message}`, { cause: error });
    }
  }
}

export interface AmlComputeOptions {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  /** The workspace's region, e.g. `westeurope`. */
  readonly location: string;
  /** @default 'cpu-cluster' */
  readonly computeName?: string;
  /** @default 'Standard_D4s_v3' */
  readonly vmSize?: string;
  /** @default 4 */
  readonly maxNodes?: number;
  /** @default - DefaultAzureCredential */
  readonly credential?: TokenCredential;
  /** @default 'https://management.azure.com' */
  readonly managementEndpoint?: string;
  /** @default - the system's */
  readonly trustedCertificates?: string;
}

/**
 * Creates or updates the training cluster: low-priority nodes, zero at rest (scale-down after five
 * idle minutes), no public SSH. The infrastructure template creates the same cluster; this is for
 * workspaces made by hand.
 */
export async function ensureAmlCompute(options: AmlComputeOptions): Promise<void> {
  const problems = new ProblemCollector('AmlCompute options');
  const maxNodes = options?.maxNodes ?? 4;
  problems.check(typeof options?.location === 'string' && /^[a-z0-9]+$/.test(options.location), `location ${JSON.stringify(options?.location)} must be a region name such as westeurope`);
  problems.check(Number.isInteger(maxNodes) && maxNodes >= 1 && maxNodes <= 100, `maxNodes must be an integer in 1…100, got ${maxNodes}`);
  for (const problem of managementEndpointProblems(options?.managementEndpoint, options?.trustedCertificates)) problems.check(false, problem);
  problems.throwIfAny();
  const credential = options.credential ?? (await createDefaultCredential());
  const { client } = await createManagementClient({
    subscriptionId: options.subscriptionId,
    credential,
    endpoint: options.managementEndpoint,
    trustedCertificates: options.trustedCertificates,
  });
  const computeName = options.computeName ?? 'cpu-cluster';
  try {
    await client.computeOperations.beginCreateOrUpdateAndWait(options.resourceGroup, options.workspace, computeName, {
      location: options.location,
      properties: {
        computeType: 'AmlCompute',
        description: 'retail-mlops training: low-priority nodes, scales to zero',
        disableLocalAuth: true,
        properties: {
          osType: 'Linux',
          vmSize: options.vmSize ?? 'Standard_D4s_v3',
          vmPriority: 'LowPriority',
          scaleSettings: { minNodeCount: 0, maxNodeCount: maxNodes, nodeIdleTimeBeforeScaleDown: 'PT5M' },
          remoteLoginPortPublicAccess: 'Disabled',
          enableNodePublicIp: false,
        },
      },
    }, { updateIntervalInMs: 1000 });
  } catch (error) {
    throw azureFailure(`create compute '${computeName}'`, error);
  }
}
