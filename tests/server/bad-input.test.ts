/**
 * Every bad input gets the right 4xx problem document (RFC 9457, application/problem+json, a stable
 * type per kind, no stack traces), and the server keeps serving: a valid request succeeds after each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, API_KEY, AUTHORIZED, createTestApp, expectProblem, JSON_HEADERS, type TestApp } from './harness';
import type { Basket, BasketLine } from '../../core/schema/lgsr';
import type { ProblemKind } from '../../server/problems';

describe('bad input', () => {
  let test: TestApp;
  let basket: Basket;

  beforeAll(async () => {
    test = await createTestApp({ app: { limits: { maxSingleBodyBytes: 64 * 1024, maxBatchBodyBytes: 8 * 1024 * 1024 } } });
    basket = test.fixture.baskets[1];
  });
  afterAll(async () => test?.close());

  async function expectStillServing(): Promise<void> {
    const response = await test.post('/v1/predict', basket);
    expect(response.status).toBe(200);
  }

  const withContext = (changes: Record<string, unknown>): unknown => ({ ...basket, context: { ...basket.context, ...changes } });
  const withLine = (changes: Partial<Record<keyof BasketLine, unknown>>): unknown => ({
    ...basket,
    lines: [{ ...basket.lines[0], ...changes }, ...basket.lines.slice(1)],
  });
  const withoutContextField = (field: string): unknown => {
    const context: Record<string, unknown> = { ...basket.context };
    delete context[field];
    return { ...basket, context };
  };

  /** Bodies are built lazily: the fixture basket is loaded in beforeAll. */
  const cases: readonly (readonly [name: string, status: number, kind: ProblemKind, body: () => unknown, path?: string])[] = [
    ['malformed JSON', 400, 'malformed-json', () => '{"context": {'],
    ['an empty body', 400, 'malformed-json', () => ''],
    ['JSON that is not an object', 422, 'invalid-request', () => '[1, 2, 3]', ''],
    ['a missing context field', 422, 'invalid-request', () => withoutContextField('STORE_REGION'), '/context/STORE_REGION'],
    ['missing lines', 422, 'invalid-request', () => ({ context: basket.context }), '/lines'],
    ['no lines', 422, 'invalid-request', () => ({ ...basket, lines: [] }), '/lines'],
    ['a wrong type (hour as a string)', 422, 'invalid-request', () => withContext({ SHOP_HOUR: '19' }), '/context/SHOP_HOUR'],
    ['an unknown category (store format)', 422, 'invalid-request', () => withContext({ STORE_FORMAT: 'XXL' }), '/context/STORE_FORMAT'],
    ['an unknown category (basket type)', 422, 'invalid-request', () => withContext({ BASKET_TYPE: 'Huge Shop' }), '/context/BASKET_TYPE'],
    ['an unknown region', 422, 'invalid-request', () => withContext({ STORE_REGION: 'X01' }), '/context/STORE_REGION'],
    ['a malformed store code', 422, 'invalid-request', () => withContext({ STORE_CODE: 'SHOP00001' }), '/context/STORE_CODE'],
    ['weekday 0', 422, 'invalid-request', () => withContext({ SHOP_WEEKDAY: 0 }), '/context/SHOP_WEEKDAY'],
    ['weekday 8', 422, 'invalid-request', () => withContext({ SHOP_WEEKDAY: 8 }), '/context/SHOP_WEEKDAY'],
    ['hour 24', 422, 'invalid-request', () => withContext({ SHOP_HOUR: 24 }), '/context/SHOP_HOUR'],
    ['a fractional hour', 422, 'invalid-request', () => withContext({ SHOP_HOUR: 9.5 }), '/context/SHOP_HOUR'],
    ['a malformed product code', 422, 'invalid-request', () => withLine({ PROD_CODE: 'PRD123' }), '/lines/0/PROD_CODE'],
    ['a malformed class code', 422, 'invalid-request', () => withLine({ PROD_CODE_10: 'CL1' }), '/lines/0/PROD_CODE_10'],
    ['a malformed department code', 422, 'invalid-request', () => withLine({ PROD_CODE_20: 'DEPT0001' }), '/lines/0/PROD_CODE_20'],
    ['a malformed group code', 422, 'invalid-request', () => withLine({ PROD_CODE_30: 'g00001' }), '/lines/0/PROD_CODE_30'],
    ['a malformed division code', 422, 'invalid-request', () => withLine({ PROD_CODE_40: 'D1' }), '/lines/0/PROD_CODE_40'],
    ['quantity 0', 422, 'invalid-request', () => withLine({ QUANTITY: 0 }), '/lines/0/QUANTITY'],
    ['a negative quantity', 422, 'invalid-request', () => withLine({ QUANTITY: -2 }), '/lines/0/QUANTITY'],
    ['a fractional quantity', 422, 'invalid-request', () => withLine({ QUANTITY: 1.5 }), '/lines/0/QUANTITY'],
    ['a negative spend', 422, 'invalid-request', () => withLine({ SPEND: -0.01 }), '/lines/0/SPEND'],
    ['spend as a string', 422, 'invalid-request', () => withLine({ SPEND: '1.20' }), '/lines/0/SPEND'],
    ['spend null', 422, 'invalid-request', () => withLine({ SPEND: null }), '/lines/0/SPEND'],
  ];

  const namedCases = cases.map(([name, status, kind, body, path]) => ({ name, status, kind, body, path }));

  it.each(namedCases)('$name → $status $kind', async ({ status, kind, body, path }) => {
    const document = await expectProblem(await test.post('/v1/predict', body()), status, kind);
    if (path !== undefined) expect(document.errors?.map((error) => error.path)).toContain(path);
    await expectStillServing();
  });

  it('a non-finite spend cannot even be sent as JSON (1e999 parses to Infinity) → 422', async () => {
    const text = JSON.stringify(withLine({ SPEND: 12345 })).replace('12345', '1e999');
    const document = await expectProblem(await test.post('/v1/predict', text), 422, 'invalid-request');
    expect(document.errors?.map((error) => error.path)).toContain('/lines/0/SPEND');
  });

  it('lists every violation (up to 20) with JSON Pointers', async () => {
    const document = await expectProblem(await test.post('/v1/predict', withContext({ SHOP_HOUR: 30, SHOP_WEEKDAY: 9, STORE_FORMAT: 'ZZ' })), 422, 'invalid-request');
    expect(document.errors?.map((error) => error.path).sort()).toEqual(['/context/SHOP_HOUR', '/context/SHOP_WEEKDAY', '/context/STORE_FORMAT']);
    const many = { baskets: Array.from({ length: 30 }, () => withLine({ QUANTITY: 0 })) };
    const capped = await expectProblem(await test.post('/v1/predict/batch', many), 422, 'invalid-request');
    expect(capped.errors).toHaveLength(20);
    expect(capped.detail).toMatch(/30 problems; the first 20 are listed/);
  });

  it('too many lines in a basket → 422 limit-exceeded', async () => {
    const lines = Array.from({ length: 201 }, (_, index) => basket.lines[index % basket.lines.length]);
    const document = await expectProblem(await test.post('/v1/predict', { ...basket, lines }), 422, 'limit-exceeded');
    expect(document.detail).toMatch(/more than 200 lines/);
    await expectStillServing();
    // 200 is fine
    expect((await test.post('/v1/predict', { ...basket, lines: lines.slice(0, 200) })).status).toBe(200);
  });

  it('too many baskets in a batch → 422 limit-exceeded; a batch at the cap is served', async () => {
    const small: Basket = { ...basket, lines: basket.lines.slice(0, 1) };
    const document = await expectProblem(await test.post('/v1/predict/batch', { baskets: Array.from({ length: 10_001 }, () => small) }), 422, 'limit-exceeded');
    expect(document.detail).toMatch(/more than 10000 baskets/);
    const atCap = await test.post('/v1/predict/batch', { baskets: Array.from({ length: 10_000 }, () => small) });
    expect(atCap.status).toBe(200);
    expect(((await atCap.json()) as { predictions: unknown[] }).predictions).toHaveLength(10_000);
  });

  it('an empty batch and a batch without `baskets` → 422', async () => {
    await expectProblem(await test.post('/v1/predict/batch', { baskets: [] }), 422, 'invalid-request');
    await expectProblem(await test.post('/v1/predict/batch', basket), 422, 'invalid-request');
    await expectProblem(await test.post('/v1/predict/batch', { baskets: [basket, { context: basket.context }] }), 422, 'invalid-request');
  });

  it('an oversized body → 413 before it is parsed', async () => {
    const oversized = JSON.stringify({ ...basket, padding: 'x'.repeat(70 * 1024) });
    const document = await expectProblem(await test.post('/v1/predict', oversized), 413, 'payload-too-large');
    expect(document.detail).toMatch(/65536 bytes/);
    await expectStillServing();
  });

  it('a body that is not JSON by its media type → 415 (application/json only, in UTF-8)', async () => {
    const withType = (contentType: string) => ({ 'authorization': `Bearer ${API_KEY}`, 'content-type': contentType });
    for (const contentType of ['text/plain', 'application/evil+json', 'application/problem+json', 'application/jsonx', 'application/json; charset=latin1', 'application/json; charset="iso-8859-1"']) {
      await expectProblem(await test.post('/v1/predict', JSON.stringify(basket), withType(contentType)), 415, 'unsupported-media-type');
    }
    await expectProblem(await test.post('/v1/predict', JSON.stringify(basket), { authorization: `Bearer ${API_KEY}` }), 415, 'unsupported-media-type');
    // application/json with parameters, a UTF-8 charset, any case, is fine
    for (const contentType of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset="UTF-8"', 'application/json; version=1']) {
      expect((await test.post('/v1/predict', basket, withType(contentType))).status, contentType).toBe(200);
    }
  });

  it('no API key → 401 with WWW-Authenticate; a wrong key or scheme → 401 invalid_token', async () => {
    const missing = await test.post('/v1/predict', basket, JSON_HEADERS);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="retail-mlops"');
    await expectProblem(missing, 401, 'unauthorized');
    for (const authorization of [`Bearer ${API_KEY}x`, `Bearer ${API_KEY.slice(0, -1)}`, `Basic ${API_KEY}`, 'Bearer', `Bearer ${API_KEY} extra`]) {
      const wrong = await test.post('/v1/predict', basket, { ...JSON_HEADERS, authorization });
      expect(wrong.headers.get('www-authenticate'), authorization).toContain('error="invalid_token"');
      await expectProblem(wrong, 401, 'unauthorized');
    }
    await expectProblem(await test.post('/v1/predict/batch', { baskets: [basket] }, JSON_HEADERS), 401, 'unauthorized');
    await expectProblem(await test.post('/admin/reload', '', {}), 401, 'unauthorized');
    await expectStillServing();
  });

  it('admin endpoints take admin keys only: a prediction key → 403, an admin key cannot predict → 401', async () => {
    const withPredictionKey = await expectProblem(await test.post('/admin/reload', '', { authorization: `Bearer ${API_KEY}` }), 403, 'forbidden');
    expect(withPredictionKey.detail).toMatch(/use an admin key/);
    await expectProblem(await test.post('/admin/reload', '', { authorization: `Bearer ${API_KEY}x` }), 401, 'unauthorized');
    expect((await test.post('/admin/reload', '', ADMIN)).status).toBe(200);
    await expectProblem(await test.post('/v1/predict', basket, { ...JSON_HEADERS, ...ADMIN }), 401, 'unauthorized');
    await expectStillServing();
  });

  it('without admin keys the admin endpoints are off (403 to every valid key)', async () => {
    const noAdmin = await createTestApp({ fixture: test.fixture, app: { adminAuth: undefined } });
    try {
      const document = await expectProblem(await noAdmin.post('/admin/reload', '', { authorization: `Bearer ${API_KEY}` }), 403, 'forbidden');
      expect(document.detail).toMatch(/no admin keys are configured/);
      await expectProblem(await noAdmin.post('/admin/reload', '', ADMIN), 401, 'unauthorized');
    } finally {
      await noAdmin.close();
    }
  });

  it('health, readiness, metrics and the OpenAPI document need no key', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) expect((await test.app.request(path)).status, path).toBe(200);
  });

  it('an unknown route → 404 problem; a wrong method on a route → 405 problem with Allow', async () => {
    await expectProblem(await test.app.request('/v2/predict'), 404, 'not-found');
    const wrongMethods: readonly (readonly [method: string, path: string, allow: string])[] = [
      ['GET', '/v1/predict', 'POST'],
      ['PUT', '/v1/predict/batch', 'POST'],
      ['DELETE', '/admin/reload', 'POST'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['PATCH', '/metrics', 'GET, HEAD'],
      ['OPTIONS', '/openapi.json', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of wrongMethods) {
      const response = await test.app.request(path, { method, headers: AUTHORIZED });
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect((await expectProblem(response, 405, 'method-not-allowed')).detail).toContain(method);
    }
    // HEAD is answered where GET is
    expect((await test.app.request('/healthz', { method: 'HEAD' })).status).toBe(200);
  });
});

