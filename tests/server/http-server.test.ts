/**
 * A real server (startServer) on an ephemeral loopback port: the typed client compiles against the
 * app and works against it, bodies over the limit are refused on the wire (Content-Length and
 * chunked), the prediction log lands in rotating JSON-lines files, and close() drains in-flight
 * requests before stopping.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { API_KEY, AUTHORIZED, batchScoring } from './harness';
import { FEATURE_COUNT } from '../../core/features/spec';
import { createPredictionClient, type BasketRequest } from '../../server/client';
import { silentLogger } from '../../server/logger';
import { resolveServerSettings, startServer, type ServerHandle } from '../../server/main';
import type { PredictionLogRecord } from '../../server/prediction-log/sink';
import { temporaryDirectory } from '../helpers/paths';
import { servedModelFixture, type ServedModelFixture } from '../helpers/served-model';

describe('the server on a real port', () => {
  let fixture: ServedModelFixture;
  let server: ServerHandle;
  let logDirectory: ReturnType<typeof temporaryDirectory>;

  beforeAll(async () => {
    fixture = await servedModelFixture();
    logDirectory = temporaryDirectory('retail-mlops-predictions-');
    server = await startServer({
      registry: fixture.registry,
      port: 0,
      host: '127.0.0.1',
      apiKeys: [API_KEY],
      predictionLogDirectory: logDirectory.path,
      pollIntervalMs: 0,
      logger: silentLogger,
      environment: {},
      limits: { maxSingleBodyBytes: 32 * 1024 },
    });
  });
  afterAll(async () => {
    await server?.close();
    fixture?.remove();
    logDirectory?.remove();
  });

  it('serves what the typed client sends, with typed answers and problems', async () => {
    const client = createPredictionClient(server.url, { apiKey: API_KEY });
    const basket: BasketRequest = fixture.baskets[3] as BasketRequest;
    const response = await client.v1.predict.$post({ json: basket });
    expect(response.status).toBe(200);
    if (response.status !== 200) throw new Error('unreachable');
    const prediction = await response.json();
    expectTypeOf(prediction.label).toEqualTypeOf<'LA' | 'MM' | 'UM'>();
    expectTypeOf(prediction.probabilities.UM).toEqualTypeOf<number>();
    const expected = batchScoring(fixture.models.production, fixture, [fixture.baskets[3]]);
    expect(prediction.probabilities.LA).toBeCloseTo(expected.probabilities[0], 5);
    expect(prediction.modelVersion).toBe(fixture.versions.production);

    const batch = await client.v1.predict.batch.$post({ json: { baskets: fixture.baskets.slice(0, 5) as BasketRequest[] } });
    if (batch.status !== 200) throw new Error(`batch answered ${batch.status}`);
    expect((await batch.json()).predictions.map((item) => item.label)).toHaveLength(5);

    const refused = await createPredictionClient(server.url, { apiKey: 'not-the-key-0123456789' }).v1.predict.$post({ json: basket });
    expect(refused.status).toBe(401);
    if (refused.status === 401) {
      const problem = await refused.json();
      expectTypeOf(problem.type).toEqualTypeOf<string>();
      expect(problem.type).toBe('urn:retail-mlops:problem:unauthorized');
    }
    const ready = await client.readyz.$get();
    expect(ready.status).toBe(200);
    // @ts-expect-error the client refuses a body the schema does not describe
    await expect(client.v1.predict.$post({ json: { context: basket.context } })).resolves.toHaveProperty('status', 422);
  });

  it('refuses an oversized body on the wire, by Content-Length and when chunked, and keeps serving', async () => {
    const oversized = JSON.stringify({ ...fixture.baskets[0], padding: 'x'.repeat(40 * 1024) });
    const byLength = await fetch(`${server.url}/v1/predict`, { method: 'POST', headers: AUTHORIZED, body: oversized });
    expect(byLength.status).toBe(413);
    expect(byLength.headers.get('content-type')).toBe('application/problem+json');
    const bytes = new TextEncoder().encode(oversized);
    const chunked = await fetch(`${server.url}/v1/predict`, {
      method: 'POST',
      headers: AUTHORIZED,
      body: new ReadableStream({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += 4096) controller.enqueue(bytes.slice(offset, offset + 4096));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const ok = await fetch(`${server.url}/v1/predict`, { method: 'POST', headers: AUTHORIZED, body: JSON.stringify(fixture.baskets[0]) });
    expect(ok.status).toBe(200);
  });

  it('answers concurrent requests over HTTP as batch scoring does', async () => {
    const sample = fixture.baskets.slice(1000, 1200);
    const bodies = await Promise.all(
      sample.map(async (basket) => {
        const response = await fetch(`${server.url}/v1/predict`, { method: 'POST', headers: AUTHORIZED, body: JSON.stringify(basket) });
        return (await response.json()) as { label: string; probabilities: Record<string, number> };
      }),
    );
    const expected = batchScoring(fixture.models.production, fixture, sample);
    bodies.forEach((body, row) => expect(body.probabilities.MM).toBeCloseTo(expected.probabilities[row * 3 + 1], 5));
  });

  it('reports event-loop lag beside the request metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^retail_mlops_event_loop_lag_seconds\{quantile="0\.99"\} [\d.e-]+$/m);
    expect(text).toMatch(/^retail_mlops_http_request_duration_seconds_count\{route="\/v1\/predict",method="POST",status="200"\} \d+$/m);
  });

  it('reads configuration from the environment, options first, and reports every problem at once', () => {
    const registry = fixture.registry;
    const settings = resolveServerSettings({ registry, environment: { PORT: '9090', RETAIL_MLOPS_API_KEYS: `${API_KEY}, second-key-0123456789` } });
    expect(settings).toMatchObject({ port: 9090, registry, model: 'production', apiKeys: [API_KEY, 'second-key-0123456789'] });
    expect(resolveServerSettings({ registry, port: 0, model: 'v-0123456789ab', environment: { PORT: '9090', RETAIL_MLOPS_MODEL: 'staging', RETAIL_MLOPS_API_KEYS: API_KEY } })).toMatchObject({
      port: 0,
      model: 'v-0123456789ab',
    });
    expect(() => resolveServerSettings({ registry, environment: { PORT: 'eighty', RETAIL_MLOPS_MODEL: 'Bad Model', RETAIL_MLOPS_API_KEYS: 'short' } })).toThrow(
      /model "Bad Model".*port must be.*API key #1 is shorter than 16/,
    );
  });

  it('takes admin keys apart from the API keys: none means admin is off; short or shared keys are refused', () => {
    const base = { RETAIL_MLOPS_API_KEYS: API_KEY };
    const registry = fixture.registry;
    expect(resolveServerSettings({ registry, environment: base }).adminKeys).toEqual([]);
    expect(resolveServerSettings({ registry, environment: { ...base, RETAIL_MLOPS_ADMIN_KEYS: 'admin-key-0123456789abc' } }).adminKeys).toEqual(['admin-key-0123456789abc']);
    expect(resolveServerSettings({ registry, adminKeys: ['admin-key-from-options-01'], environment: { ...base, RETAIL_MLOPS_ADMIN_KEYS: 'admin-key-0123456789abc' } }).adminKeys).toEqual([
      'admin-key-from-options-01',
    ]);
    expect(() => resolveServerSettings({ registry, environment: { ...base, RETAIL_MLOPS_ADMIN_KEYS: `short,${API_KEY}` } })).toThrow(
      /admin key #1 is shorter than 16.*admin key #2 is also an API key/,
    );
    expect(() => resolveServerSettings({ registry, environment: { ...base, RETAIL_MLOPS_ADMIN_KEYS: 'admin-key-0123456789abc', RETAIL_MLOPS_ADMIN_KEYS_FILE: '/x' } })).toThrow(
      /set RETAIL_MLOPS_ADMIN_KEYS or RETAIL_MLOPS_ADMIN_KEYS_FILE, not both/,
    );
  });

  it('writes the prediction log as JSON lines, complete files renamed from .partial on close, after draining', async () => {
    // requests the server has read and is working on when shutdown begins
    const slow = JSON.stringify({ baskets: Array.from({ length: 10_000 }, (_, index) => fixture.baskets[index % fixture.baskets.length]) });
    const inFlight = Array.from({ length: 4 }, (_, index) =>
      fetch(`${server.url}/v1/predict/batch`, { method: 'POST', headers: { ...AUTHORIZED, 'x-request-id': `drain-${index}` }, body: slow }),
    );
    const deadline = Date.now() + 20_000;
    while ((server.models.current?.queuedRequests ?? 0) < inFlight.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(server.models.current?.queuedRequests).toBe(inFlight.length);
    const closing = server.close();
    const statuses = await Promise.all(inFlight.map(async (request) => (await request).status));
    await closing;
    expect(statuses).toEqual([200, 200, 200, 200]);
    // after close the port is free
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();

    const files = readdirSync(logDirectory.path);
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((file) => /^predictions-\d{8}T\d{6}Z-[\w.-]+-\d{4}\.jsonl$/.test(file))).toBe(true);
    const records = files.flatMap((file) =>
      readFileSync(path.join(logDirectory.path, file), 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as PredictionLogRecord),
    );
    const drained = records.filter((record) => record.requestId.startsWith('drain-'));
    expect(drained).toHaveLength(40_000);
    expect(drained.filter((record) => record.requestId === 'drain-2').map((record) => record.index)).toEqual(Array.from({ length: 10_000 }, (_, index) => index));
    expect(drained[0].features).toHaveLength(FEATURE_COUNT);
  });
});
