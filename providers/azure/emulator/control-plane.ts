/**
 * The Azure Resource Manager calls of the Azure ML provider, on loopback over HTTPS (the SDK sends
 * bearer tokens over https only), so the real `@azure/arm-machinelearning` client, its whole
 * pipeline included, talks to it unchanged. api-version 2022-10-01, under
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.MachineLearningServices/workspaces/{w}`:
 *
 * - the workspace (GET) and its datastores (GET, PUT, list),
 * - environment versions, computes, model containers (PUT, GET), model versions (PUT, GET, list with paging),
 * - jobs (PUT, GET, POST cancel): a created job is handed to `runJob`; its status moves
 *   Queued → Preparing → Running → Finalizing → Completed | Failed, or CancelRequested → Canceled.
 *
 * Each request body is checked against the SDK's own model of it and each answer against the
 * answer's model (arm-shapes.ts): a malformed request gets the 400 `UserError` Azure ML sends, an
 * answer of ours that breaks the model is a 500. A job must name a compute and an environment that
 * exist. Tokens are checked by `verifyToken` when given (the emulator's managed-identity endpoint
 * signs them); every request is recorded; `failNext` (or `POST /_emulator/fail-next`) injects errors;
 * `statePath` keeps the resources and jobs in a JSON file.
 */
import { createServer, type Server } from 'node:https';
import { ArmShapeChecker, loadArmModels, type ArmViolation } from './arm-shapes';
import { FaultQueue, type Fault } from '../../emulation/faults';
import { closeServer, listenOnLoopback, LOOPBACK, readRequestBody } from '../../emulation/http';
import { loadStateFile, saveStateFile } from '../../emulation/state-file';

export interface RecordedRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body text exactly as received ('' when none). */
  readonly body: string;
}

export type JsonObject = Record<string, unknown>;

export interface EmulatedJob {
  readonly name: string;
  /** The ARM id of the job's workspace. */
  readonly workspaceId: string;
  /** The job's `properties` as PUT (the emulator maintains `status` apart). */
  readonly properties: JsonObject;
  status: string;
  cancelRequested: boolean;
}

/** What a job runner can ask of the control plane about the job's workspace. */
export interface JobContext {
  /** Aborts when the job is canceled (or the control plane closes). */
  readonly signal: AbortSignal;
  /** A datastore's properties (`AzureBlob`: accountName, containerName, …), or undefined. */
  datastore(name: string): JsonObject | undefined;
  /** The properties of the environment version the job names, or undefined. */
  environment(): JsonObject | undefined;
  /** Moves the job to a running status (`Preparing`, `Running`, `Finalizing`). */
  setStatus(status: string): void;
}

/** Runs a created job; returns its final status. A rejection fails the job. */
export type JobRunner = (job: EmulatedJob, context: JobContext) => Promise<'Completed' | 'Failed' | 'Canceled'>;

/** A workspace the control plane holds from the start (the infrastructure template would create it). */
export interface WorkspaceSeed {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  /** @default 'westeurope' */
  readonly location?: string;
  /** AmlCompute clusters to create. @default ['cpu-cluster'] */
  readonly computes?: readonly string[];
  /** Blob datastores to create: name → container (in `datastoreAccount`). @default {} */
  readonly datastores?: Readonly<Record<string, string>>;
  /** @default 'devstoreaccount1' */
  readonly datastoreAccount?: string;
}

export interface AzureMlControlPlaneOptions {
  /** The certificate the HTTPS server presents. */
  readonly certificate: string;
  readonly privateKey: string;
  /** @default [] */
  readonly workspaces?: readonly WorkspaceSeed[];
  /**
   * Answer for any workspace, creating it (with a `cpu-cluster` compute) on first use (tests).
   * @default false: an unknown workspace is 404 ResourceNotFound
   */
  readonly implicitWorkspaces?: boolean;
  /**
   * Checks a bearer token for Resource Manager.
   * @default - any bearer token is accepted
   */
  readonly verifyToken?: (token: string) => boolean;
  /** @default - jobs stay Queued */
  readonly runJob?: JobRunner;
  /** @default '2022-10-01' */
  readonly apiVersion?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default - in memory only */
  readonly statePath?: string;
  /** @default - silent */
  readonly log?: (line: string) => void;
}

