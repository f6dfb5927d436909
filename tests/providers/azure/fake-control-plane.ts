/**
 * A tiny, stateful, in-memory Azure Resource Manager for the Azure ML calls the provider makes,
 * served over HTTPS on loopback, so the real `@azure/arm-machinelearning` client (its whole
 * pipeline, bearer-token authentication included) talks to it unchanged. It records every request
 * exactly as it came over the wire, so tests can assert the bodies the SDK really sends.
 *
 * Implemented: model containers and versions (PUT, GET, list with paging), environment versions
 * (PUT, GET), computes (PUT, GET), jobs (PUT, GET, POST cancel). Jobs are "run" by a hook the test
 * provides; their status moves Queued → Running → Completed / Failed / Canceled.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from '../../helpers/self-signed-certificate';

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

export interface FakeJob {
  readonly name: string;
  /** The job's `properties` as PUT (plus `status`, which the fake maintains). */
  readonly properties: JsonObject;
  status: string;
  cancelRequested: boolean;
}

/** What the test does when a job is created: run it, and return the final status (Completed, Failed, Canceled). */
export type JobRunner = (job: FakeJob) => Promise<'Completed' | 'Failed' | 'Canceled'>;

export interface FakeControlPlane {
  /** `https://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** PEM of the server's certificate (trust it through the client's `trustedCertificates`). */
  readonly certificate: string;
  readonly requests: RecordedRequest[];
  readonly jobs: Map<string, FakeJob>;
  /** Set to run jobs; without one, jobs stay Queued. */
  runJob: JobRunner | undefined;
  /** Makes the next N requests fail with 503 (throttling/outage simulation). */
  failNext(count: number): void;
  close(): Promise<void>;
}

interface Stored {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  properties: JsonObject;
  readonly createdAt: string;
  updatedAt: string;
}

const WORKSPACE_PATH = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)(\/.*)?$/i;
const PAGE_SIZE = 3;
/** What the real service refuses to change on an existing model version. */
const IMMUTABLE_MODEL_VERSION_FIELDS = ['modelUri', 'modelType', 'properties'];

