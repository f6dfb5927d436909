/**
 * The AWS control planes the aws provider calls, on loopback: SageMaker (training jobs, the model
 * registry) and the Glue Data Catalog. Both speak awsJson1_1 (`POST /` with
 * `X-Amz-Target: <Service>.<Action>` and a JSON body), so one HTTP server answers both; the real
 * @aws-sdk clients reach it through `AWS_ENDPOINT_URL_SAGEMAKER` / `AWS_ENDPOINT_URL_GLUE` (or an
 * `endpoint` option) with any static credentials.
 *
 * Requests and answers are checked against the SDKs' own service models (service-shapes.ts): a
 * request with an unknown member, a missing required member or a wrong type gets the 400
 * `ValidationException` / `SerializationException` SageMaker would send; an answer of ours that
 * breaks the model is a 500, so the emulator cannot drift into agreeing with our code.
 *
 * Implemented, with the behaviour the provider relies on:
 * - training jobs: CreateTrainingJob (runs `runTrainingJob` in the background; statuses go
 *   InProgress → Completed | Failed | Stopped, with SageMaker's secondary statuses), DescribeTrainingJob,
 *   StopTrainingJob;
 * - the model registry: CreateModelPackageGroup, DescribeModelPackageGroup, CreateModelPackage
 *   (sequential ModelPackageVersion per group; a repeated ClientToken returns the first package),
 *   DescribeModelPackage, ListModelPackages (paginated), UpdateModelPackage, AddTags, DeleteTags, ListTags;
 * - the Glue Data Catalog: CreateDatabase, CreateTable, GetTable, BatchGetPartition, BatchCreatePartition.
 *
 * Every request is recorded (target, headers, parsed body) for tests; `failNext` (or
 * `POST /_emulator/fail-next`) injects errors; `statePath` keeps the state in a JSON file.
 */
import * as http from 'node:http';
import { shapeViolations, operationShapes, validationMessage, type ShapeViolation } from './service-shapes';
import { FaultQueue, type Fault } from '../../emulation/faults';
import { closeServer, listenOnLoopback, LOOPBACK, readRequestBody } from '../../emulation/http';
import { loadStateFile, saveStateFile } from '../../emulation/state-file';

