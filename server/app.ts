/**
 * The prediction API as a Hono app. `createApp(deps)` only builds it from what it is given (the model
 * service, API keys, clock, logger, metrics registry, prediction log): it binds no port, starts no
 * timer and loads nothing, so tests drive it with `app.request()` and main.ts serves it.
 *
 * Routes (OpenAPI 3.1 at /openapi.json): POST /v1/predict, POST /v1/predict/batch, POST /admin/reload
 * (bearer API key), GET /healthz, /readyz, /metrics, /openapi.json (open). Every error is an RFC 9457
 * problem document, rendered by the one `onError` below.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId as requestIdMiddleware } from 'hono/request-id';
import { routePath } from 'hono/route';
import { timeout } from 'hono/timeout';
import type { IntervalHistogram } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import type { ZodError } from 'zod';
import { ProblemCollector, RetailMlopsError } from '../core/errors';
import { PRICE_SENSITIVITY_CLASSES, type Basket } from '../core/schema/lgsr';
import { bearerToken, type ApiKeyAuthenticator } from './auth';
import {
  InferenceQueueFullError,
  InferenceTimeoutError,
  ModelNotReadyError,
  ModelRefusedError,
  ServiceClosingError,
} from './errors';
import { silentLogger, type ServerLogger } from './logger';
import { createServerMetrics } from './metrics';
import type { ModelService } from './models/model-service';
import type { ServedModel } from './models/served-model';
import { disabledPredictionLog, type PredictionLogSink } from './prediction-log/sink';
import { kindOfHttpStatus, ProblemException, problemResponse, type ProblemFieldError, type ProblemKind, type ProblemOptions } from './problems';
import {
  basketSchema,
  BatchPredictResponseSchema,
  batchRequestSchema,
  DEFAULT_REQUEST_LIMITS,
  HealthSchema,
  PredictResponseSchema,
  ProblemSchema,
  ReadinessSchema,
  ReloadResponseSchema,
} from './schemas';

/** Wall-clock and monotonic time. */
export interface Clock {
  /** Epoch milliseconds (prediction-log timestamps). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Request limits; every field is optional. */
export interface AppLimits {
  /** Lines one basket may have. @default 200 */
  readonly maxLinesPerBasket?: number;
  /** Baskets one batch request may have. @default 10_000 */
  readonly maxBasketsPerBatch?: number;
  /** Body size of POST /v1/predict. @default 262_144 (256 KiB) */
  readonly maxSingleBodyBytes?: number;
  /** Body size of POST /v1/predict/batch. @default 33_554_432 (32 MiB) */
  readonly maxBatchBodyBytes?: number;
  /** A prediction request not answered by then gets 503 request-timeout. @default 10_000 */
  readonly requestTimeoutMs?: number;
  /** The `Retry-After` of 503 answers, in seconds. @default 1 */
  readonly retryAfterSeconds?: number;
}

export interface AppDependencies {
  /** The model source: registry + pinned reference, loading and hot swaps. */
  readonly models: ModelService;
  /** Checks the bearer API keys of /v1/* and /admin/*. */
  readonly auth: ApiKeyAuthenticator;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: ServerLogger;
  /** Where the metrics are registered (and /metrics reads). @default a new prom-client Registry */
  readonly metricsRegistry?: Registry;
  /** Receives every prediction. @default disabledPredictionLog */
  readonly predictionLog?: PredictionLogSink;
  /** A started event-loop delay monitor, reported in /metrics. @default none */
  readonly eventLoopDelay?: IntervalHistogram;
  /**
   * Asked on every response: true once shutdown began (responses then carry `Connection: close`,
   * readiness answers 503). @default never
   */
  readonly isDraining?: () => boolean;
  readonly limits?: AppLimits;
}

interface ResolvedLimits {
  readonly maxLinesPerBasket: number;
  readonly maxBasketsPerBatch: number;
  readonly maxSingleBodyBytes: number;
  readonly maxBatchBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly retryAfterSeconds: number;
}

type AppEnvironment = { Variables: { requestId: string } };

/** Errors listed at most in one problem document (the count is in `detail`). */
const MAX_LISTED_ERRORS = 20;

const problemContent = { 'application/problem+json': { schema: ProblemSchema } } as const;
const problem = (description: string) => ({ description, content: problemContent });
/** The problem answers a route may give, by status (kinds in parentheses). */
const PROBLEMS = {
  400: problem('Malformed JSON (malformed-json)'),
  401: problem('Missing or wrong API key (unauthorized)'),
  413: problem('Body too large (payload-too-large)'),
  415: problem('Body is not application/json (unsupported-media-type)'),
  422: problem('Schema violation (invalid-request), a size limit exceeded (limit-exceeded) or a refused model (model-refused)'),
  500: problem('Internal error (internal)'),
  502: problem('The registry failed to provide the model (registry-unavailable)'),
  503: problem('No model yet (model-not-ready), queue full (overloaded), timeout (request-timeout) or shutdown (shutting-down); see Retry-After'),
} as const;

function resolveLimits(limits: AppLimits = {}): ResolvedLimits {
  const resolved: ResolvedLimits = {
    maxLinesPerBasket: limits.maxLinesPerBasket ?? DEFAULT_REQUEST_LIMITS.maxLinesPerBasket,
    maxBasketsPerBatch: limits.maxBasketsPerBatch ?? DEFAULT_REQUEST_LIMITS.maxBasketsPerBatch,
    maxSingleBodyBytes: limits.maxSingleBodyBytes ?? 256 * 1024,
    maxBatchBodyBytes: limits.maxBatchBodyBytes ?? 32 * 1024 * 1024,
    requestTimeoutMs: limits.requestTimeoutMs ?? 10_000,
    retryAfterSeconds: limits.retryAfterSeconds ?? 1,
  };
  const problems = new ProblemCollector('server limits');
  for (const [name, value] of Object.entries(resolved)) {
    problems.check(Number.isInteger(value) && value >= 1, `${name} must be a positive integer, got ${value}`);
  }
  problems.throwIfAny();
  return resolved;
}

/**
 * Builds the app. Validates the limits eagerly (InvalidOptionsError listing every problem).
 */
export function createApp(deps: AppDependencies) {
  const limits = resolveLimits(deps.limits);
  const { models, auth } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const registry = deps.metricsRegistry ?? new Registry();
  const predictionLog = deps.predictionLog ?? disabledPredictionLog;
  const isDraining = deps.isDraining ?? (() => false);
  const metrics = createServerMetrics(registry, { models, predictionLog, eventLoopDelay: deps.eventLoopDelay });
  const singleSchema = basketSchema(limits);
  const batchSchema = batchRequestSchema(limits);

  models.subscribe({
    onPredictions(model, batch) {
      metrics.countPredictions(batch.labels);
      predictionLog.append({
        time: clock.now(),
        modelVersion: model.id,
        featureSpecVersion: model.info.featureSpecVersion,
        featureCount: batch.features.length / Math.max(batch.rows, 1),
        requestIds: batch.requestIds,
        rowsPerRequest: batch.rowsPerRequest,
        features: batch.features,
        probabilities: batch.probabilities,
        labels: batch.labels,
      });
    },
    onModelLoaded(_model, _previous, trigger) {
      metrics.modelReloads.inc({ outcome: 'loaded', trigger });
    },
    onModelRefused(_error, trigger) {
      metrics.modelReloads.inc({ outcome: 'refused', trigger });
    },
  });

  const app = new OpenAPIHono<AppEnvironment>({
    defaultHook: (result) => {
      if (!result.success) throw validationProblem(result.error, limits);
    },
  });

  const problemOf = (error: unknown): { kind: ProblemKind; options: ProblemOptions } => {
    const retry = { retryAfterSeconds: limits.retryAfterSeconds };
    if (error instanceof ProblemException) return { kind: error.kind, options: error.options };
    if (error instanceof HTTPException) {
      const kind = kindOfHttpStatus(error.status);
      return { kind, options: kind === 'internal' ? {} : { detail: error.message, ...(error.status === 503 ? retry : {}) } };
    }
    if (error instanceof InferenceQueueFullError) return { kind: 'overloaded', options: { detail: error.message, ...retry } };
    if (error instanceof InferenceTimeoutError) return { kind: 'request-timeout', options: { detail: error.message, ...retry } };
    if (error instanceof ModelNotReadyError) return { kind: 'model-not-ready', options: { detail: error.message, ...retry } };
    if (error instanceof ServiceClosingError) return { kind: 'shutting-down', options: { detail: error.message, ...retry } };
    if (error instanceof ModelRefusedError) return { kind: error.stage === 'fetch' ? 'registry-unavailable' : 'model-refused', options: { detail: error.message } };
    return { kind: 'internal', options: {} };
  };

  app.onError((error, c) => {
    const { kind, options } = problemOf(error);
    if (kind === 'internal') {
      logger.log('error', 'request.failed', { requestId: c.get('requestId'), path: c.req.path, error: RetailMlopsError.isInstance(error) || error instanceof Error ? error : String(error) });
    }
    return problemResponse(kind, options, { requestId: c.get('requestId'), path: c.req.path });
  });
  app.notFound((c) => problemResponse('not-found', { detail: `${c.req.method} ${c.req.path}` }, { requestId: c.get('requestId'), path: c.req.path }));

  // every request: an id (a well-formed X-Request-Id is kept), duration metric, Connection: close while draining
  app.use('*', requestIdMiddleware({ limitLength: 128 }));
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    if (isDraining()) c.res.headers.set('connection', 'close');
    const route = routePath(c, -1);
    metrics.requestDuration.observe(
      { route: KNOWN_ROUTES.has(route) ? route : 'unmatched', method: c.req.method, status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  });

  const authenticate: MiddlewareHandler<AppEnvironment> = async (c, next) => {
    const header = c.req.header('authorization');
    const token = bearerToken(header);
    if (token === undefined || !auth.verify(token)) {
      throw new ProblemException('unauthorized', {
        detail: header === undefined ? 'no Authorization header' : 'the API key is not valid',
        headers: { 'www-authenticate': header === undefined ? 'Bearer realm="retail-mlops"' : 'Bearer realm="retail-mlops", error="invalid_token"' },
      });
    }
    await next();
  };
  app.use('/v1/*', authenticate);
  app.use('/admin/*', authenticate);
  app.use('/v1/*', timeout(limits.requestTimeoutMs, () => new ProblemException('request-timeout', { detail: `no answer within ${limits.requestTimeoutMs} ms`, retryAfterSeconds: limits.retryAfterSeconds })));

  const payloadTooLarge = (maxBytes: number) => () => {
    throw new ProblemException('payload-too-large', { detail: `the body exceeds ${maxBytes} bytes` });
  };
  /** Refuses before reading the body when no model serves or the queue is full (cheap under overload). */
  const admission: MiddlewareHandler<AppEnvironment> = async (_c, next) => {
    const model = models.model();
    if (!model.hasRoomFor(1)) {
      throw new ProblemException('overloaded', { detail: `the inference queue is full (${model.queuedBaskets} baskets)`, retryAfterSeconds: limits.retryAfterSeconds });
    }
    await next();
  };
  /** Parses the JSON body (cached for the validator) so malformed JSON gets its own problem type. */
  const jsonBody: MiddlewareHandler<AppEnvironment> = async (c, next) => {
    const contentType = c.req.header('content-type');
    if (!contentType || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType)) {
      throw new ProblemException('unsupported-media-type', { detail: `content-type is ${contentType ? JSON.stringify(contentType) : 'missing'}` });
    }
    try {
      await c.req.json();
    } catch (error) {
      throw new ProblemException('malformed-json', { detail: (error as Error).message });
    }
    await next();
  };

