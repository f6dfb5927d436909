/**
 * No request stalls the others: bodies built to make a JSON parser allocate gigabytes or run for
 * seconds (deep nesting, huge arrays of tiny values, objects with many members, thousands of invalid
 * baskets) are refused with a problem document after a bounded amount of work, before they are
 * parsed where they can be (server/inference/json-bounds.ts), and a normal request sent meanwhile is
 * answered. The bounds never refuse a valid body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, AUTHORIZED } from './harness';
import { jsonBoundsProblem, MAX_JSON_DEPTH, MAX_OBJECT_MEMBERS } from '../../server/inference/json-bounds';
import { silentLogger } from '../../server/logger';
import { startServer, type ServerHandle } from '../../server/main';
import { PROBLEM_CONTENT_TYPE, type ProblemDocument } from '../../server/problems';
import { servedModelFixture, type ServedModelFixture } from '../helpers/served-model';

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

describe('JSON bounds', () => {
  let fixture: ServedModelFixture;
  beforeAll(async () => {
    fixture = await servedModelFixture();
  });
  afterAll(() => fixture?.remove());

  it('never refuse a valid body: every real basket, a batch at the cap, pretty-printed or not', () => {
    for (const basket of fixture.baskets) expect(jsonBoundsProblem(bytes(JSON.stringify(basket)))).toBeUndefined();
    const batch = { baskets: Array.from({ length: 10_000 }, (_, index) => fixture.baskets[index % fixture.baskets.length]) };
    expect(jsonBoundsProblem(bytes(JSON.stringify(batch)))).toBeUndefined();
    expect(jsonBoundsProblem(bytes(JSON.stringify(batch.baskets.slice(0, 100), null, 2)))).toBeUndefined();
    // the densest valid line: shortest values everywhere
    const line = { PROD_CODE: 'PRD0900001', PROD_CODE_10: 'CL00001', PROD_CODE_20: 'DEP00001', PROD_CODE_30: 'G00001', PROD_CODE_40: 'D00001', QUANTITY: 1, SPEND: 0 };
    const dense = { baskets: Array.from({ length: 10_000 }, () => ({ context: fixture.baskets[0].context, lines: Array.from({ length: 20 }, () => line) })) };
    expect(jsonBoundsProblem(bytes(JSON.stringify(dense)))).toBeUndefined();
  });

  it('refuse nesting deeper than the bound, at the first bracket too many', () => {
    const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(jsonBoundsProblem(bytes(nested(MAX_JSON_DEPTH)))).toBeUndefined();
    expect(jsonBoundsProblem(bytes(nested(MAX_JSON_DEPTH + 1)))).toMatchObject({ kind: 'body-too-complex', detail: expect.stringMatching(/deeper than 16 levels/) });
    // unterminated: refused all the same, without reading to the end
    expect(jsonBoundsProblem(bytes(`{"baskets":[${'['.repeat(1_000_000)}`))).toMatchObject({ kind: 'body-too-complex' });
    // brackets inside strings (escaped quotes included) are text, not nesting
    expect(jsonBoundsProblem(bytes(JSON.stringify({ note: `"${'['.repeat(100)}\\"{{{{` })))).toBeUndefined();
  });

  it('refuse objects with too many members, and more tokens than a valid body of the size could hold', () => {
    const members = (count: number): string => JSON.stringify(Object.fromEntries(Array.from({ length: count }, (_, index) => [`key${index}`, index])));
    expect(jsonBoundsProblem(bytes(members(MAX_OBJECT_MEMBERS)))).toBeUndefined();
    expect(jsonBoundsProblem(bytes(members(MAX_OBJECT_MEMBERS + 1)))).toMatchObject({ kind: 'body-too-complex', detail: expect.stringMatching(/more than 64 members/) });
    expect(jsonBoundsProblem(bytes(`{"baskets":[${Array.from({ length: 100_000 }, () => '1').join(',')}]}`))).toMatchObject({
      kind: 'body-too-complex',
      detail: expect.stringMatching(/JSON values and keys in \d+ bytes/),
    });
    // a small invalid body still reaches the schema, which explains it
    expect(jsonBoundsProblem(bytes('[1,2,3]'))).toBeUndefined();
  });
});

describe('hostile bodies on a real port', () => {
  let fixture: ServedModelFixture;
  let server: ServerHandle;

  beforeAll(async () => {
    fixture = await servedModelFixture();
    server = await startServer({
      registry: fixture.registry,
      port: 0,
      host: '127.0.0.1',
      apiKeys: [API_KEY],
      pollIntervalMs: 0,
      logger: silentLogger,
      environment: {},
      // the test's clients share the server's event loop: no shedding for their work
      latencyBudgetMs: 3_600_000,
    });
  });
  afterAll(async () => {
    await server?.close();
    fixture?.remove();
  });

  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = AUTHORIZED) => fetch(`${server.url}${path}`, { method: 'POST', headers, body });

  async function expectRefused(response: Response, status: number, kind: string): Promise<ProblemDocument> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    const document = (await response.json()) as ProblemDocument;
    expect(document.type).toBe(`urn:retail-mlops:problem:${kind}`);
    return document;
  }

  it('refuses six 24 MB bodies of nested arrays inside a valid batch at once, and answers a normal request meanwhile', async () => {
    const valid = JSON.stringify(fixture.baskets[0]);
    const nested = bytes(`{"baskets":[${valid},${'['.repeat(24 * 1024 * 1024)}${']'.repeat(16)}]}`.slice(0, 24 * 1024 * 1024));
    const hostile = Array.from({ length: 6 }, () => post('/v1/predict/batch', nested));
    const normal = await post('/v1/predict', valid);
    expect(normal.status).toBe(200);
    for (const response of await Promise.all(hostile)) {
      expect((await expectRefused(response, 400, 'body-too-complex')).detail).toMatch(/nests deeper than 16 levels/);
    }
    expect((await post('/v1/predict', valid)).status).toBe(200);
  });

  it('refuses huge arrays of tiny values, and objects with many members, as too complex', async () => {
    const ones = `{"baskets":[${'1,'.repeat(8 * 1024 * 1024)}1]}`;
    await expectRefused(await post('/v1/predict/batch', ones), 400, 'body-too-complex');
    const members = JSON.stringify({ ...fixture.baskets[0], ...Object.fromEntries(Array.from({ length: 5000 }, (_, index) => [`extra${index}`, 0])) });
    await expectRefused(await post('/v1/predict', members), 400, 'body-too-complex');
  });

  it('counts at most 1,000 problems of a large batch of invalid baskets, and says so', async () => {
    const broken = { context: { ...fixture.baskets[0].context, SHOP_HOUR: 'noon' }, lines: fixture.baskets[0].lines.slice(0, 3).map((line) => ({ ...line, QUANTITY: 'one', SPEND: 'a lot' })) };
    const body = JSON.stringify({ baskets: Array.from({ length: 10_000 }, () => broken) });
    const document = await expectRefused(await post('/v1/predict/batch', body), 422, 'invalid-request');
    expect(document.detail).toMatch(/at least 1000 problems; the first 20 are listed/);
    expect(document.errors).toHaveLength(20);
    expect(document.errors?.[0].path).toBe('/baskets/0/context/SHOP_HOUR');
  });
});
