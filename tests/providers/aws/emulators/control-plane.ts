/**
 * A tiny, stateful, in-memory fake of the AWS control planes the aws provider calls (SageMaker and
 * Glue speak the same awsJson1_1 protocol: `POST /` with `X-Amz-Target: <Service>.<Action>` and a
 * JSON body). The production code runs unchanged: the real @aws-sdk clients with `endpoint`
 * pointed at this server's loopback address and dummy static credentials.
 *
 * Every request is recorded (target, headers, parsed body) so tests can assert the exact bodies
 * the SDK sent. Only the actions and the behaviour the provider relies on are implemented:
 *
 * - training jobs: CreateTrainingJob (runs `runTrainingJob` in the background: the tests run real
 *   XGBoost there), DescribeTrainingJob, StopTrainingJob;
 * - the model registry: CreateModelPackageGroup, DescribeModelPackageGroup, CreateModelPackage
 *   (sequential ModelPackageVersion per group; a repeated ClientToken returns the first package, as
 *   AWS idempotency tokens do), DescribeModelPackage, ListModelPackages (paginated),
 *   UpdateModelPackage, AddTags, DeleteTags, ListTags;
 * - the Glue Data Catalog: CreateDatabase, CreateTable, GetTable, BatchGetPartition, BatchCreatePartition.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  /** e.g. `SageMaker.CreateTrainingJob`. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
}

type Json = Record<string, unknown>;

export interface ControlPlaneOptions {
  /**
   * Runs a training job: resolves when the model is in `<S3OutputPath><name>/output/model.tar.gz`,
   * rejects to fail it; `signal` aborts when StopTrainingJob is called.
   * @default - jobs complete at once without writing anything
   */
  readonly runTrainingJob?: (request: Json, signal: AbortSignal) => Promise<void>;
  /** @default '111122223333' */
  readonly account?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
}

export interface ControlPlane {
  readonly endpoint: string;
  readonly requests: CapturedRequest[];
  /** Requests of one action, e.g. `CreateTrainingJob`. */
  requestsOf(action: string): CapturedRequest[];
  close(): Promise<void>;
}

/** An AWS error answer: HTTP 400 with `__type`. */
class ServiceError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