export interface AzureMlControlPlane {
  /** `https://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** PEM of the server's certificate (trust it through the client's `trustedCertificates` or NODE_EXTRA_CA_CERTS). */
  readonly certificate: string;
  readonly requests: RecordedRequest[];
  readonly jobs: Map<string, EmulatedJob>;
  /** Set to run jobs; without one, jobs stay Queued. */
  runJob: JobRunner | undefined;
  /**
   * The next `count` requests (of `fault.operation`, e.g. `GET jobs`, when given) fail with `fault`.
   * @default fault - 503 ServiceUnavailable with Retry-After: 0
   */
  failNext(count: number, fault?: Fault): void;
  close(): Promise<void>;
}

interface Stored {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  properties: JsonObject;
  readonly extra?: JsonObject;
  readonly createdAt: string;
  updatedAt: string;
}

interface SavedState {
  readonly resources: [string, Stored][];
  readonly jobs: [string, EmulatedJob][];
}

const WORKSPACE_PATH = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)(\/.*)?$/i;
const PAGE_SIZE = 3;
/** What the real service refuses to change on an existing model version. */
const IMMUTABLE_MODEL_VERSION_FIELDS = ['modelUri', 'modelType', 'properties'];
const TERMINAL = new Set(['Completed', 'Failed', 'Canceled']);
const TYPE = 'Microsoft.MachineLearningServices/workspaces';

class ArmError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: readonly ArmViolation[] = []) {
    super(message);
  }
}

