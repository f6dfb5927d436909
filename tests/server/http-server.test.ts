/**
 * A real server (startServer) on an ephemeral loopback port: the typed client compiles against the
 * app and works against it, bodies over the limit are refused on the wire (Content-Length and
 * chunked), the prediction log ships its segments to the log's directory, and close() drains
 * in-flight requests, then writes and ships every prediction before stopping.
 */
import { connect } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { API_KEY, AUTHORIZED, batchScoring } from './harness';
import { FEATURE_COUNT } from '../../core/features/spec';
import { createLocalObjectStorage } from '../../providers/local/object-storage';
import { createPredictionClient, type BasketRequest } from '../../server/client';
import { silentLogger } from '../../server/logger';
import { resolveServerSettings, startServer, type ServerHandle } from '../../server/main';
import { temporaryDirectory } from '../helpers/paths';
import { segmentFiles, shippedRecords } from '../helpers/prediction-log';
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
      // the lake's layout: segments below predictions/ of the storage (serve opens the storage)
      predictionLogStorage: createLocalObjectStorage({ root: logDirectory.path }),
      predictionLogSpoolDirectory: path.join(logDirectory.path, 'spool'),
      pollIntervalMs: 0,
      logger: silentLogger,
      environment: {},
      limits: { maxSingleBodyBytes: 32 * 1024 },
      // large batches at once (draining): a budget above what they take, so that none is shed
      latencyBudgetMs: 600_000,
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

  it('answers what Node\'s HTTP parser refuses with problem documents, and closes the connection', async () => {
    const { port } = new URL(server.url);
    /** Sends raw bytes; resolves with the status line, the headers and the body once the server closes. */
    const exchange = (text: string) =>
      new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
        let received = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => {
          received += chunk;
        });
        socket.on('error', reject);
        socket.on('close', () => {
          const [head, ...rest] = received.split('\r\n\r\n');
          const [statusLine, ...lines] = head.split('\r\n');
          const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
          resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
        });
      });
    const cases: readonly (readonly [name: string, request: string, status: number, kind: string, detail: RegExp])[] = [
      [
        'Content-Length with Transfer-Encoding',
        'POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
        'bad-request',
        /Content-Length|Transfer-Encoding/,
      ],
      ['a Content-Length that is not a number', 'POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'bad-request', /Content-Length/],
      ['two different Content-Lengths', 'POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 400, 'bad-request', /./],
      ['not HTTP at all', 'HELLO\r\n\r\n', 400, 'bad-request', /not valid HTTP/],
      ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'x'.repeat(20_000)}\r\n\r\n`, 431, 'headers-too-large', /headers are larger/],
    ];
    for (const [name, request, status, kind, detail] of cases) {
      const answer = await exchange(request);
      expect(answer.status, name).toBe(status);
      expect(answer.headers['content-type'], name).toBe('application/problem+json');
      expect(answer.headers.connection, name).toBe('close');
      const document = JSON.parse(answer.body) as { type: string; status: number; detail: string; requestId: string };
      expect(document, name).toMatchObject({ type: `urn:retail-mlops:problem:${kind}`, status });
      expect(document.detail, name).toMatch(detail);
      expect(document.requestId, name).toBe(answer.headers['x-request-id']);
      expect(Number(answer.headers['content-length']), name).toBe(Buffer.byteLength(answer.body));
    }
    // and the server keeps serving
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
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
    const base = { RETAIL_MLOPS_REGISTRY: '/r', RETAIL_MLOPS_API_KEYS: API_KEY };
    expect(resolveServerSettings({ registry, environment: base })).toMatchObject({ drainDelayMs: 0, latencyBudgetMs: 100 });
    expect(resolveServerSettings({ registry, environment: { ...base, RETAIL_MLOPS_DRAIN_DELAY_MS: '5000', RETAIL_MLOPS_LATENCY_BUDGET_MS: '250' } })).toMatchObject({ drainDelayMs: 5000, latencyBudgetMs: 250 });
    expect(resolveServerSettings({ registry, drainDelayMs: 10, latencyBudgetMs: 20, environment: { ...base, RETAIL_MLOPS_DRAIN_DELAY_MS: '5000', RETAIL_MLOPS_LATENCY_BUDGET_MS: '250' } })).toMatchObject({
      drainDelayMs: 10,
      latencyBudgetMs: 20,
    });
    expect(() => resolveServerSettings({ registry, environment: { ...base, RETAIL_MLOPS_DRAIN_DELAY_MS: 'soon', RETAIL_MLOPS_LATENCY_BUDGET_MS: '0' } })).toThrow(
      /drain delay must be an integer ≥ 0 \(milliseconds\), got "soon".*latency budget must be an integer ≥ 1 \(milliseconds\), got "0"/,
    );
  });

  it('refuses a prediction-log directory named without a storage opened on it (the server opens no storage itself)', async () => {
    await expect(startServer({ registry: fixture.registry, port: 0, host: '127.0.0.1', apiKeys: [API_KEY], environment: { RETAIL_MLOPS_PREDICTION_LOG: logDirectory.path }, logger: silentLogger })).rejects.toThrow(
      /prediction log directory .* is named without predictionLogStorage/,
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

  it('ships the prediction log as segments, every one written and uploaded on close, after draining', async () => {
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

    const shipped = path.join(logDirectory.path, 'predictions');
    const files = segmentFiles(shipped);
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((file) => /^date=\d{4}-\d\d-\d\d\/predictions-\d{8}T\d{6}Z-[\w.-]+-\d{6}\.jsonl\.gz$/.test(file))).toBe(true);
    const records = shippedRecords(shipped);
    const drained = records.filter((record) => record.requestId.startsWith('drain-'));
    expect(drained).toHaveLength(40_000);
    expect(drained.filter((record) => record.requestId === 'drain-2').map((record) => record.index)).toEqual(Array.from({ length: 10_000 }, (_, index) => index));
    expect(drained[0].features).toHaveLength(FEATURE_COUNT);
    // nothing left behind in the spool but its (released) lock
    expect(segmentFiles(path.join(logDirectory.path, 'spool'))).toEqual([]);
  });
});