interface TrainingJobState {
  readonly request: Json;
  readonly arn: string;
  status: 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
  secondary: string;
  failureReason?: string;
  readonly created: number;
  ended?: number;
  readonly abort: AbortController;
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

const epochSeconds = (milliseconds: number): number => milliseconds / 1000;

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const account = options.account ?? '111122223333';
  const region = options.region ?? 'us-east-1';
  const requests: CapturedRequest[] = [];
  const trainingJobs = new Map<string, TrainingJobState>();
  const groups = new Map<string, { arn: string; created: number; description?: string }>();
  const packages: ModelPackageState[] = [];
  const clientTokens = new Map<string, ModelPackageState>();
  const tags = new Map<string, Map<string, string>>();
  const databases = new Set<string>();
  const tables = new Map<string, Json>();
  const partitions = new Map<string, Json>();
  let clock = Date.now();
  /** Strictly increasing timestamps (ms), so ordering by time is stable. */
  const now = (): number => (clock = Math.max(clock + 1, Date.now()));

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
    ModelPackageDescription: model.request.ModelPackageDescription,
    CreationTime: epochSeconds(model.created),
    InferenceSpecification: model.request.InferenceSpecification,
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
    ModelApprovalStatus: model.approval,
    ...(model.approvalDescription ? { ApprovalDescription: model.approvalDescription } : {}),
    ...(model.modified ? { LastModifiedTime: epochSeconds(model.modified) } : {}),
    CustomerMetadataProperties: model.request.CustomerMetadataProperties,
    ...(model.request.ModelMetrics ? { ModelMetrics: model.request.ModelMetrics } : {}),
  });

  const tableKey = (database: unknown, table: unknown): string => `${String(database)}/${String(table)}`;
  const partitionKey = (database: unknown, table: unknown, values: unknown): string => `${tableKey(database, table)}/${JSON.stringify(values)}`;

  const runTraining = (job: TrainingJobState): void => {
    const name = job.request.TrainingJobName as string;
    void (async () => {
      job.secondary = 'Downloading';
      await new Promise((resolve) => setTimeout(resolve, 5));
      job.secondary = 'Training';
      try {
        await (options.runTrainingJob?.(job.request, job.abort.signal) ?? Promise.resolve());
        if (job.abort.signal.aborted) throw new Error('stopped');
        job.status = 'Completed';
        job.secondary = 'Completed';
      } catch (error) {
        if (job.abort.signal.aborted) {
          job.status = 'Stopped';
          job.secondary = 'Stopped';
        } else {
          job.status = 'Failed';
          job.secondary = 'Failed';
          job.failureReason = `AlgorithmError: ${(error as Error).message}`.slice(0, 1024);
        }
      }
      job.ended = now();
      void name;
    })();
  };

  const actions: Readonly<Record<string, (body: Json) => Json>> = {
    // ---- training jobs
    'SageMaker.CreateTrainingJob'(body) {
      const name = body.TrainingJobName as string;
      if (trainingJobs.has(name)) throw new ServiceError('ResourceInUse', `Training job names must be unique within an AWS account and region: ${name}`);
      const job: TrainingJobState = {
        request: body,
        arn: `arn:aws:sagemaker:${region}:${account}:training-job/${name.toLowerCase()}`,
        status: 'InProgress',
        secondary: 'Starting',
        created: now(),
        abort: new AbortController(),
      };
      trainingJobs.set(name, job);
      addTags(job.arn, body.Tags);
      runTraining(job);
      return { TrainingJobArn: job.arn };
    },
    'SageMaker.DescribeTrainingJob'(body) {
      const job = trainingJobs.get(body.TrainingJobName as string);
      if (!job) throw new ServiceError('ResourceNotFound', `Requested resource not found: ${String(body.TrainingJobName)}`);
      const request = job.request;
      const output = request.OutputDataConfig as { S3OutputPath: string };
      return {
        TrainingJobName: request.TrainingJobName,
        TrainingJobArn: job.arn,
        TrainingJobStatus: job.status,
        SecondaryStatus: job.secondary,
        ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
        ...(job.status === 'Completed' ? { ModelArtifacts: { S3ModelArtifacts: `${output.S3OutputPath.replace(/\/?$/, '/')}${String(request.TrainingJobName)}/output/model.tar.gz` } } : {}),
        AlgorithmSpecification: request.AlgorithmSpecification,
        RoleArn: request.RoleArn,
        HyperParameters: request.HyperParameters,
        ResourceConfig: request.ResourceConfig,
        StoppingCondition: request.StoppingCondition,
        EnableManagedSpotTraining: request.EnableManagedSpotTraining,
        CreationTime: epochSeconds(job.created),
        ...(job.ended ? { TrainingEndTime: epochSeconds(job.ended) } : {}),
      };
    },
    'SageMaker.StopTrainingJob'(body) {
      const job = trainingJobs.get(body.TrainingJobName as string);
      if (!job) throw new ServiceError('ResourceNotFound', `Requested resource not found: ${String(body.TrainingJobName)}`);
      if (job.status !== 'InProgress') throw new ServiceError('ValidationException', `The training job ${String(body.TrainingJobName)} is not in progress.`);
      job.status = 'Stopping';
      job.secondary = 'Stopping';
      job.abort.abort();
      return {};
    },

    // ---- model registry
    'SageMaker.CreateModelPackageGroup'(body) {
      const name = body.ModelPackageGroupName as string;
      if (groups.has(name)) throw new ServiceError('ValidationException', `Model Package Group already exists: ${name}`);
      const arn = `arn:aws:sagemaker:${region}:${account}:model-package-group/${name.toLowerCase()}`;
      groups.set(name, { arn, created: now(), description: body.ModelPackageGroupDescription as string | undefined });
      addTags(arn, body.Tags);
      return { ModelPackageGroupArn: arn };
    },
    'SageMaker.DescribeModelPackageGroup'(body) {
      const group = groups.get(body.ModelPackageGroupName as string);
      if (!group) throw new ServiceError('ValidationException', `ModelPackageGroup ${String(body.ModelPackageGroupName)} does not exist.`);
      return {
        ModelPackageGroupName: body.ModelPackageGroupName,
        ModelPackageGroupArn: group.arn,
        CreationTime: epochSeconds(group.created),
        ModelPackageGroupStatus: 'Completed',
        ModelPackageGroupDescription: group.description,
      };
    },
    'SageMaker.CreateModelPackage'(body) {
      const group = body.ModelPackageGroupName as string;
      if (!groups.has(group)) throw new ServiceError('ValidationException', `ModelPackageGroup ${group} does not exist.`);
      const token = body.ClientToken as string | undefined;
      const repeated = token ? clientTokens.get(`${group}/${token}`) : undefined;
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
      if (token) clientTokens.set(`${group}/${token}`, model);
      addTags(model.arn, body.Tags);
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
      return { ModelPackageArn: model.arn };
    },
    'SageMaker.AddTags'(body) {
      addTags(body.ResourceArn as string, body.Tags);
      return { Tags: [...tagsOf(body.ResourceArn as string)].map(([Key, Value]) => ({ Key, Value })) };
    },
    'SageMaker.DeleteTags'(body) {
      for (const key of (body.TagKeys as string[]) ?? []) tagsOf(body.ResourceArn as string).delete(key);
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
      return {};
    },
    'AWSGlue.CreateTable'(body) {
      const input = body.TableInput as Json;
      if (!databases.has(body.DatabaseName as string)) throw new ServiceError('EntityNotFoundException', `Database ${String(body.DatabaseName)} not found.`);
      const key = tableKey(body.DatabaseName, input.Name);
      if (tables.has(key)) throw new ServiceError('AlreadyExistsException', `Table already exists: ${String(input.Name)}`);
      tables.set(key, input);
      return {};
    },
    'AWSGlue.GetTable'(body) {
      const table = tables.get(tableKey(body.DatabaseName, body.Name));
      if (!table) throw new ServiceError('EntityNotFoundException', `Table ${String(body.Name)} not found.`);
      return { Table: { ...table, DatabaseName: body.DatabaseName } };
    },
    'AWSGlue.BatchGetPartition'(body) {
      const found: Json[] = [];
      const unprocessed: Json[] = [];
      for (const entry of (body.PartitionsToGet as { Values: string[] }[]) ?? []) {
        const partition = partitions.get(partitionKey(body.DatabaseName, body.TableName, entry.Values));
        if (partition) found.push(partition);
      }
      if (((body.PartitionsToGet as unknown[]) ?? []).length > 1000) throw new ServiceError('InvalidInputException', 'at most 1000 partitions per BatchGetPartition');
      return { Partitions: found, UnprocessedKeys: unprocessed };
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
      return { Errors: errors };
    },
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[name] = value;
      let body: Json = {};
      try {
        body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json) : {};
      } catch {
        body = {};
      }
      requests.push({ target, headers, body });
      const reply = (status: number, payload: Json): void => {
        const text = JSON.stringify(payload);
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': `fake-${requests.length}` });
        response.end(text);
      };
      const action = actions[target];
      if (!action) {
        reply(400, { __type: 'UnknownOperationException', message: `the fake control plane does not implement ${target || '(no X-Amz-Target)'}` });
        return;
      }
      try {
        reply(200, action(body));
      } catch (error) {
        if (error instanceof ServiceError) reply(error.status, { __type: error.type, message: error.message });
        else reply(500, { __type: 'InternalFailure', message: String(error) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    requests,
    requestsOf: (action) => requests.filter((request) => request.target.endsWith(`.${action}`)),
    async close() {
      for (const job of trainingJobs.values()) job.abort.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
