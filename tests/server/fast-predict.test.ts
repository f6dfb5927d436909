/**
 * The prediction fast path on node:http (server/fast-predict.ts) answers exactly as the Hono app
 * does: the same requests sent over a real loopback port (fast path in front of the app, as main.ts
 * wires it) and through `app.request()` (the app alone) get the same status, media type, headers and
 * body (request ids aside). The fast path takes the valid-looking requests and leaves every other one
 * to the app, whose answers then come back unchanged.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, AUTHORIZED } from './harness';
import { createServerApp, type ServerApp } from '../../server/app';
import { createApiKeyAuthenticator } from '../../server/auth';
import { ModelService, type ModelServiceOptions } from '../../server/models/model-service';
import { servedModelFixture, type ServedModelFixture } from '../helpers/served-model';

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | null>>;
  readonly body: unknown;
}

/** What a client sees, with the request id (random unless sent) blanked out. */
async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  const requestId = response.headers.get('x-request-id');
  const body: unknown = JSON.parse(requestId ? text.split(requestId).join('<id>') : text);
  const headers: Record<string, string | null> = {};
  for (const name of ['content-type', 'cache-control', 'retry-after', 'allow', 'www-authenticate']) headers[name] = response.headers.get(name);
  headers['x-request-id'] = requestId === null ? null : 'present';
  return { status: response.status, headers, body };
}

interface Front {
  readonly url: string;
  readonly models: ModelService;
  readonly serverApp: ServerApp;
  /** Requests the fast path left to the app so far. */
  leftToApp(): number;
  close(): Promise<void>;
}