export interface CapturedRequest {
  /** e.g. `SageMaker.CreateTrainingJob`. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** What a training job runner may tell the control plane while it runs. */
export interface TrainingJobProgress {
  /** SageMaker's secondary status: `Downloading`, `Training`, `Uploading`, … */
  setSecondaryStatus(status: string): void;
}

/**
 * Runs a training job: resolves when the model is in `<S3OutputPath><name>/output/model.tar.gz`,
 * rejects to fail it (the error's message becomes the FailureReason); `signal` aborts when
 * StopTrainingJob is called or the control plane closes.
 */
export type TrainingJobRunner = (request: Json, signal: AbortSignal, progress: TrainingJobProgress) => Promise<void>;

export interface ControlPlaneOptions {
  /** @default - jobs complete at once without writing anything */
  readonly runTrainingJob?: TrainingJobRunner;
  /** @default '111122223333' */
  readonly account?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /**
   * A JSON file that keeps the state across restarts.
   * @default - in memory only
   */
  readonly statePath?: string;
  /** @default - silent */
  readonly log?: (line: string) => void;
}

export interface ControlPlane {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly requests: CapturedRequest[];
  /** Requests of one action, e.g. `CreateTrainingJob`. */
  requestsOf(action: string): CapturedRequest[];
  /** The next `count` requests (of `fault.operation`, e.g. `DescribeTrainingJob`, when given) fail with `fault`. */
  failNext(count: number, fault: Fault): void;
  close(): Promise<void>;
}

/** An AWS error answer: `__type` and `message` with an HTTP status. */
class ServiceError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

type JobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

interface TrainingJobState {
  readonly request: Json;
  readonly arn: string;
  status: JobStatus;
  secondary: string;
  failureReason?: string;
  readonly created: number;
  started?: number;
  ended?: number;
  modified: number;
  transitions: { Status: string; StartTime: number; EndTime?: number; StatusMessage: string }[];
}

interface ModelPackageState {
  readonly group: string;
  readonly version: number;
  readonly arn: string;
  readonly request: Json;
  readonly created: number;
  approval: string;
  approvalDescription?: string;
  modified?: number;
}

interface SavedState {
  readonly trainingJobs: [string, TrainingJobState][];
  readonly groups: [string, { arn: string; created: number; description?: string }][];
  readonly packages: ModelPackageState[];
  readonly tags: [string, [string, string][]][];
  readonly databases: string[];
  readonly tables: [string, Json][];
  readonly partitions: [string, Json][];
}

const epochSeconds = (milliseconds: number): number => milliseconds / 1000;

/** Messages SageMaker gives each secondary status. */
const SECONDARY_MESSAGES: Readonly<Record<string, string>> = {
  Starting: 'Preparing the instances for training',
  Downloading: 'Downloading input data',
  Training: 'Training image download completed. Training in progress.',
  Uploading: 'Uploading generated training model',
  Completed: 'Training job completed',
  Failed: 'Training job failed',
  Stopping: 'Stopping the training job',
  Stopped: 'The training job was stopped',
};

type Shapes = Readonly<Record<string, { readonly input: unknown; readonly output: unknown }>>;

async function loadShapes(): Promise<Shapes> {
  const [sageMaker, glue] = await Promise.all([import('@aws-sdk/client-sagemaker'), import('@aws-sdk/client-glue')]);
  const shapes: Record<string, { input: unknown; output: unknown }> = {};
  const add = (prefix: string, module: Readonly<Record<string, unknown>>, action: string): void => {
    const operation = module[`${action}$`];
    if (operation === undefined) throw new Error(`the installed SDK has no schema for ${prefix}.${action}`);
    shapes[`${prefix}.${action}`] = operationShapes(operation);
  };
  for (const action of SAGEMAKER_ACTIONS) add('SageMaker', sageMaker as unknown as Record<string, unknown>, action);
  for (const action of GLUE_ACTIONS) add('AWSGlue', glue as unknown as Record<string, unknown>, action);
  return shapes;
}

const SAGEMAKER_ACTIONS = [
  'CreateTrainingJob', 'DescribeTrainingJob', 'StopTrainingJob',
  'CreateModelPackageGroup', 'DescribeModelPackageGroup', 'CreateModelPackage', 'DescribeModelPackage', 'ListModelPackages', 'UpdateModelPackage',
  'AddTags', 'DeleteTags', 'ListTags',
] as const;
const GLUE_ACTIONS = ['CreateDatabase', 'CreateTable', 'GetTable', 'BatchGetPartition', 'BatchCreatePartition'] as const;

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const account = options.account ?? '111122223333';
  const region = options.region ?? 'us-east-1';
  const log = options.log ?? (() => undefined);
  const shapes = await loadShapes();
  const requests: CapturedRequest[] = [];
  const faults = new FaultQueue();
  const saved = options.statePath ? loadStateFile<SavedState>(options.statePath) : undefined;
  const trainingJobs = new Map<string, TrainingJobState>(saved?.trainingJobs ?? []);
  const groups = new Map(saved?.groups ?? []);
  const packages: ModelPackageState[] = saved?.packages ?? [];
  const tags = new Map<string, Map<string, string>>((saved?.tags ?? []).map(([arn, entries]) => [arn, new Map(entries)]));
  const databases = new Set<string>(saved?.databases ?? []);
  const tables = new Map<string, Json>(saved?.tables ?? []);
  const partitions = new Map<string, Json>(saved?.partitions ?? []);
  const running = new Map<string, AbortController>();
  let clock = Date.now();
  /** Strictly increasing timestamps (ms), so ordering by time is stable. */
  const now = (): number => (clock = Math.max(clock + 1, Date.now()));

  // jobs that were running when a previous emulator stopped cannot resume
  for (const job of trainingJobs.values()) {
    if (job.status === 'InProgress' || job.status === 'Stopping') {
      job.status = 'Failed';
      job.secondary = 'Failed';
      job.failureReason = 'InternalServerError: the emulator stopped while the job ran';
      job.ended = now();
    }
  }

  const save = (): void => {
    if (!options.statePath) return;
    const state: SavedState = {
      trainingJobs: [...trainingJobs],
      groups: [...groups],
      packages,
      tags: [...tags].map(([arn, entries]) => [arn, [...entries]]),
      databases: [...databases],
      tables: [...tables],
      partitions: [...partitions],
    };
    saveStateFile(options.statePath, state);
  };