  const predictRoute = createRoute({
    method: 'post',
    path: '/v1/predict',
    summary: 'Price sensitivity of one basket',
    description: `The basket's class (LA, MM, UM) and class probabilities. At most ${limits.maxLinesPerBasket} lines; body at most ${limits.maxSingleBodyBytes} bytes.`,
    tags: ['predictions'],
    security: [{ apiKey: [] }],
    middleware: [bodyLimit({ maxSize: limits.maxSingleBodyBytes, onError: payloadTooLarge(limits.maxSingleBodyBytes) }), admission, jsonBody] as const,
    request: { body: { required: true, content: { 'application/json': { schema: singleSchema } } } },
    responses: {
      200: { description: 'The prediction', content: { 'application/json': { schema: PredictResponseSchema } } },
      400: PROBLEMS[400],
      401: PROBLEMS[401],
      413: PROBLEMS[413],
      415: PROBLEMS[415],
      422: PROBLEMS[422],
      500: PROBLEMS[500],
      503: PROBLEMS[503],
    },
  });

  const batchRoute = createRoute({
    method: 'post',
    path: '/v1/predict/batch',
    summary: 'Price sensitivity of many baskets',
    description: `Predictions in request order. At most ${limits.maxBasketsPerBatch} baskets of at most ${limits.maxLinesPerBasket} lines; body at most ${limits.maxBatchBodyBytes} bytes.`,
    tags: ['predictions'],
    security: [{ apiKey: [] }],
    middleware: [bodyLimit({ maxSize: limits.maxBatchBodyBytes, onError: payloadTooLarge(limits.maxBatchBodyBytes) }), admission, jsonBody] as const,
    request: { body: { required: true, content: { 'application/json': { schema: batchSchema } } } },
    responses: {
      200: { description: 'The predictions, in request order', content: { 'application/json': { schema: BatchPredictResponseSchema } } },
      400: PROBLEMS[400],
      401: PROBLEMS[401],
      413: PROBLEMS[413],
      415: PROBLEMS[415],
      422: PROBLEMS[422],
      500: PROBLEMS[500],
      503: PROBLEMS[503],
    },
  });

