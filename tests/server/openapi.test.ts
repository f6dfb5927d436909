/**
 * The OpenAPI 3.1 document at /openapi.json: it lists every route the app serves, describes the
 * request schemas the workers validate with (limits included), and passes `redocly lint`
 * (@redocly/cli 2.77.0, offline, the recommended rules).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY } from './harness';
import { createLocalRegistry } from '../../providers/local/registry';
import { createApp } from '../../server/app';
import { createApiKeyAuthenticator } from '../../server/auth';
import { ModelService } from '../../server/models/model-service';
import { REPO_ROOT, temporaryDirectory } from '../helpers/paths';

const run = promisify(execFile);

interface OpenApiOperation {
  readonly operationId?: string;
  readonly security?: unknown[];
  readonly requestBody?: unknown;
  readonly responses: Record<string, unknown>;
}

interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, OpenApiOperation>>;
  readonly components: { readonly schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }> };
}

describe('the OpenAPI document', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let document: OpenApiDocument;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    directory = temporaryDirectory('retail-mlops-openapi-');
    // no model needed: the document describes the app, not the model
    const models = new ModelService({ registry: createLocalRegistry({ root: path.join(directory.path, 'registry') }), requestLimits: { maxLinesPerBasket: 150 } });
    app = createApp({ models, auth: createApiKeyAuthenticator([API_KEY]) });
    const response = await app.request('/openapi.json');
    expect(response.status).toBe(200);
    document = (await response.json()) as OpenApiDocument;
  });
  afterAll(() => directory?.remove());

  it('is OpenAPI 3.1 and lists every route the app serves, with an operationId each', () => {
    expect(document.openapi).toBe('3.1.0');
    const listed = Object.entries(document.paths).flatMap(([route, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${route}`));
    const served = app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => `${route.method} ${route.path}`)
      .filter((route, index, all) => all.indexOf(route) === index);
    expect(listed.sort()).toEqual(served.sort());
    expect(listed.sort()).toEqual(
      ['POST /v1/predict', 'POST /v1/predict/batch', 'POST /admin/reload', 'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json'].sort(),
    );
    for (const methods of Object.values(document.paths)) for (const operation of Object.values(methods)) expect(operation.operationId).toMatch(/^[a-z][A-Za-z]+$/);
  });

  it('requires the API key on predictions, an admin key on admin, nothing elsewhere', () => {
    expect(document.paths['/v1/predict'].post.security).toEqual([{ apiKey: [] }]);
    expect(document.paths['/admin/reload'].post.security).toEqual([{ adminKey: [] }]);
    expect(document.paths['/healthz'].get.security).toEqual([]);
    expect(document.paths['/metrics'].get.security).toEqual([]);
  });

  it('describes the request body the workers validate: LGSR names, code patterns, vocabularies, limits', () => {
    const { BasketLine, BasketContext, Basket, BatchRequest } = document.components.schemas;
    expect(BasketLine.properties!.PROD_CODE).toMatchObject({ type: 'string', pattern: '^PRD\\d{7}$' });
    expect(BasketLine.properties!.QUANTITY).toMatchObject({ type: 'integer', minimum: 1 });
    expect(BasketLine.properties!.SPEND).toMatchObject({ type: 'number', minimum: 0 });
    expect(BasketContext.properties!.STORE_FORMAT).toMatchObject({ enum: ['LS', 'MS', 'SS', 'XLS'] });
    expect(BasketContext.properties!.SHOP_WEEKDAY).toMatchObject({ minimum: 1, maximum: 7 });
    expect(BasketContext.properties!.SHOP_HOUR).toMatchObject({ minimum: 0, maximum: 23 });
    expect(Basket.properties!.lines).toMatchObject({ minItems: 1, maxItems: 150 });
    expect(BatchRequest.properties!.baskets).toMatchObject({ maxItems: 10_000 });
    expect(Object.keys(document.paths['/v1/predict'].post.responses).sort()).toEqual(['200', '400', '401', '405', '413', '415', '422', '500', '503']);
  });

  it('documents 405 with Allow on every operation, and 503 with Retry-After where a request can be refused for load or readiness', () => {
    type Described = { headers?: Record<string, unknown>; content?: Record<string, unknown> };
    for (const [route, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const notAllowed = operation.responses['405'] as Described | undefined;
        expect(notAllowed?.headers, `${method} ${route}`).toHaveProperty('Allow');
        expect(Object.keys(notAllowed?.content ?? {})).toEqual(['application/problem+json']);
      }
    }
    for (const [route, method] of [['/v1/predict', 'post'], ['/v1/predict/batch', 'post'], ['/admin/reload', 'post'], ['/readyz', 'get']] as const) {
      expect((document.paths[route][method].responses['503'] as Described).headers, `${method} ${route}`).toHaveProperty('Retry-After');
    }
  });

  it('passes redocly lint (recommended rules)', async () => {
    const file = path.join(directory.path, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    // two recommended rules do not fit: the operations endpoints have no client errors to describe, and
    // the template leaves the license to the team that adopts it
    writeFileSync(path.join(directory.path, 'redocly.yaml'), 'extends:\n  - recommended\nrules:\n  operation-4xx-response: off\n  info-license: off\n');
    const { stdout } = await run(path.join(REPO_ROOT, 'node_modules/.bin/redocly'), ['lint', file, '--format=json'], {
      cwd: directory.path,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { problems: { ruleId: string; severity: string; message: string }[] };
    expect(report.problems.map((problem) => `${problem.severity} ${problem.ruleId}: ${problem.message}`)).toEqual([]);
  });
});
