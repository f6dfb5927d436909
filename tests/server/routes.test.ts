/**
 * The route table is the routes: the methods a path answers (405 + `Allow`, the metrics' route
 * labels) are derived from what the route modules declare, so the documented operations, the served
 * handlers and the 405 answers cannot drift apart.
 */
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY } from './harness';
import { createLocalRegistry } from '../../providers/local/registry';
import { createApp } from '../../server/app';
import { createApiKeyAuthenticator } from '../../server/auth';
import { routeMethodsOf } from '../../server/http-rules';
import { ModelService } from '../../server/models/model-service';
import { PREDICTION_ROUTES } from '../../server/routes/predictions';
import { temporaryDirectory } from '../helpers/paths';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

describe('the route table', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let app: ReturnType<typeof createApp>;
  let metricsRegistry: Registry;
  let documented: Map<string, string[]>;

  beforeAll(async () => {
    directory = temporaryDirectory('retail-mlops-routes-');
    const models = new ModelService({ registry: createLocalRegistry({ root: path.join(directory.path, 'registry') }) });
    metricsRegistry = new Registry();
    app = createApp({ models, auth: createApiKeyAuthenticator([API_KEY]), metricsRegistry });
    const document = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    documented = new Map(Object.entries(document.paths).map(([route, operations]) => [route, Object.keys(operations).map((method) => method.toUpperCase())]));
  });
  afterAll(() => directory?.remove());

  it('routeMethodsOf lists each path once, skips middleware and adds HEAD beside GET', () => {
    const methods = routeMethodsOf([
      { method: 'ALL', path: '*' },
      { method: 'ALL', path: '/v1/*' },
      { method: 'POST', path: '/a' },
      { method: 'POST', path: '/a' },
      { method: 'GET', path: '/b' },
    ]);
    expect([...methods]).toEqual([
      ['/a', ['POST']],
      ['/b', ['GET', 'HEAD']],
    ]);
  });

  it('every served method and path is documented, and every documented one served', () => {
    const handlers = [...new Set(app.routes.filter((route) => route.method !== 'ALL').map((route) => `${route.method} ${route.path}`))];
    const operations = [...documented].flatMap(([route, methods]) => methods.map((method) => `${method} ${route}`));
    expect(handlers.sort()).toEqual(operations.sort());
  });

  it('each documented path answers 405 with Allow = its documented methods (HEAD with GET) to every other method, and no 405 to those', async () => {
    expect(documented.size).toBe(7);
    for (const [route, methods] of documented) {
      const allowed = methods.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]));
      for (const method of METHODS) {
        const response = await app.request(route, { method });
        if (allowed.includes(method)) {
          expect(response.status, `${method} ${route}`).not.toBe(405);
        } else {
          expect(response.status, `${method} ${route}`).toBe(405);
          expect(response.headers.get('allow'), `${method} ${route}`).toBe(allowed.join(', '));
        }
      }
    }
  });

  it('the fast path takes exactly the documented prediction routes, and requests are labelled by route, else unmatched', async () => {
    expect(Object.keys(PREDICTION_ROUTES).sort()).toEqual([...documented.keys()].filter((route) => route.startsWith('/v1/predict')).sort());
    await app.request('/healthz');
    await app.request('/no-such-route');
    const exposition = await metricsRegistry.metrics();
    expect(exposition).toMatch(/route="\/healthz",method="GET",status="200"/);
    expect(exposition).toMatch(/route="unmatched",method="GET",status="404"/);
    expect(exposition).not.toMatch(/route="\/no-such-route"/);
  });
});