  const reloadRoute = createRoute({
    method: 'post',
    path: '/admin/reload',
    summary: 'Reload the pinned model now',
    description:
      'Resolves the pinned reference again; a new version is loaded, checked (feature-spec hash, warm-up prediction) beside the serving one and swapped in atomically. A refused model leaves the serving one in place.',
    tags: ['admin'],
    security: [{ apiKey: [] }],
    responses: {
      200: { description: 'The model serving now', content: { 'application/json': { schema: ReloadResponseSchema } } },
      401: PROBLEMS[401],
      422: PROBLEMS[422],
      502: PROBLEMS[502],
      503: PROBLEMS[503],
    },
  });

  const healthRoute = createRoute({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    responses: { 200: { description: 'Alive', content: { 'application/json': { schema: HealthSchema } } } },
  });

  const readinessRoute = createRoute({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: a model is loaded and warmed',
    tags: ['operations'],
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
      503: PROBLEMS[503],
    },
  });

  const metricsRoute = createRoute({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    tags: ['operations'],
    responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
  });

  const openApiRoute = createRoute({
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    tags: ['operations'],
    responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: z.looseObject({}) } } } },
  });

  const predictionOf = (result: { readonly probabilities: Float32Array; readonly labels: Uint8Array }, row: number) => ({
    label: PRICE_SENSITIVITY_CLASSES[result.labels[row]],
    probabilities: {
      LA: result.probabilities[row * 3],
      MM: result.probabilities[row * 3 + 1],
      UM: result.probabilities[row * 3 + 2],
    },
  });
  const servingFields = (model: ServedModel, requestId: string) => ({
    modelVersion: model.id,
    featureSpecVersion: model.info.featureSpecVersion,
    requestId,
  });

  const routes = app
    .openapi(predictRoute, async (c) => {
      const basket: Basket = c.req.valid('json');
      const requestId = c.get('requestId');
      const model = models.model();
      const result = await model.predict([basket], requestId, limits.requestTimeoutMs);
      return c.json({ ...predictionOf(result, 0), ...servingFields(model, requestId) }, 200);
    })
    .openapi(batchRoute, async (c) => {
      const { baskets } = c.req.valid('json');
      const requestId = c.get('requestId');
      const model = models.model();
      const result = await model.predict(baskets, requestId, limits.requestTimeoutMs);
      const predictions = new Array<ReturnType<typeof predictionOf>>(baskets.length);
      for (let row = 0; row < baskets.length; row++) predictions[row] = predictionOf(result, row);
      return c.json({ predictions, ...servingFields(model, requestId) }, 200);
    })
    .openapi(reloadRoute, async (c) => c.json(await models.reload('admin'), 200))
    .openapi(healthRoute, (c) => c.json({ status: 'alive' as const }, 200))
    .openapi(readinessRoute, (c) => {
      const model = models.current;
      if (!models.ready || !model || isDraining()) {
        throw new ProblemException(isDraining() || models.isClosing ? 'shutting-down' : 'model-not-ready', { retryAfterSeconds: limits.retryAfterSeconds });
      }
      return c.json({ status: 'ready' as const, modelVersion: model.id, featureSpecVersion: model.info.featureSpecVersion, loadedAt: model.loadedAt.toISOString() }, 200);
    })
    .openapi(metricsRoute, async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));

  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (RETAIL_MLOPS_API_KEYS) as a bearer token',
  });
  // the document route is served here (its own description is registered above as openApiRoute)
  app.openAPIRegistry.registerPath(openApiRoute);
  let document: unknown;
  routes.get('/openapi.json', (c) => {
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'retail-mlops prediction API',
        version: '1.0.0',
        description:
          'Price sensitivity (LA, MM, UM) of shopping baskets in the LGSR format. Errors are RFC 9457 problem documents (application/problem+json) whose `type` is `urn:retail-mlops:problem:<kind>`.',
        license: { name: 'UNLICENSED' },
      },
      servers: [{ url: '/' }],
      tags: [
        { name: 'predictions', description: 'Basket price-sensitivity predictions' },
        { name: 'admin', description: 'Model lifecycle' },
        { name: 'operations', description: 'Health, readiness, metrics, this document' },
      ],
    });
    return c.json(document as object, 200);
  });
  return routes;
}