  const tagsOf = (arn: string): Map<string, string> => {
    if (!tags.has(arn)) tags.set(arn, new Map());
    return tags.get(arn)!;
  };
  const addTags = (arn: string, list: unknown): void => {
    for (const tag of (list as { Key: string; Value: string }[] | undefined) ?? []) tagsOf(arn).set(tag.Key, tag.Value);
  };

  const findPackage = (name: unknown): ModelPackageState => {
    const found = packages.find((candidate) => candidate.arn === name);
    if (!found) throw new ServiceError('ValidationException', `Model package ${String(name)} does not exist.`);
    return found;
  };

  const describePackage = (model: ModelPackageState): Json => ({
    ModelPackageName: model.group,
    ModelPackageGroupName: model.group,
    ModelPackageVersion: model.version,
    ModelPackageArn: model.arn,
    ...(model.request.ModelPackageDescription !== undefined ? { ModelPackageDescription: model.request.ModelPackageDescription } : {}),
    CreationTime: epochSeconds(model.created),
    ...(model.request.InferenceSpecification !== undefined ? { InferenceSpecification: model.request.InferenceSpecification } : {}),
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
    ModelApprovalStatus: model.approval,
    ...(model.approvalDescription ? { ApprovalDescription: model.approvalDescription } : {}),
    ...(model.modified ? { LastModifiedTime: epochSeconds(model.modified) } : {}),
    ...(model.request.CustomerMetadataProperties !== undefined ? { CustomerMetadataProperties: model.request.CustomerMetadataProperties } : {}),
    ...(model.request.ModelMetrics ? { ModelMetrics: model.request.ModelMetrics } : {}),
  });

  const tableKey = (database: unknown, table: unknown): string => `${String(database)}/${String(table)}`;
  const partitionKey = (database: unknown, table: unknown, values: unknown): string => `${tableKey(database, table)}/${JSON.stringify(values)}`;

  const setStatus = (job: TrainingJobState, status: JobStatus, secondary: string): void => {
    const at = now();
    job.status = status;
    if (job.secondary !== secondary) {
      const last = job.transitions.at(-1);
      if (last && last.EndTime === undefined) last.EndTime = epochSeconds(at);
      job.secondary = secondary;
      job.transitions.push({ Status: secondary, StartTime: epochSeconds(at), StatusMessage: SECONDARY_MESSAGES[secondary] ?? secondary });
    }
    job.modified = at;
    save();
  };

  const runTraining = (name: string, job: TrainingJobState): void => {
    const abort = new AbortController();
    running.set(name, abort);
    void (async () => {
      job.started = now();
      const progress: TrainingJobProgress = {
        setSecondaryStatus: (secondary) => {
          if (job.status === 'InProgress') setStatus(job, 'InProgress', secondary);
        },
      };
      try {
        progress.setSecondaryStatus('Downloading');
        await (options.runTrainingJob?.(job.request, abort.signal, progress) ?? Promise.resolve());
        if (abort.signal.aborted) throw new Error('stopped');
        setStatus(job, 'Completed', 'Completed');
      } catch (error) {
        if (abort.signal.aborted) {
          setStatus(job, 'Stopped', 'Stopped');
        } else {
          const message = (error as Error).message;
          job.failureReason = (/^[A-Z]\w*Error: /.test(message) ? message : `AlgorithmError: ${message}`).slice(0, 1024);
          setStatus(job, 'Failed', 'Failed');
        }
      }
      job.ended = now();
      const last = job.transitions.at(-1);
      if (last && last.EndTime === undefined) last.EndTime = epochSeconds(job.ended);
      running.delete(name);
      save();
      log(`training job ${name}: ${job.status}${job.failureReason ? ` (${job.failureReason})` : ''}`);
    })();
  };