export async function startAzureMlControlPlane(options: AzureMlControlPlaneOptions): Promise<AzureMlControlPlane> {
  const apiVersion = options.apiVersion ?? '2022-10-01';
  const log = options.log ?? (() => undefined);
  const shapes = new ArmShapeChecker(await loadArmModels());
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueue();
  const saved = options.statePath ? loadStateFile<SavedState>(options.statePath) : undefined;
  const resources = new Map<string, Stored>(saved?.resources ?? []);
  const jobs = new Map<string, EmulatedJob>((saved?.jobs ?? []).map(([key, job]) => [key, job]));
  const running = new Map<string, AbortController>();
  let endpoint = '';

  for (const job of jobs.values()) {
    if (!TERMINAL.has(job.status)) job.status = 'Failed';
  }
  const save = (): void => {
    if (options.statePath) saveStateFile(options.statePath, { resources: [...resources], jobs: [...jobs] } satisfies SavedState);
  };

  const now = (): string => new Date().toISOString();
  const envelope = (stored: Stored): JsonObject => ({
    id: stored.id,
    name: stored.name,
    type: stored.type,
    ...(stored.extra ?? {}),
    properties: stored.properties,
    systemData: { createdAt: stored.createdAt, lastModifiedAt: stored.updatedAt, createdBy: 'emulator', createdByType: 'Application' },
  });

  function put(id: string, name: string, type: string, properties: JsonObject, extra?: JsonObject): { status: number; stored: Stored } {
    const key = id.toLowerCase();
    const existing = resources.get(key);
    if (existing) {
      existing.properties = properties;
      existing.updatedAt = now();
      save();
      return { status: 200, stored: existing };
    }
    const stored: Stored = { id, name, type, properties, ...(extra ? { extra } : {}), createdAt: now(), updatedAt: now() };
    resources.set(key, stored);
    save();
    return { status: 201, stored };
  }

  function childrenOf(parentId: string): Stored[] {
    const prefix = `${parentId.toLowerCase()}/`;
    return [...resources.entries()]
      .filter(([key]) => key.startsWith(prefix) && !key.slice(prefix.length).includes('/'))
      .map(([, stored]) => stored)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || Number(a.name) - Number(b.name));
  }

  function createWorkspace(seed: WorkspaceSeed): void {
    const id = `/subscriptions/${seed.subscriptionId}/resourceGroups/${seed.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${seed.workspace}`;
    if (resources.has(id.toLowerCase())) return;
    const location = seed.location ?? 'westeurope';
    put(id, seed.workspace, TYPE, { friendlyName: seed.workspace, provisioningState: 'Succeeded', v1LegacyMode: false }, { location });
    for (const compute of seed.computes ?? ['cpu-cluster']) {
      put(`${id}/computes/${compute}`, compute, `${TYPE}/computes`, {
        computeType: 'AmlCompute',
        provisioningState: 'Succeeded',
        disableLocalAuth: true,
        properties: { osType: 'Linux', vmSize: 'Standard_D4s_v3', vmPriority: 'LowPriority', scaleSettings: { minNodeCount: 0, maxNodeCount: 4, nodeIdleTimeBeforeScaleDown: 'PT5M' } },
      }, { location });
    }
    for (const [datastore, container] of Object.entries(seed.datastores ?? {})) {
      put(`${id}/datastores/${datastore}`, datastore, `${TYPE}/datastores`, {
        datastoreType: 'AzureBlob',
        accountName: seed.datastoreAccount ?? 'devstoreaccount1',
        containerName: container,
        endpoint: 'core.windows.net',
        protocol: 'https',
        serviceDataAccessAuthIdentity: 'WorkspaceSystemAssignedIdentity',
        credentials: { credentialsType: 'None' },
        isDefault: false,
      });
    }
  }
  for (const seed of options.workspaces ?? []) createWorkspace(seed);

  /** The environment version an environmentId names (`<workspace id>/environments/<n>/versions/<v>` or `azureml:<n>:<v>`). */
  function environmentOf(workspaceId: string, environmentId: unknown): Stored | undefined {
    const text = String(environmentId ?? '');
    const short = /^azureml:([^:/]+):([^:/]+)$/.exec(text);
    const id = short ? `${workspaceId}/environments/${short[1]}/versions/${short[2]}` : text;
    return resources.get(id.toLowerCase());
  }

  function startJob(key: string, job: EmulatedJob): void {
    const runner = state.runJob;
    if (!runner) return;
    const abort = new AbortController();
    running.set(key, abort);
    const setStatus = (status: string): void => {
      if (!TERMINAL.has(job.status) && job.status !== 'CancelRequested') job.status = status;
      save();
    };
    const context: JobContext = {
      signal: abort.signal,
      datastore: (name) => resources.get(`${job.workspaceId}/datastores/${name}`.toLowerCase())?.properties,
      environment: () => environmentOf(job.workspaceId, job.properties.environmentId)?.properties,
      setStatus,
    };
    void (async () => {
      setStatus('Preparing');
      let final: string;
      try {
        final = await runner(job, context);
      } catch (error) {
        log(`job ${job.name} failed: ${(error as Error).message}`);
        final = 'Failed';
      }
      job.status = job.cancelRequested ? 'Canceled' : final;
      running.delete(key);
      save();
      log(`job ${job.name}: ${job.status}`);
    })();
  }

  type Reply = { status: number; json?: unknown; model?: string; headers?: Record<string, string> };

  /** Checks a request body against its model; throws the 400 Azure ML sends. */
  function checkBody(model: string, body: JsonObject): void {
    const violations = shapes.check(model, body);
    if (violations.length > 0) {
      throw new ArmError(400, 'UserError', violations.map((violation) => violation.message).join('; '), violations);
    }
  }

  function handle(method: string, path: string, query: Record<string, string>, body: string): Reply {
    const match = WORKSPACE_PATH.exec(path);
    if (!match) throw new ArmError(404, 'NotFound', `No route registered for '${path}'`);
    const [, subscriptionId, resourceGroup, workspace] = match;
    const workspaceId = path.slice(0, path.length - (match[4]?.length ?? 0));
    if (!resources.has(workspaceId.toLowerCase())) {
      if (options.implicitWorkspaces) createWorkspace({ subscriptionId, resourceGroup, workspace });
      else throw new ArmError(404, 'ResourceNotFound', `The Resource '${TYPE}/${workspace}' under resource group '${resourceGroup}' was not found.`);
    }
    const rest = (match[4] ?? '').split('/').filter((part) => part.length > 0);
    let document: JsonObject = {};
    if (body) {
      try {
        document = JSON.parse(body) as JsonObject;
      } catch {
        throw new ArmError(400, 'UserError', 'The request content is not valid JSON.');
      }
    }
    const properties = (document.properties ?? {}) as JsonObject;
    const notFound = (): never => {
      throw new ArmError(404, 'UserError', `${path} not found`);
    };
    const found = (id: string, model: string): Reply => {
      const stored = resources.get(id.toLowerCase());
      return stored ? { status: 200, json: envelope(stored), model } : notFound();
    };

    if (rest.length === 0) {
      if (method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `${method} of a workspace is not emulated`);
      return found(workspaceId, 'Workspace');
    }

    // datastores[/<name>]
    if (rest[0] === 'datastores') {
      if (rest.length === 1 && method === 'GET') {
        return { status: 200, json: { value: childrenOf(`${workspaceId}/datastores`).map(envelope) }, model: 'DatastoreResourceArmPaginatedResult' };
      }
      if (rest.length === 2) {
        if (method === 'PUT') {
          checkBody('Datastore', document);
          const { status, stored } = put(path, rest[1], `${TYPE}/datastores`, properties);
          return { status, json: envelope(stored), model: 'Datastore' };
        }
        return found(path, 'Datastore');
      }
    }

    // models/<name>[/versions[/<version>]]
    if (rest[0] === 'models' && rest.length >= 2) {
      const containerId = `${workspaceId}/models/${rest[1]}`;
      if (rest.length === 2) {
        if (method === 'PUT') {
          checkBody('ModelContainer', document);
          const { status, stored } = put(containerId, rest[1], `${TYPE}/models`, properties);
          return { status, json: envelope(stored), model: 'ModelContainer' };
        }
        return found(containerId, 'ModelContainer');
      }
      if (rest[2] === 'versions' && rest.length === 3 && method === 'GET') {
        if (!resources.has(containerId.toLowerCase())) notFound();
        const all = childrenOf(`${containerId}/versions`);
        const skip = Number(query.$skipToken ?? 0);
        const page = all.slice(skip, skip + PAGE_SIZE);
        const nextLink = skip + PAGE_SIZE < all.length ? `${endpoint}${path}?api-version=${apiVersion}&$skipToken=${skip + PAGE_SIZE}` : undefined;
        return { status: 200, json: { value: page.map(envelope), ...(nextLink ? { nextLink } : {}) }, model: 'ModelVersionResourceArmPaginatedResult' };
      }
      if (rest[2] === 'versions' && rest.length === 4) {
        const versionId = `${containerId}/versions/${rest[3]}`;
        const existing = resources.get(versionId.toLowerCase());
        if (method === 'PUT') {
          checkBody('ModelVersion', document);
          if (!resources.has(containerId.toLowerCase())) notFound();
          if (existing) {
            const differs = (field: string): boolean => JSON.stringify(existing.properties[field]) !== JSON.stringify(properties[field]);
            const changed = IMMUTABLE_MODEL_VERSION_FIELDS.filter(differs);
            if (changed.length > 0) throw new ArmError(409, 'UserError', `model version fields ${changed.join(', ')} are immutable`);
          }
          const { status, stored } = put(versionId, rest[3], `${TYPE}/models/versions`, properties);
          return { status, json: envelope(stored), model: 'ModelVersion' };
        }
        return found(versionId, 'ModelVersion');
      }
    }

    // environments/<name>/versions/<version>
    if (rest[0] === 'environments' && rest[2] === 'versions' && rest.length === 4) {
      if (method === 'PUT') {
        checkBody('EnvironmentVersion', document);
        const { status, stored } = put(path, rest[3], `${TYPE}/environments/versions`, properties);
        return { status, json: envelope(stored), model: 'EnvironmentVersion' };
      }
      return found(path, 'EnvironmentVersion');
    }

    // computes/<name>
    if (rest[0] === 'computes' && rest.length === 2) {
      if (method === 'PUT') {
        checkBody('ComputeResource', document);
        const { status, stored } = put(path, rest[1], `${TYPE}/computes`, { ...properties, provisioningState: 'Succeeded' }, document.location ? { location: document.location } : undefined);
        return { status, json: envelope(stored), model: 'ComputeResource' };
      }
      return found(path, 'ComputeResource');
    }

    // jobs/<name>[/cancel]
    if (rest[0] === 'jobs' && rest.length >= 2) {
      const key = `${workspaceId}/jobs/${rest[1]}`.toLowerCase();
      const job = jobs.get(key);
      if (rest.length === 3 && rest[2] === 'cancel' && method === 'POST') {
        if (!job) return notFound();
        job.cancelRequested = true;
        if (job.status === 'Queued' || job.status === 'NotStarted') job.status = 'Canceled';
        else if (!TERMINAL.has(job.status)) job.status = 'CancelRequested';
        running.get(key)?.abort();
        save();
        return { status: 200 };
      }
      if (rest.length !== 2) return notFound();
      const answer = (current: EmulatedJob, status: number): Reply => ({
        status,
        json: { id: path, name: current.name, type: `${TYPE}/jobs`, properties: { ...current.properties, status: current.status } },
        model: 'JobBase',
      });
      if (method === 'PUT') {
        checkBody('JobBase', document);
        if (job) throw new ArmError(400, 'UserError', `A job with this name already exists: ${rest[1]}. Jobs are immutable.`);
        const references: ArmViolation[] = [];
        if (properties.computeId !== undefined && !resources.has(String(properties.computeId).toLowerCase())) {
          references.push({ kind: 'constraint', path: 'properties.computeId', message: `Compute ${String(properties.computeId)} not found in the workspace` });
        }
        if (properties.environmentId !== undefined && !environmentOf(workspaceId, properties.environmentId)) {
          references.push({ kind: 'constraint', path: 'properties.environmentId', message: `Environment ${String(properties.environmentId)} not found in the workspace` });
        }
        if (references.length > 0) throw new ArmError(400, 'UserError', references.map((reference) => reference.message).join('; '), references);
        const created: EmulatedJob = { name: rest[1], workspaceId, properties: { ...properties }, status: 'Queued', cancelRequested: false };
        jobs.set(key, created);
        save();
        setImmediate(() => startJob(key, created));
        return answer(created, 201);
      }
      if (!job) return notFound();
      return answer(job, 200);
    }
    return notFound();
  }

  const server: Server = createServer({ key: options.privateKey, cert: options.certificate }, (request, response) => {
    void (async () => {
      if (await faults.handleAdminRequest(request, response)) return;
      const body = (await readRequestBody(request)).toString('utf8');
      const url = new URL(request.url ?? '/', endpoint);
      const query = Object.fromEntries(url.searchParams.entries());
      const method = request.method ?? 'GET';
      requests.push({ method, path: url.pathname, query, headers: { ...request.headers }, body });
      const reply = (status: number, json?: unknown, headers: Record<string, string> = {}): void => {
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': String(requests.length), ...headers });
        response.end(json === undefined ? '' : JSON.stringify(json));
      };
      const failure = (error: ArmError): void => {
        const details = error.details.map((detail) => ({ code: 'BadArgument', target: detail.path, message: detail.message }));
        reply(error.status, { error: { code: error.code, message: error.message, ...(details.length > 0 ? { details } : {}) } });
      };
      const authorization = String(request.headers.authorization ?? '');
      const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
      if (!token) return failure(new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing."));
      if (options.verifyToken && !options.verifyToken(token)) return failure(new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid, expired, or not for https://management.azure.com.'));
      if (query['api-version'] !== apiVersion) {
        return failure(new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${query['api-version']}' is invalid. The supported version is '${apiVersion}'.`));
      }
      const kind = url.pathname.split('/').filter(Boolean)[8] ?? 'workspaces';
      const fault = faults.take(`${method} ${kind}`);
      if (fault) {
        reply(fault.status, { error: { code: fault.code, message: fault.message ?? `${fault.code} (injected by the emulator)` } }, fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {});
        return;
      }
      try {
        const { status, json, model, headers } = handle(method, url.pathname, query, body);
        if (model !== undefined) {
          const violations = shapes.check(model, json);
          if (violations.length > 0) throw new ArmError(500, 'InternalServerError', `the emulator's answer does not fit ${model}: ${violations.map((violation) => violation.message).join('; ')}`);
        }
        reply(status, json, headers);
      } catch (error) {
        if (error instanceof ArmError) {
          if (error.status >= 500) log(error.message);
          failure(error);
        } else {
          log(`${method} ${url.pathname} failed: ${String(error)}`);
          failure(new ArmError(500, 'InternalServerError', String(error)));
        }
      }
    })();
  });
  const port = await listenOnLoopback(server, options.port ?? 0, 'the Azure ML emulator');
  endpoint = `https://${LOOPBACK}:${port}`;
  const state: AzureMlControlPlane = {
    endpoint,
    certificate: options.certificate,
    requests,
    /** Jobs by name (tests look them up so). */
    get jobs() {
      return new Map([...jobs.values()].map((job) => [job.name, job]));
    },
    runJob: options.runJob,
    failNext(count, fault = { status: 503, code: 'ServiceUnavailable', message: 'try again', retryAfterSeconds: 0 }) {
      faults.failNext(count, fault);
    },
    async close() {
      for (const abort of running.values()) abort.abort();
      const deadline = Date.now() + 10_000;
      while (running.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await closeServer(server);
    },
  };
  return state;
}
