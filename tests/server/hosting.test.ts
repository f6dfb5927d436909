/**
 * Managed endpoints' contracts (server/hosting/): the same app answers SageMaker's GET /ping and
 * POST /invocations and Azure ML's POST /score without a bearer key, with the predictions /v1/* gives;
 * the keyed API stays keyed; and the container's ENTRYPOINT/CMD make `docker run <image> serve` work.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZED, createTestApp, expectProblem, JSON_HEADERS, type TestApp } from './harness';
import { createLocalRegistry } from '../../providers/local/registry';
import { HOSTING_CONTRACTS, parseHostingMode } from '../../server/hosting/managed-hosting';
import { resolveServerSettings, startServer } from '../../server/main';
import { REPO_ROOT } from '../helpers/paths';
import { servedModelFixture, type ServedModelFixture } from '../helpers/served-model';

describe('RETAIL_MLOPS_HOSTING', () => {
  it('defaults to kubernetes and refuses an unknown mode, naming the known ones', () => {
    expect(parseHostingMode(undefined)).toBe('kubernetes');
    expect(parseHostingMode(' SageMaker ')).toBe('sagemaker');
    expect(() => parseHostingMode('lambda')).toThrow(/kubernetes, sagemaker, azureml.*"lambda"/);
  });

  it('makes API keys optional only where the platform authenticates callers, and binds SageMaker\'s port', () => {
    const registry = createLocalRegistry({ root: path.join(tmpdir(), 'retail-mlops-hosting-settings') });
    expect(() => resolveServerSettings({ registry, environment: {} })).toThrow(/at least one API key is required/);
    const sagemaker = resolveServerSettings({ registry, environment: { RETAIL_MLOPS_HOSTING: 'sagemaker', PORT: '9000' } });
    expect(sagemaker).toMatchObject({ hosting: 'sagemaker', apiKeys: [], port: 9000 });
    expect(resolveServerSettings({ registry, environment: { RETAIL_MLOPS_HOSTING: 'sagemaker', SAGEMAKER_BIND_TO_PORT: '8085' } }).port).toBe(8085);
    expect(resolveServerSettings({ registry, environment: { RETAIL_MLOPS_HOSTING: 'sagemaker' } }).port).toBe(HOSTING_CONTRACTS.sagemaker.port);
    expect(resolveServerSettings({ registry, environment: { RETAIL_MLOPS_HOSTING: 'azureml' } }).hosting).toBe('azureml');
    expect(() => resolveServerSettings({ registry, environment: { RETAIL_MLOPS_HOSTING: 'ecs' } })).toThrow(/RETAIL_MLOPS_HOSTING must be one of/);
  });
});

describe('SageMaker hosting contract (app)', () => {
  let test: TestApp;
  beforeAll(async () => {
    test = await createTestApp({ app: { hosting: 'sagemaker' } });
  });
  afterAll(() => test.close());

  it('answers GET /ping 200 with an empty body once the model is warm', async () => {
    const response = await test.app.request('/ping');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('scores one basket on POST /invocations without a key, as /v1/predict does with one', async () => {
    const basket = test.fixture.baskets[0];
    const invocation = await test.post('/invocations', basket, JSON_HEADERS);
    expect(invocation.status).toBe(200);
    const answer = (await invocation.json()) as { label: string; probabilities: Record<string, number>; modelVersion: string };
    expect(['LA', 'MM', 'UM']).toContain(answer.label);
    expect(answer.modelVersion).toBe(test.fixture.versions.production);
    const keyed = (await (await test.post('/v1/predict', basket, AUTHORIZED)).json()) as { label: string; probabilities: Record<string, number> };
    expect(answer.label).toBe(keyed.label);
    expect(answer.probabilities).toEqual(keyed.probabilities);
  });

  it('scores {"baskets": [...]} as a batch, in order', async () => {
    const baskets = test.fixture.baskets.slice(0, 5);
    const response = await test.post('/invocations', { baskets }, JSON_HEADERS);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { predictions: { label: string }[] };
    expect(answer.predictions).toHaveLength(5);
    for (const [index, basket] of baskets.entries()) {
      const single = (await (await test.post('/invocations', basket, JSON_HEADERS)).json()) as { label: string };
      expect(answer.predictions[index].label).toBe(single.label);
    }
  });

  it('gives the API\'s problem documents for bad input, and keeps /v1/* keyed', async () => {
    await expectProblem(await test.post('/invocations', '{"context":', JSON_HEADERS), 400, 'malformed-json');
    await expectProblem(await test.post('/invocations', { context: {}, lines: [] }, JSON_HEADERS), 422, 'invalid-request');
    await expectProblem(await test.post('/invocations', 'x', { 'content-type': 'text/csv' }), 415, 'unsupported-media-type');
    await expectProblem(await test.post('/v1/predict', test.fixture.baskets[0], JSON_HEADERS), 401, 'unauthorized');
    expect((await test.app.request('/score', { method: 'POST', headers: JSON_HEADERS, body: '{}' })).status).toBe(404);
  });
});

describe('hosting contracts before the model loads, and in the other modes', () => {
  let fixture: ServedModelFixture;
  beforeAll(async () => {
    fixture = await servedModelFixture();
  });
  afterAll(() => fixture.remove());

  it('answers /ping 503 until a model is loaded', async () => {
    const test = await createTestApp({ fixture, start: false, app: { hosting: 'sagemaker' } });
    try {
      await expectProblem(await test.app.request('/ping'), 503, 'model-not-ready');
      await test.models.start();
      expect((await test.app.request('/ping')).status).toBe(200);
    } finally {
      await test.models.close();
    }
  });

  it('azureml: POST /score scores without a key; liveness and readiness are /healthz and /readyz', async () => {
    const test = await createTestApp({ fixture, app: { hosting: 'azureml' } });
    try {
      const contract = HOSTING_CONTRACTS.azureml;
      expect((await test.app.request(contract.livenessPath)).status).toBe(200);
      expect((await test.app.request(contract.readinessPath)).status).toBe(200);
      const response = await test.post(contract.scoringPath, fixture.baskets[1], JSON_HEADERS);
      expect(response.status).toBe(200);
      expect(['LA', 'MM', 'UM']).toContain(((await response.json()) as { label: string }).label);
      expect((await test.app.request('/ping')).status).toBe(404);
    } finally {
      await test.models.close();
    }
  });

  it('kubernetes (the default) adds no unauthenticated scoring route', async () => {
    const test = await createTestApp({ fixture });
    try {
      for (const route of ['/invocations', '/score']) {
        expect((await test.post(route, fixture.baskets[0], JSON_HEADERS)).status).toBe(404);
      }
      expect((await test.app.request('/ping')).status).toBe(404);
    } finally {
      await test.models.close();
    }
  });

  it('a real server started as SageMaker starts it (no keys) answers /ping and /invocations over HTTP', async () => {
    const server = await startServer({
      registry: fixture.registry,
      model: 'production',
      port: 0,
      host: '127.0.0.1',
      pollIntervalMs: 0,
      requestWindowMs: 0,
      logger: { log: () => undefined },
      environment: { RETAIL_MLOPS_HOSTING: 'sagemaker' },
    });
    try {
      expect((await fetch(`${server.url}/ping`)).status).toBe(200);
      const response = await fetch(`${server.url}/invocations`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(fixture.baskets[2]) });
      expect(response.status).toBe(200);
      expect(['LA', 'MM', 'UM']).toContain(((await response.json()) as { label: string }).label);
    } finally {
      await server.close();
    }
  });
});

describe('the container image', () => {
  it('runs `retail-mlops serve` for `docker run <image> serve` (SageMaker replaces CMD with "serve")', () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const instruction = (name: string): string[] => {
      const line = dockerfile.split('\n').find((candidate) => candidate.startsWith(`${name} `));
      expect(line, `${name} in the Dockerfile`).toBeDefined();
      return JSON.parse(line!.slice(name.length + 1)) as string[];
    };
    const entrypoint = instruction('ENTRYPOINT');
    // exec form: arguments given to `docker run` replace CMD and are appended to the ENTRYPOINT
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint[1]).toMatch(/^lib\/bin\/retail-mlops\.js$/);
    expect(entrypoint).toHaveLength(2);
    expect(instruction('CMD')).toEqual(['serve']);
    expect(dockerfile).toMatch(/EXPOSE 8080/);
  });
});