  const describeTrainingJob = (job: TrainingJobState): Json => {
    const request = job.request;
    const output = request.OutputDataConfig as { S3OutputPath: string };
    const copied = (...names: string[]): Json => Object.fromEntries(names.filter((key) => request[key] !== undefined).map((key) => [key, request[key]]));
    return {
      TrainingJobName: request.TrainingJobName,
      TrainingJobArn: job.arn,
      ModelArtifacts: { S3ModelArtifacts: `${output.S3OutputPath.replace(/\/?$/, '/')}${String(request.TrainingJobName)}/output/model.tar.gz` },
      TrainingJobStatus: job.status,
      SecondaryStatus: job.secondary,
      ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
      ...copied(
        'HyperParameters', 'AlgorithmSpecification', 'RoleArn', 'InputDataConfig', 'OutputDataConfig', 'ResourceConfig', 'VpcConfig', 'StoppingCondition',
        'EnableNetworkIsolation', 'EnableInterContainerTrafficEncryption', 'EnableManagedSpotTraining', 'CheckpointConfig', 'Environment', 'RetryStrategy',
      ),
      CreationTime: epochSeconds(job.created),
      ...(job.started ? { TrainingStartTime: epochSeconds(job.started) } : {}),
      ...(job.ended ? { TrainingEndTime: epochSeconds(job.ended), TrainingTimeInSeconds: Math.max(1, Math.round((job.ended - (job.started ?? job.created)) / 1000)) } : {}),
      LastModifiedTime: epochSeconds(job.modified),
      SecondaryStatusTransitions: job.transitions,
    };
  };