export async function startFakeControlPlane(options: { readonly apiVersion?: string } = {}): Promise<FakeControlPlane> {
  const apiVersion = options.apiVersion ?? '2022-10-01';
  const { certificate, privateKey } = selfSignedCertificate();
  const requests: RecordedRequest[] = [];
  const resources = new Map<string, Stored>();
  const jobs = new Map<string, FakeJob>();
  let failures = 0;
  let endpoint = '';

  const state: FakeControlPlane = {
    endpoint: '',
    certificate,
    requests,
    jobs,
    runJob: undefined,
    failNext(count) {
      failures = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const envelope = (stored: Stored): JsonObject => ({
    id: stored.id,
    name: stored.name,
    type: stored.type,
    properties: stored.properties,
    systemData: { createdAt: stored.createdAt, lastModifiedAt: stored.updatedAt, createdBy: 'fake', createdByType: 'Application' },
  });

  function put(id: string, name: string, type: string, properties: JsonObject): { status: number; stored: Stored } {
    const key = id.toLowerCase();
    const existing = resources.get(key);
    const now = new Date().toISOString();
    if (existing) {
      existing.properties = properties;
      existing.updatedAt = now;
      return { status: 200, stored: existing };
    }
    const stored: Stored = { id, name, type, properties, createdAt: now, updatedAt: now };
    resources.set(key, stored);
    return { status: 201, stored };
  }

  function childrenOf(parentId: string): Stored[] {
    const prefix = `${parentId.toLowerCase()}/`;
    return [...resources.entries()]
      .filter(([key]) => key.startsWith(prefix) && !key.slice(prefix.length).includes('/'))
      .map(([, stored]) => stored)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || Number(a.name) - Number(b.name));
  }

  async function startJob(job: FakeJob): Promise<void> {
    const runner = state.runJob;
    if (!runner) return;
    job.status = 'Running';
    try {
      const final = await runner(job);
      job.status = job.cancelRequested ? 'Canceled' : final;
    } catch {
      job.status = 'Failed';
    }
  }

  type Reply = { status: number; json?: unknown; headers?: Record<string, string> };
  function handle(method: string, path: string, query: Record<string, string>, body: string): Reply {
    const match = WORKSPACE_PATH.exec(path);
    if (!match) return { status: 404, json: { error: { code: 'NotFound', message: `no route for ${path}` } } };
    const workspaceId = path.slice(0, path.length - (match[4]?.length ?? 0));
    const rest = (match[4] ?? '').split('/').filter((part) => part.length > 0);
    const resourceId = path;
    const document = body ? (JSON.parse(body) as JsonObject) : {};
    const properties = (document.properties ?? {}) as JsonObject;
    const notFound = () => ({ status: 404, json: { error: { code: 'UserError', message: `${resourceId} not found`, details: [], innerError: { code: 'NotFound' } } } });

    // models/<name>[/versions[/<version>]]
    if (rest[0] === 'models') {
      const containerId = `${workspaceId}/models/${rest[1]}`;
      if (rest.length === 2) {
        if (method === 'PUT') {
          const { status, stored } = put(containerId, rest[1], 'Microsoft.MachineLearningServices/workspaces/models', { ...properties, latestVersion: null });
          return { status, json: envelope(stored) };
        }
        const stored = resources.get(containerId.toLowerCase());
        return stored ? { status: 200, json: envelope(stored) } : notFound();
      }
      if (rest[2] === 'versions' && rest.length === 3 && method === 'GET') {
        if (!resources.has(containerId.toLowerCase())) return notFound();
        const all = childrenOf(`${containerId}/versions`);
        const skip = Number(query.$skipToken ?? 0);
        const page = all.slice(skip, skip + PAGE_SIZE);
        const nextLink = skip + PAGE_SIZE < all.length ? `${endpoint}${path}?api-version=${apiVersion}&$skipToken=${skip + PAGE_SIZE}` : undefined;
        return { status: 200, json: { value: page.map(envelope), ...(nextLink ? { nextLink } : {}) } };
      }
      if (rest[2] === 'versions' && rest.length === 4) {
        const versionId = `${containerId}/versions/${rest[3]}`;
        const existing = resources.get(versionId.toLowerCase());
        if (method === 'PUT') {
          if (!resources.has(containerId.toLowerCase())) return notFound();
          if (existing) {
            const differs = (field: string): boolean => JSON.stringify(existing.properties[field]) !== JSON.stringify(properties[field]);
            const changed = IMMUTABLE_MODEL_VERSION_FIELDS.filter(differs);
            if (changed.length > 0) {
              return { status: 409, json: { error: { code: 'UserError', message: `model version fields ${changed.join(', ')} are immutable` } } };
            }
          }
          const { status, stored } = put(versionId, rest[3], 'Microsoft.MachineLearningServices/workspaces/models/versions', { ...properties, provisioningState: 'Succeeded' });
          return { status, json: envelope(stored) };
        }
        return existing ? { status: 200, json: envelope(existing) } : notFound();
      }
    }

    // environments/<name>/versions/<version>
    if (rest[0] === 'environments' && rest[2] === 'versions' && rest.length === 4) {
      if (method === 'PUT') {
        const { status, stored } = put(resourceId, rest[3], 'Microsoft.MachineLearningServices/workspaces/environments/versions', { ...properties, provisioningState: 'Succeeded' });
        return { status, json: envelope(stored) };
      }
      const stored = resources.get(resourceId.toLowerCase());
      return stored ? { status: 200, json: envelope(stored) } : notFound();
    }

    // computes/<name>
    if (rest[0] === 'computes' && rest.length === 2) {
      if (method === 'PUT') {
        const { status, stored } = put(resourceId, rest[1], 'Microsoft.MachineLearningServices/workspaces/computes', { ...properties, provisioningState: 'Succeeded' });
        return { status, json: { ...envelope(stored), location: document.location } };
      }
      const stored = resources.get(resourceId.toLowerCase());
      return stored ? { status: 200, json: envelope(stored) } : notFound();
    }

    // jobs/<name>[/cancel]
    if (rest[0] === 'jobs' && rest.length >= 2) {
      const name = rest[1];
      const job = jobs.get(name);
      if (rest.length === 3 && rest[2] === 'cancel' && method === 'POST') {
        if (!job) return notFound();
        job.cancelRequested = true;
        if (job.status === 'Queued' || job.status === 'NotStarted') job.status = 'Canceled';
        else if (job.status === 'Running') job.status = 'CancelRequested';
        return { status: 200 };
      }
      if (rest.length !== 2) return notFound();
      if (method === 'PUT') {
        if (job) return { status: 400, json: { error: { code: 'UserError', message: `job ${name} exists; jobs are immutable` } } };
        const created: FakeJob = { name, properties: { ...properties }, status: 'Queued', cancelRequested: false };
        jobs.set(name, created);
        setImmediate(() => void startJob(created));
        return { status: 201, json: { id: resourceId, name, type: 'Microsoft.MachineLearningServices/workspaces/jobs', properties: { ...created.properties, status: 'Queued' } } };
      }
      if (!job) return notFound();
      return { status: 200, json: { id: resourceId, name, type: 'Microsoft.MachineLearningServices/workspaces/jobs', properties: { ...job.properties, status: job.status } } };
    }
    return notFound();
  }

  const server: Server = createServer({ key: privateKey, cert: certificate }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', endpoint);
      const query = Object.fromEntries(url.searchParams.entries());
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: request.method ?? 'GET', path: url.pathname, query, headers: { ...request.headers }, body });
      const reply = (status: number, json?: unknown, headers: Record<string, string> = {}): void => {
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': String(requests.length), ...headers });
        response.end(json === undefined ? '' : JSON.stringify(json));
      };
      if (!/^Bearer \S+$/.test(String(request.headers.authorization ?? ''))) {
        return reply(401, { error: { code: 'AuthenticationFailed', message: 'no bearer token' } });
      }
      if (query['api-version'] !== apiVersion) {
        return reply(400, { error: { code: 'InvalidApiVersionParameter', message: `api-version must be ${apiVersion}, got ${query['api-version']}` } });
      }
      if (failures > 0) {
        failures -= 1;
        return reply(503, { error: { code: 'ServiceUnavailable', message: 'try again' } }, { 'retry-after': '0' });
      }
      try {
        const { status, json, headers } = handle(request.method ?? 'GET', url.pathname, query, body);
        reply(status, json, headers);
      } catch (error) {
        reply(400, { error: { code: 'BadRequest', message: String(error) } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  (state as { endpoint: string }).endpoint = endpoint;
  return state;
}

/** A TokenCredential that hands out a fixed token (the fake accepts any bearer token). */
export const staticTokenCredential = {
  getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
