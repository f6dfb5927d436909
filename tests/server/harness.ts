/**
 * Shared set-up of the server tests: the real served model (tests/helpers/served-model.ts) behind a
 * model service and createApp, with an in-memory prediction log and its own metrics registry.
 */
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { basketBatchFromBaskets } from '../../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../../core/features/compute';
import type { Basket } from '../../core/schema/lgsr';
import type { LinearModelIR } from '../../core/training/model';
import { modelOutputs } from '../../core/training/model-outputs';
import { createApp, type AppDependencies } from '../../server/app';
import { createApiKeyAuthenticator } from '../../server/auth';
import { ModelService, type ModelServiceOptions } from '../../server/models/model-service';
import { createMemoryPredictionLog } from '../../server/prediction-log/sink';
import { PROBLEM_CONTENT_TYPE, problemType, type ProblemDocument, type ProblemKind } from '../../server/problems';
import { servedModelFixture, type ServedModelFixture } from '../helpers/served-model';

export const API_KEY = 'test-api-key-0123456789abcdef';
export const JSON_HEADERS = { 'content-type': 'application/json' } as const;
export const AUTHORIZED = { authorization: `Bearer ${API_KEY}`, ...JSON_HEADERS } as const;
/** The admin key of /admin/* (never a prediction key). */
export const ADMIN_KEY = 'test-admin-key-fedcba9876543210';
export const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` } as const;

export interface TestApp {
  readonly app: ReturnType<typeof createApp>;
  readonly models: ModelService;
  readonly fixture: ServedModelFixture;
  readonly predictionLog: ReturnType<typeof createMemoryPredictionLog>;
  readonly metricsRegistry: Registry;
  /** POSTs JSON (a value is stringified; a string is sent as is) with the API key. */
  post(path: string, body: unknown, headers?: Readonly<Record<string, string>>): Promise<Response>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  readonly models?: Partial<ModelServiceOptions>;
  readonly app?: Partial<AppDependencies>;
  /** Load the model before returning. @default true */
  readonly start?: boolean;
  readonly fixture?: ServedModelFixture;
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const fixture = options.fixture ?? (await servedModelFixture());
  // the tests drive the app from the server's own event loop, whose turns then hold the tests' work
  // too: load shedding is left to the tests about it (they set a budget)
  const models = new ModelService({ registry: fixture.registry, reference: 'production', pollIntervalMs: 0, latencyBudgetMs: 3_600_000, ...options.models });
  const predictionLog = createMemoryPredictionLog();
  const metricsRegistry = new Registry();
  const app = createApp({
    models,
    auth: createApiKeyAuthenticator([API_KEY]),
    adminAuth: createApiKeyAuthenticator([ADMIN_KEY], 'admin key'),
    predictionLog,
    metricsRegistry,
    ...options.app,
  });
  if (options.start ?? true) await models.start();
  return {
    app,
    models,
    fixture,
    predictionLog,
    metricsRegistry,
    post: (path, body, headers = AUTHORIZED) =>
      Promise.resolve(app.request(path, { method: 'POST', headers: { ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })),
    async close() {
      await models.close();
      if (!options.fixture) fixture.remove();
    },
  };
}

/** What batch scoring gives for baskets: the in-process predictor on the features training computes. */
export function batchScoring(
  model: LinearModelIR,
  fixture: ServedModelFixture,
  baskets: readonly Basket[],
): { probabilities: Float32Array; labels: Int32Array } {
  const features = featureMatrix(new BasketFeatures(fixture.statistics), basketBatchFromBaskets(baskets));
  return modelOutputs(model, features, baskets.length);
}

/** Checks a problem response (status, media type, RFC 9457 members) and returns its document. */
export async function expectProblem(response: Response, status: number, kind: ProblemKind): Promise<ProblemDocument> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const document = (await response.json()) as ProblemDocument;
  expect(document).toMatchObject({ type: problemType(kind), status });
  expect(typeof document.title).toBe('string');
  expect(typeof document.instance).toBe('string');
  expect(document.requestId).toBe(response.headers.get('x-request-id'));
  expect(JSON.stringify(document)).not.toMatch(/\bat [\w.<>]+ \(|node:internal|\.ts:\d+/);
  return document;
}

export const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));