describe('overload and timeouts', () => {
  /** Some requests served, some refused with 503 overloaded and the given Retry-After; nothing else. Returns a refused one's problem. */
  async function expectSomeShed(responses: readonly Response[], retryAfter: string) {
    const statuses = responses.map((response) => response.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    const refused = responses.find((response) => response.status === 503)!;
    expect(refused.headers.get('retry-after')).toBe(retryAfter);
    return expectProblem(refused, 503, 'overloaded');
  }

  it('answers 503 overloaded with Retry-After when the queue is full, rather than queueing, and recovers', async () => {
    const test = await createTestApp({ models: { maxQueuedRequests: 2, inferenceWorkers: 1 }, app: { limits: { retryAfterSeconds: 2 } } });
    try {
      const basket = test.fixture.baskets[0];
      await expectSomeShed(await Promise.all(Array.from({ length: 40 }, () => test.post('/v1/predict', basket))), '2');
      expect((await test.post('/v1/predict', basket)).status).toBe(200);
    } finally {
      await test.close();
    }
  });

  it('sheds on expected wait: over the latency budget a request gets 503 overloaded with Retry-After at once; the rest are served', async () => {
    const test = await createTestApp({ models: { latencyBudgetMs: 1 }, app: { limits: { retryAfterSeconds: 3 } } });
    try {
      const { baskets } = test.fixture;
      const batchOf = (count: number, offset: number) => ({ baskets: Array.from({ length: count }, (_, index) => baskets[(offset + index) % baskets.length]) });
      // the workers show what a unit of work costs (a few hundred kilobytes) before any request is shed
      expect((await test.post('/v1/predict/batch', batchOf(400, 0))).status).toBe(200);
      const responses = await Promise.all(Array.from({ length: 30 }, (_, index) => test.post('/v1/predict/batch', batchOf(100, index * 100))));
      expect((await expectSomeShed(responses, '3')).detail).toMatch(/over the latency budget of 1 ms/);
      // nothing ahead: served again
      expect((await test.post('/v1/predict', test.fixture.baskets[0])).status).toBe(200);
    } finally {
      await test.close();
    }
  });

  it('answers 503 request-timeout when a prediction takes longer than the request timeout', async () => {
    const test = await createTestApp({ app: { limits: { requestTimeoutMs: 5, maxBatchBodyBytes: 16 * 1024 * 1024 } } });
    try {
      const baskets = Array.from({ length: 10_000 }, (_, index) => test.fixture.baskets[index % test.fixture.baskets.length]);
      const response = await test.post('/v1/predict/batch', { baskets });
      expect(response.headers.get('retry-after')).toBe('1');
      await expectProblem(response, 503, 'request-timeout');
    } finally {
      await test.close();
    }
  });
});