  const actions: Readonly<Record<string, (body: Json) => Json>> = {
    // ---- training jobs
    'SageMaker.CreateTrainingJob'(body) {
      const name = body.TrainingJobName as string;
      if (trainingJobs.has(name)) throw new ServiceError('ResourceInUse', `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${`arn:aws:sagemaker:${region}:${account}:training-job/${name.toLowerCase()}`})`);
      const created = now();
      const job: TrainingJobState = {
        request: body,
        arn: `arn:aws:sagemaker:${region}:${account}:training-job/${name.toLowerCase()}`,
        status: 'InProgress',
        secondary: 'Starting',
        created,
        modified: created,
        transitions: [{ Status: 'Starting', StartTime: epochSeconds(created), StatusMessage: SECONDARY_MESSAGES.Starting }],
      };
      trainingJobs.set(name, job);
      addTags(job.arn, body.Tags);
      save();
      runTraining(name, job);
      return { TrainingJobArn: job.arn };
    },
    'SageMaker.DescribeTrainingJob'(body) {
      const job = trainingJobs.get(body.TrainingJobName as string);
      if (!job) throw new ServiceError('ResourceNotFound', `Requested resource not found: training job ${String(body.TrainingJobName)}`);
      return describeTrainingJob(job);
    },
    'SageMaker.StopTrainingJob'(body) {
      const name = body.TrainingJobName as string;
      const job = trainingJobs.get(name);
      if (!job) throw new ServiceError('ResourceNotFound', `Requested resource not found: training job ${String(name)}`);
      if (job.status !== 'InProgress') throw new ServiceError('ValidationException', `The request was rejected because the training job is in status ${job.status}.`);
      setStatus(job, 'Stopping', 'Stopping');
      running.get(name)?.abort();
      return {};
    },

    // ---- model registry
    'SageMaker.CreateModelPackageGroup'(body) {
      const name = body.ModelPackageGroupName as string;
      if (groups.has(name)) throw new ServiceError('ValidationException', `Model Package Group already exists: ${name}`);
      const arn = `arn:aws:sagemaker:${region}:${account}:model-package-group/${name.toLowerCase()}`;
      groups.set(name, { arn, created: now(), ...(body.ModelPackageGroupDescription !== undefined ? { description: body.ModelPackageGroupDescription as string } : {}) });
      addTags(arn, body.Tags);
      save();
      return { ModelPackageGroupArn: arn };
    },
    'SageMaker.DescribeModelPackageGroup'(body) {
      const group = groups.get(body.ModelPackageGroupName as string);
      if (!group) throw new ServiceError('ValidationException', `ModelPackageGroup ${String(body.ModelPackageGroupName)} does not exist.`);
      return {
        ModelPackageGroupName: body.ModelPackageGroupName,
        ModelPackageGroupArn: group.arn,
        CreationTime: epochSeconds(group.created),
        CreatedBy: {},
        ModelPackageGroupStatus: 'Completed',
        ...(group.description !== undefined ? { ModelPackageGroupDescription: group.description } : {}),
      };
    },
    'SageMaker.CreateModelPackage'(body) {
      const group = body.ModelPackageGroupName as string;
      if (!groups.has(group)) throw new ServiceError('ValidationException', `ModelPackageGroup ${group} does not exist.`);
      const token = body.ClientToken as string | undefined;
      const repeated = token ? packages.find((candidate) => candidate.group === group && candidate.request.ClientToken === token) : undefined;
      if (repeated) return { ModelPackageArn: repeated.arn };
      for (const value of Object.values((body.CustomerMetadataProperties as Record<string, string> | undefined) ?? {})) {
        if (value.length > 1024) throw new ServiceError('ValidationException', 'CustomerMetadataProperties values must be at most 1024 characters');
      }
      const version = packages.filter((candidate) => candidate.group === group).length + 1;
      const model: ModelPackageState = {
        group,
        version,
        arn: `arn:aws:sagemaker:${region}:${account}:model-package/${group.toLowerCase()}/${version}`,
        request: body,
        created: now(),
        approval: (body.ModelApprovalStatus as string | undefined) ?? 'PendingManualApproval',
      };
      packages.push(model);
      addTags(model.arn, body.Tags);
      save();
      return { ModelPackageArn: model.arn };
    },
    'SageMaker.DescribeModelPackage'(body) {
      return describePackage(findPackage(body.ModelPackageName));
    },
    'SageMaker.ListModelPackages'(body) {
      const inGroup = packages.filter((candidate) => candidate.group === body.ModelPackageGroupName);
      const sorted = body.SortOrder === 'Descending' ? [...inGroup].reverse() : inGroup;
      const start = body.NextToken ? Number(body.NextToken) : 0;
      const limit = Math.min(Number(body.MaxResults ?? 10), 100);
      const page = sorted.slice(start, start + limit);
      return {
        ModelPackageSummaryList: page.map((model) => ({
          ModelPackageGroupName: model.group,
          ModelPackageVersion: model.version,
          ModelPackageArn: model.arn,
          CreationTime: epochSeconds(model.created),
          ModelPackageStatus: 'Completed',
          ModelApprovalStatus: model.approval,
        })),
        ...(start + limit < sorted.length ? { NextToken: String(start + limit) } : {}),
      };
    },
    'SageMaker.UpdateModelPackage'(body) {
      const model = findPackage(body.ModelPackageArn);
      if (body.ModelApprovalStatus) model.approval = body.ModelApprovalStatus as string;
      if (body.ApprovalDescription !== undefined) model.approvalDescription = body.ApprovalDescription as string;
      model.modified = now();
      save();
      return { ModelPackageArn: model.arn };
    },
    'SageMaker.AddTags'(body) {
      addTags(body.ResourceArn as string, body.Tags);
      save();
      return { Tags: [...tagsOf(body.ResourceArn as string)].map(([Key, Value]) => ({ Key, Value })) };
    },
    'SageMaker.DeleteTags'(body) {
      for (const key of (body.TagKeys as string[]) ?? []) tagsOf(body.ResourceArn as string).delete(key);
      save();
      return {};
    },
    'SageMaker.ListTags'(body) {
      return { Tags: [...tagsOf(body.ResourceArn as string)].map(([Key, Value]) => ({ Key, Value })) };
    },

    // ---- Glue Data Catalog
    'AWSGlue.CreateDatabase'(body) {
      const name = (body.DatabaseInput as Json).Name as string;
      if (databases.has(name)) throw new ServiceError('AlreadyExistsException', `Database already exists: ${name}`);
      databases.add(name);
      save();
      return {};
    },
    'AWSGlue.CreateTable'(body) {
      const input = body.TableInput as Json;
      if (!databases.has(body.DatabaseName as string)) throw new ServiceError('EntityNotFoundException', `Database ${String(body.DatabaseName)} not found.`);
      const key = tableKey(body.DatabaseName, input.Name);
      if (tables.has(key)) throw new ServiceError('AlreadyExistsException', `Table already exists: ${String(input.Name)}`);
      tables.set(key, input);
      save();
      return {};
    },
    'AWSGlue.GetTable'(body) {
      const table = tables.get(tableKey(body.DatabaseName, body.Name));
      if (!table) throw new ServiceError('EntityNotFoundException', `Table ${String(body.Name)} not found.`);
      return { Table: { ...table, DatabaseName: body.DatabaseName } };
    },
    'AWSGlue.BatchGetPartition'(body) {
      if (((body.PartitionsToGet as unknown[]) ?? []).length > 1000) throw new ServiceError('InvalidInputException', 'at most 1000 partitions per BatchGetPartition');
      const found: Json[] = [];
      for (const entry of (body.PartitionsToGet as { Values: string[] }[]) ?? []) {
        const partition = partitions.get(partitionKey(body.DatabaseName, body.TableName, entry.Values));
        if (partition) found.push(partition);
      }
      return { Partitions: found, UnprocessedKeys: [] };
    },
    'AWSGlue.BatchCreatePartition'(body) {
      if (!tables.has(tableKey(body.DatabaseName, body.TableName))) throw new ServiceError('EntityNotFoundException', `Table ${String(body.TableName)} not found.`);
      const inputs = (body.PartitionInputList as { Values: string[] }[]) ?? [];
      if (inputs.length > 100) throw new ServiceError('InvalidInputException', 'at most 100 partitions per BatchCreatePartition');
      const errors: Json[] = [];
      for (const input of inputs) {
        const key = partitionKey(body.DatabaseName, body.TableName, input.Values);
        if (partitions.has(key)) {
          errors.push({ PartitionValues: input.Values, ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' } });
          continue;
        }
        partitions.set(key, { ...input, DatabaseName: body.DatabaseName, TableName: body.TableName });
      }
      save();
      return { Errors: errors };
    },
  };

  /** Checks a request body against the operation's input shape (every violation at once). */
  const checkRequest = (target: string, body: Json): void => {
    const violations = shapeViolations(shapes[target].input, body);
    if (violations.length === 0) return;
    const unknown = violations.filter((violation) => violation.kind === 'unknown');
    if (unknown.length > 0) throw new ServiceError('SerializationException', unknown.map((violation) => violation.message).join('; '));
    throw new ServiceError('ValidationException', validationMessage(violations));
  };
  /** Our own answer must fit the operation's output shape: otherwise the emulator, not the client, is wrong. */
  const checkAnswer = (target: string, answer: Json): void => {
    const violations: ShapeViolation[] = shapeViolations(shapes[target].output, answer);
    if (violations.length > 0) throw new ServiceError('InternalFailure', `the emulator's answer to ${target} does not fit the service model: ${validationMessage(violations)}`, 500);
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      if (await faults.handleAdminRequest(request, response)) return;
      const raw = await readRequestBody(request);
      const target = String(request.headers['x-amz-target'] ?? '');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[name] = value;
      let body: Json | undefined;
      try {
        const parsed: unknown = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
        body = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ target, headers, body: body ?? {} });
      const reply = (status: number, payload: Json, extraHeaders: Record<string, string> = {}): void => {
        const text = JSON.stringify(payload);
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'content-length': Buffer.byteLength(text),
          'x-amzn-requestid': `emulator-${requests.length}`,
          ...extraHeaders,
        });
        response.end(text);
      };
      const action = actions[target];
      if (!action) {
        reply(400, { __type: 'UnknownOperationException', message: `the emulator does not implement ${target || '(no X-Amz-Target)'}` });
        return;
      }
      const fault = faults.take(target.split('.')[1]);
      if (fault) {
        reply(fault.status, { __type: fault.code, message: fault.message ?? `${fault.code} (injected by the emulator)` }, fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {});
        return;
      }
      try {
        if (body === undefined) throw new ServiceError('SerializationException', 'the request body is not a JSON object');
        checkRequest(target, body);
        const answer = action(body);
        checkAnswer(target, answer);
        reply(200, answer);
      } catch (error) {
        if (error instanceof ServiceError) {
          if (error.status >= 500) log(`control plane: ${error.message}`);
          reply(error.status, { __type: error.type, message: error.message });
        } else {
          log(`control plane: ${target} failed: ${String(error)}`);
          reply(500, { __type: 'InternalFailure', message: String(error) });
        }
      }
    })();
  });
  const port = await listenOnLoopback(server, options.port ?? 0, 'the SageMaker/Glue emulator');
  const endpoint = `http://${LOOPBACK}:${port}`;
  return {
    endpoint,
    requests,
    requestsOf: (action) => requests.filter((request) => request.target.endsWith(`.${action}`)),
    failNext: (count, fault) => faults.failNext(count, fault),
    async close() {
      for (const abort of running.values()) abort.abort();
      // let the runners see the abort and settle their statuses
      const deadline = Date.now() + 10_000;
      while (running.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await closeServer(server);
    },
  };
}