/** The app with the fast path in front, on a loopback port, as main.ts wires them (counting what the fast path leaves). */
async function startFront(fixture: ServedModelFixture, options: Partial<ModelServiceOptions> = {}): Promise<Front> {
  const models = new ModelService({ registry: fixture.registry, reference: 'production', pollIntervalMs: 0, requestLimits: { maxBasketsPerBatch: 50 }, latencyBudgetMs: 3_600_000, ...options });
  const serverApp = createServerApp({
    models,
    auth: createApiKeyAuthenticator([API_KEY]),
    metricsRegistry: new Registry(),
    limits: { maxSingleBodyBytes: 16 * 1024, maxBatchBodyBytes: 512 * 1024, retryAfterSeconds: 2 },
  });
  await models.start();
  const honoListener = getRequestListener(serverApp.app.fetch);
  let left = 0;
  const server = createServer((request, response) => {
    if (serverApp.fastPredict(request, response)) return;
    left += 1;
    void honoListener(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    models,
    serverApp,
    leftToApp: () => left,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await models.close();
    },
  };
}

describe('the prediction fast path', () => {
  let fixture: ServedModelFixture;
  let front: Front;
  let serverApp: ServerApp;
  let url: string;

  beforeAll(async () => {
    fixture = await servedModelFixture();
    front = await startFront(fixture);
    ({ serverApp, url } = front);
  });
  afterAll(async () => {
    await front?.close();
    fixture?.remove();
  });

  /** Sends a request both ways; returns both answers and whether the fast path took it. */
  async function bothWays(path: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ wire: Answer; app: Answer; fast: boolean }> {
    const before = front.leftToApp();
    const wire = await answerOf(await fetch(`${url}${path}`, { method: init.method ?? 'POST', headers: init.headers, body: init.body }));
    const fast = front.leftToApp() === before;
    const app = await answerOf(await serverApp.app.request(path, { method: init.method ?? 'POST', headers: init.headers, body: init.body }));
    return { wire, app, fast };
  }

  it('takes valid prediction requests and answers them as the app does', async () => {
    const basket = JSON.stringify(fixture.baskets[7]);
    const batch = JSON.stringify({ baskets: fixture.baskets.slice(0, 20) });
    for (const [path, body] of [['/v1/predict', basket], ['/v1/predict/batch', batch]] as const) {
      const { wire, app, fast } = await bothWays(path, { headers: AUTHORIZED, body });
      expect(fast, path).toBe(true);
      expect(wire.status).toBe(200);
      expect(wire).toEqual(app);
    }
    // a well-formed request id is kept, as the app keeps it
    const response = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { ...AUTHORIZED, 'x-request-id': 'order-4711' }, body: basket });
    expect(response.headers.get('x-request-id')).toBe('order-4711');
    expect(((await response.json()) as { requestId: string }).requestId).toBe('order-4711');
  });

  it('answers refused bodies (found only by reading them) with the same problems', async () => {
    const basket = fixture.baskets[3];
    const bodies: Record<string, string> = {
      'malformed JSON': '{"context": {',
      'a schema violation': JSON.stringify({ ...basket, lines: [] }),
      'too deep': `{"context":${'['.repeat(40)}${']'.repeat(40)}}`,
      'too many members': JSON.stringify({ ...basket, ...Object.fromEntries(Array.from({ length: 80 }, (_, index) => [`extra${index}`, index])) }),
    };
    for (const [name, body] of Object.entries(bodies)) {
      const { wire, app, fast } = await bothWays('/v1/predict', { headers: AUTHORIZED, body });
      expect(fast, name).toBe(true);
      expect(wire.status, name).toBeGreaterThanOrEqual(400);
      expect(wire, name).toEqual(app);
    }
    const tooMany = JSON.stringify({ baskets: Array.from({ length: 51 }, () => basket) });
    const { wire, app } = await bothWays('/v1/predict/batch', { headers: AUTHORIZED, body: tooMany });
    expect(wire.status).toBe(422);
    expect(wire).toEqual(app);
  });

  it('leaves everything else to the app, whose answer comes back unchanged', async () => {
    const basket = JSON.stringify(fixture.baskets[1]);
    const cases: Record<string, { path: string; method?: string; headers?: Record<string, string>; body?: string }> = {
      'no key': { path: '/v1/predict', headers: { 'content-type': 'application/json' }, body: basket },
      'a wrong key': { path: '/v1/predict', headers: { 'content-type': 'application/json', 'authorization': 'Bearer not-the-key-0123456789' }, body: basket },
      'another media type': { path: '/v1/predict', headers: { 'authorization': `Bearer ${API_KEY}`, 'content-type': 'application/evil+json' }, body: basket },
      'a body over the limit': { path: '/v1/predict', headers: AUTHORIZED, body: JSON.stringify({ ...fixture.baskets[1], padding: 'x'.repeat(20_000) }) },
      'a wrong method': { path: '/v1/predict', method: 'GET', headers: AUTHORIZED },
      'a query string': { path: '/v1/predict?explain=true', headers: AUTHORIZED, body: basket },
      'another route': { path: '/v1/predict/explain', headers: AUTHORIZED, body: basket },
    };
    for (const [name, { path, ...init }] of Object.entries(cases)) {
      const { wire, app, fast } = await bothWays(path, init);
      expect(fast, name).toBe(false);
      expect(wire, name).toEqual(app);
    }
  });

  it('records the same request metrics as the app', async () => {
    const text = await (await serverApp.app.request('/metrics')).text();
    expect(text).toMatch(/retail_mlops_http_request_duration_seconds_count\{route="\/v1\/predict",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/retail_mlops_http_request_duration_seconds_count\{route="\/v1\/predict\/batch",method="POST",status="422"\} \d+/);
  });
});

describe('load shedding on the fast path', () => {
  it('answers a request over the latency budget at once with 503 overloaded and Retry-After, as the app would', async () => {
    const fixture = await servedModelFixture();
    const front = await startFront(fixture, { latencyBudgetMs: 1 });
    try {
      const { baskets } = fixture;
      const batchOf = (count: number, offset: number) => JSON.stringify({ baskets: Array.from({ length: count }, (_, index) => baskets[(offset + index) % baskets.length]) });
      // the workers show what a unit of work costs before anything is shed
      for (let round = 0; round < 8; round++) expect((await fetch(`${front.url}/v1/predict/batch`, { method: 'POST', headers: AUTHORIZED, body: batchOf(50, round * 50) })).status).toBe(200);
      const before = front.leftToApp();
      const responses = await Promise.all(Array.from({ length: 40 }, (_, index) => fetch(`${front.url}/v1/predict/batch`, { method: 'POST', headers: AUTHORIZED, body: batchOf(50, index * 50) })));
      expect(front.leftToApp()).toBe(before);
      const statuses = responses.map((response) => response.status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      const shed = await answerOf(responses.find((response) => response.status === 503)!);
      expect(shed.headers).toMatchObject({ 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'retry-after': '2', 'x-request-id': 'present' });
      expect(shed.body).toMatchObject({ type: 'urn:retail-mlops:problem:overloaded', status: 503, instance: '/v1/predict/batch', detail: expect.stringMatching(/over the latency budget of 1 ms/) });
    } finally {
      await front.close();
      fixture.remove();
    }
  });
});