/** The app's type: what `hc<AppType>` (client.ts) is typed against. */
export type AppType = ReturnType<typeof createApp>;

const KNOWN_ROUTES = new Set(['/v1/predict', '/v1/predict/batch', '/admin/reload', '/healthz', '/readyz', '/metrics', '/openapi.json']);

/** A zod failure as a problem: the lines/baskets caps get their own kind; every violation listed (up to a bound). */
function validationProblem(error: ZodError, limits: ResolvedLimits): ProblemException {
  const issues = error.issues;
  const errors: ProblemFieldError[] = issues.slice(0, MAX_LISTED_ERRORS).map((issue) => ({ path: pointer(issue.path), message: issue.message }));
  const limitIssue = issues.find(
    (issue) => issue.code === 'too_big' && issue.origin === 'array' && ['lines', 'baskets'].includes(String(issue.path[issue.path.length - 1])),
  );
  const counted = issues.length > MAX_LISTED_ERRORS ? ` (${issues.length} problems; the first ${MAX_LISTED_ERRORS} are listed)` : '';
  if (limitIssue) {
    const what = limitIssue.path[limitIssue.path.length - 1] === 'lines' ? `a basket has more than ${limits.maxLinesPerBasket} lines` : `more than ${limits.maxBasketsPerBatch} baskets`;
    return new ProblemException('limit-exceeded', { detail: `${what} (at ${pointer(limitIssue.path)})${counted}`, errors });
  }
  const first = errors[0];
  return new ProblemException('invalid-request', { detail: `${first ? `${first.path || '/'}: ${first.message}` : 'invalid body'}${counted}`, errors });
}

/** A JSON Pointer (RFC 6901) to a field of the body. */
function pointer(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
