/**
 * The prediction API as a Hono app. `createApp(deps)` only builds it from what it is given (the model
 * service, API keys, clock, logger, metrics registry, prediction log): it binds no port, starts no
 * timer and loads nothing, so tests drive it with `app.request()` and main.ts serves it.
 *
 * Routes (OpenAPI 3.1 at /openapi.json): POST /v1/predict, POST /v1/predict/batch, POST /admin/reload
 * (bearer API key), GET /healthz, /readyz, /metrics, /openapi.json (open). Every error is an RFC 9457
 * problem document, rendered by the one `onError` below; a known path asked with another method
 * answers 405 with `Allow`.
 *
 * `createServerApp(deps)` also gives the prediction routes' fast path on node:http (fast-predict.ts),
 * built from the same rules (http-rules.ts), limits and metrics; main.ts puts it in front of the app.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler, TypedResponse } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import type { JSONParsed } from 'hono/utils/types';
import { Registry } from 'prom-client';
import { bearerToken, type ApiKeyAuthenticator } from './auth';
import { createFastPredictHandler, type NodeRequestHandler } from './fast-predict';
import { HOSTING_ROUTES, mountHostingRoutes, type HostingMode } from './hosting/managed-hosting';
import { isJsonMediaType, outcomeProblem, predictionAnswer, problemOfError, requestIdOf, ROUTE_METHODS } from './http-rules';
import type { BodyShape } from './inference/protocol';
import { silentLogger, type ServerLogger } from './logger';
import { createServerMetrics } from './metrics';
import type { ModelService } from './models/model-service';
import type { ServedModel } from './models/served-model';
import { disabledPredictionLog, type PredictionLogSink } from './prediction-log/sink';
import { ProblemException, problemResponse } from './problems';
import type { RequestWindow } from './request-window';
import {
  basketSchema,
  BatchPredictResponseSchema,
  batchRequestSchema,
  HealthSchema,
  PredictResponseSchema,
  ProblemSchema,
  ReadinessSchema,
  ReloadResponseSchema,
  type BasketRequest,
  type BatchRequest,
} from './schemas';
import { SERVER_VARIABLES } from './settings';
import { ProblemCollector, RetailMlopsError } from '../core/errors';

/** Wall-clock time (the prediction log's timestamps); injected so tests can fix it. */
export interface Clock {
  /** Epoch milliseconds (prediction-log timestamps). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Request limits of the HTTP layer; every field is optional (basket limits: ModelServiceOptions.requestLimits). */
export interface AppLimits {
  /** Body size of POST /v1/predict. @default 262_144 (256 KiB) */
  readonly maxSingleBodyBytes?: number;
  /** Body size of POST /v1/predict/batch. @default 33_554_432 (32 MiB) */
  readonly maxBatchBodyBytes?: number;
  /** A prediction request not answered by then (waiting or running) gets 503 request-timeout. @default 10_000 */
  readonly requestTimeoutMs?: number;
  /** The `Retry-After` of 503 answers, in seconds. @default 1 */
  readonly retryAfterSeconds?: number;
}

export interface AppDependencies {
  /** The model source: registry + pinned reference, loading and hot swaps. */
  readonly models: ModelService;
  /** Checks the bearer API keys of /v1/*. */
  readonly auth: ApiKeyAuthenticator;
  /**
   * Checks the bearer keys of /admin/* (model reloads), which are never prediction keys: a prediction
   * key there gets 403. @default none: /admin/* answers 403 to every key
   */
  readonly adminAuth?: ApiKeyAuthenticator;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: ServerLogger;
  /** Where the metrics are registered (and /metrics reads). @default a new prom-client Registry */
  readonly metricsRegistry?: Registry;
  /** Receives every prediction. @default disabledPredictionLog */
  readonly predictionLog?: PredictionLogSink;
  /** Receives every /v1/* request's duration and status (the `http.window` log events). @default none */
  readonly requestWindow?: RequestWindow;
  /** A started event-loop delay monitor, reported in /metrics. @default none */
  readonly eventLoopDelay?: IntervalHistogram;
  /** True once shutdown began: readiness answers 503, the fast path leaves requests to the app. @default never */
  readonly isDraining?: () => boolean;
  /**
   * Asked on every answer: true while answers should carry `Connection: close` (so that keep-alive
   * clients and load balancers move away). @default isDraining
   */
  readonly closesConnections?: () => boolean;
  readonly limits?: AppLimits;
  /** Also answer a managed endpoint's contract (server/hosting/). @default 'kubernetes' (nothing added) */
  readonly hosting?: HostingMode;
}

interface ResolvedLimits {
  readonly maxSingleBodyBytes: number;
  readonly maxBatchBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly retryAfterSeconds: number;
}

type AppEnvironment = { Variables: { requestId: string; body: Uint8Array } };

const problemContent = { 'application/problem+json': { schema: ProblemSchema } } as const;
const problem = (description: string) => ({ description, content: problemContent });
/** The problem answers a route may give, by status (kinds in parentheses). */
const PROBLEMS = {
  400: problem('Malformed JSON (malformed-json), or nested too deeply / too many JSON values for a valid body (body-too-complex)'),
  401: problem('Missing or wrong API key (unauthorized)'),
  403: problem('A prediction key on an admin endpoint, or admin endpoints off (forbidden)'),
  405: {
    description: 'The path does not answer this method (method-not-allowed); `Allow` lists the methods it answers',
    headers: { Allow: { description: 'The methods this path answers', schema: { type: 'string' as const } } },
    content: problemContent,
  },
  413: problem('Body too large (payload-too-large)'),
  415: problem('Body is not application/json (unsupported-media-type)'),
  422: problem('Schema violation (invalid-request), a size limit exceeded (limit-exceeded) or a refused model (model-refused)'),
  500: problem('Internal error (internal)'),
  502: problem('The registry failed to provide the model (registry-unavailable)'),
  503: {
    description:
      'No model yet (model-not-ready), over the latency budget or queue full (overloaded: answered at once), not answered within the request timeout (request-timeout) or shutdown (shutting-down)',
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const } } },
    content: problemContent,
  },
} as const;

function resolveLimits(limits: AppLimits = {}): ResolvedLimits {
  const resolved: ResolvedLimits = {
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

/** The app and its prediction fast path, sharing limits, metrics and rules. */
export interface ServerApp {
  readonly app: AppType;
  /** The prediction routes on node:http (fast-predict.ts); put it in front of the app's listener. */
  readonly fastPredict: NodeRequestHandler;
}

/**
 * Builds the app. Validates the limits eagerly (InvalidOptionsError listing every problem).
 */
export function createApp(deps: AppDependencies) {
  return buildApp(deps).app;
}

/** The app and the fast path in front of it (see ServerApp). @throws InvalidOptionsError */
export function createServerApp(deps: AppDependencies): ServerApp {
  return buildApp(deps);
}

function buildApp(deps: AppDependencies) {
  const limits = resolveLimits(deps.limits);
  const { models, auth } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const registry = deps.metricsRegistry ?? new Registry();
  const predictionLog = deps.predictionLog ?? disabledPredictionLog;
  const isDraining = deps.isDraining ?? (() => false);
  const closesConnections = deps.closesConnections ?? isDraining;
  const metrics = createServerMetrics(registry, { models, predictionLog, eventLoopDelay: deps.eventLoopDelay });
  const requestLimits = models.requestLimits;

  models.subscribe({
    onPredictions(model, batch) {
      metrics.countPredictions(batch.labels);
      metrics.batchRows.observe(batch.rows);
      predictionLog.append({
        time: clock.now(),
        modelVersion: model.id,
        featureSpecVersion: model.info.featureSpecVersion,
        featureCount: batch.features.length / Math.max(batch.rows, 1),
        requestIds: batch.requestIds,
        rowsPerRequest: batch.rowsPerRequest,
        features: batch.features,
        basketIds: batch.basketIds,
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

  const app = new OpenAPIHono<AppEnvironment>();

  app.onError((error, c) => {
    const { kind, options } = problemOfError(error, limits.retryAfterSeconds);
    if (kind === 'internal') {
      logger.log('error', 'request.failed', { requestId: c.get('requestId'), path: c.req.path, error: RetailMlopsError.isInstance(error) || error instanceof Error ? error : String(error) });
    }
    return problemResponse(kind, options, { requestId: c.get('requestId'), path: c.req.path });
  });
  app.notFound((c) => problemResponse('not-found', { detail: `${c.req.method} ${c.req.path}` }, { requestId: c.get('requestId'), path: c.req.path }));

  // one histogram child per route, method and status, kept (prom-client would hash the labels per call)
  const durationByLabels = new Map<string, ReturnType<typeof metrics.requestDuration.labels>>();
  /** What every answered request records: the duration metric, and for /v1/* the request window. */
  const record = (route: string, method: string, status: number, elapsedMs: number): void => {
    const key = `${route} ${method} ${status}`;
    let duration = durationByLabels.get(key);
    if (!duration) {
      duration = metrics.requestDuration.labels({ route, method, status: String(status) });
      durationByLabels.set(key, duration);
    }
    duration.observe(elapsedMs / 1000);
    if (route.startsWith('/v1/')) deps.requestWindow?.record(elapsedMs, status);
  };

  // every request: an id (a well-formed X-Request-Id is kept), duration metric, Connection: close while draining
  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = requestIdOf(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    await next();
    if (closesConnections()) c.res.headers.set('connection', 'close');
    const route = routePath(c, -1);
    record(Object.hasOwn(ROUTE_METHODS, route) || HOSTING_ROUTES.has(route) ? route : 'unmatched', c.req.method, c.res.status, performance.now() - started);
  });
  // a known path asked with another method: 405 with the methods it answers (before any key is asked for)
  app.use('*', async (c, next) => {
    const methods = Object.hasOwn(ROUTE_METHODS, c.req.path) ? ROUTE_METHODS[c.req.path] : undefined;
    if (methods && !methods.includes(c.req.method)) {
      throw new ProblemException('method-not-allowed', { detail: `${c.req.path} answers ${methods.join(', ')}, not ${c.req.method}`, headers: { allow: methods.join(', ') } });
    }
    await next();
  });

  /** 401 with the WWW-Authenticate challenge of `realm` (no header, or a key that is not valid). */
  const unauthorized = (header: string | undefined, realm: string, what: string): ProblemException =>
    new ProblemException('unauthorized', {
      detail: header === undefined ? 'no Authorization header' : `the ${what} is not valid`,
      headers: { 'www-authenticate': header === undefined ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="invalid_token"` },
    });
  const authenticate: MiddlewareHandler<AppEnvironment> = async (c, next) => {
    const header = c.req.header('authorization');
    const token = bearerToken(header);
    if (token === undefined || !auth.verify(token)) throw unauthorized(header, 'retail-mlops', 'API key');
    await next();
  };
  const authenticateAdmin: MiddlewareHandler<AppEnvironment> = async (c, next) => {
    const header = c.req.header('authorization');
    const token = bearerToken(header);
    if (token !== undefined && deps.adminAuth?.verify(token)) return next();
    if (token !== undefined && auth.verify(token)) {
      throw new ProblemException('forbidden', {
        detail: deps.adminAuth
          ? `an API key may not use /admin: use an admin key (${SERVER_VARIABLES.adminKeys})`
          : `the admin endpoints are off: no admin keys are configured (${SERVER_VARIABLES.adminKeys})`,
      });
    }
    throw unauthorized(header, 'retail-mlops-admin', 'key');
  };
  app.use('/v1/*', authenticate);
  app.use('/admin/*', authenticateAdmin);

  /**
   * Body size: a Content-Length over the limit is refused before reading (Node's parser holds the body
   * to its Content-Length); a chunked body is counted as it streams (Hono's bodyLimit). The header
   * check matters for speed too: touching `c.req.raw.body` would build a full WHATWG Request.
   */
  const limitBody = (maxBytes: number): MiddlewareHandler<AppEnvironment> => {
    const tooLarge = (): never => {
      throw new ProblemException('payload-too-large', { detail: `the body exceeds ${maxBytes} bytes` });
    };
    const streaming = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
    return async (c, next) => {
      const length = c.req.header('content-length');
      if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
        if (Number(length) > maxBytes) tooLarge();
        return next();
      }
      return streaming(c, next);
    };
  };
  /**
   * Refuses before reading the body when no model serves, or the request would wait longer than the
   * latency budget or find the queue full (cheap under overload: answered at once).
   */
  const admission: MiddlewareHandler<AppEnvironment> = async (c, next) => {
    const refusal = models.model().refusal(Number(c.req.header('content-length') ?? 0) || 0);
    if (refusal) throw refusal;
    await next();
  };
  /**
   * Reads the body as bytes for the prediction workers, which parse, validate (the route's zod
   * schemas) and featurize it off the event loop. Only the media type is checked here.
   */
  const rawBody: MiddlewareHandler<AppEnvironment> = async (c, next) => {
    const contentType = c.req.header('content-type');
    if (!isJsonMediaType(contentType)) {
      throw new ProblemException('unsupported-media-type', { detail: `content-type is ${contentType ? JSON.stringify(contentType) : 'missing'}` });
    }
    c.set('body', new Uint8Array(await c.req.arrayBuffer()));
    // the handler routes' body schema is a type-only pass-through: nothing is parsed on this thread
    c.req.json = (() => NOTHING_PARSED) as typeof c.req.json;
    await next();
  };

  /** The problem answers both prediction routes may give. */
  const predictionProblems = {
    400: PROBLEMS[400],
    401: PROBLEMS[401],
    405: PROBLEMS[405],
    413: PROBLEMS[413],
    415: PROBLEMS[415],
    422: PROBLEMS[422],
    500: PROBLEMS[500],
    503: PROBLEMS[503],
  } as const;
  const predictResponses = {
    200: { description: 'The prediction', content: { 'application/json': { schema: PredictResponseSchema } } },
    ...predictionProblems,
  } as const;
  const predictRoute = createRoute({
    method: 'post',
    path: '/v1/predict',
    operationId: 'predictBasket',
    summary: 'Price sensitivity of one basket',
    description: `The basket's class (LA, MM, UM) and class probabilities. At most ${requestLimits.maxLinesPerBasket} lines; body at most ${limits.maxSingleBodyBytes} bytes.`,
    tags: ['predictions'],
    security: [{ apiKey: [] }],
    request: { body: { required: true, content: { 'application/json': { schema: basketSchema(requestLimits) } } } },
    responses: predictResponses,
  });
  const predictHandlerRoute = createRoute({
    ...predictRoute,
    hide: true,
    middleware: [limitBody(limits.maxSingleBodyBytes), admission, rawBody] as const,
    request: { body: { required: true, content: { 'application/json': { schema: z.custom<BasketRequest>(() => true) } } } },
  });

  const batchResponses = {
    200: { description: 'The predictions, in request order', content: { 'application/json': { schema: BatchPredictResponseSchema } } },
    ...predictionProblems,
  } as const;
  const batchRoute = createRoute({
    method: 'post',
    path: '/v1/predict/batch',
    operationId: 'predictBaskets',
    summary: 'Price sensitivity of many baskets',
    description: `Predictions in request order. At most ${requestLimits.maxBasketsPerBatch} baskets of at most ${requestLimits.maxLinesPerBasket} lines; body at most ${limits.maxBatchBodyBytes} bytes.`,
    tags: ['predictions'],
    security: [{ apiKey: [] }],
    request: { body: { required: true, content: { 'application/json': { schema: batchRequestSchema(requestLimits) } } } },
    responses: batchResponses,
  });
  const batchHandlerRoute = createRoute({
    ...batchRoute,
    hide: true,
    middleware: [limitBody(limits.maxBatchBodyBytes), admission, rawBody] as const,
    request: { body: { required: true, content: { 'application/json': { schema: z.custom<BatchRequest>(() => true) } } } },
  });

  const reloadRoute = createRoute({
    method: 'post',
    path: '/admin/reload',
    operationId: 'reloadModel',
    summary: 'Reload the pinned model now',
    description:
      'Resolves the pinned reference again; a new version is loaded, checked (feature-spec hash, warm-up prediction) beside the serving one and swapped in atomically. A refused model leaves the serving one in place.',
    tags: ['admin'],
    security: [{ adminKey: [] }],
    responses: {
      200: { description: 'The model serving now', content: { 'application/json': { schema: ReloadResponseSchema } } },
      401: PROBLEMS[401],
      405: PROBLEMS[405],
      403: PROBLEMS[403],
      422: PROBLEMS[422],
      502: PROBLEMS[502],
      503: PROBLEMS[503],
    },
  });

  const healthRoute = createRoute({
    method: 'get',
    path: '/healthz',
    operationId: 'getHealth',
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    security: [],
    responses: { 200: { description: 'Alive', content: { 'application/json': { schema: HealthSchema } } }, 405: PROBLEMS[405] },
  });

  const readinessRoute = createRoute({
    method: 'get',
    path: '/readyz',
    operationId: 'getReadiness',
    summary: 'Readiness: a model is loaded and warmed',
    tags: ['operations'],
    security: [],
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
      405: PROBLEMS[405],
      503: PROBLEMS[503],
    },
  });

  const metricsRoute = createRoute({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    tags: ['operations'],
    security: [],
    responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } }, 405: PROBLEMS[405] },
  });

  const openApiRoute = createRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    tags: ['operations'],
    security: [],
    responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: z.looseObject({}) } } }, 405: PROBLEMS[405] },
  });

  const predictionsOf = async (model: ServedModel, shape: BodyShape, c: { get(key: 'requestId'): string; get(key: 'body'): Uint8Array }): Promise<string> => {
    const outcome = await model.predict(shape, c.get('body'), c.get('requestId'), limits.requestTimeoutMs);
    if (!outcome.ok) throw outcomeProblem(outcome);
    return predictionAnswer(model, shape, outcome.predictionsJson, c.get('requestId'));
  };

  app.openAPIRegistry.registerPath(predictRoute);
  app.openAPIRegistry.registerPath(batchRoute);
  // The answers are JSON text: the predictions part comes from the worker that made them (so a
  // 10,000-basket answer costs this thread a concatenation, not 10,000 objects); tests parse every shape.
  const routes = app
    .openapi(predictHandlerRoute, async (c) => jsonText<PredictResponse>(c, await predictionsOf(models.model(), 'basket', c)))
    .openapi(batchHandlerRoute, async (c) => jsonText<BatchPredictResponse>(c, await predictionsOf(models.model(), 'batch', c)))
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
    description: `An API key (${SERVER_VARIABLES.apiKeys}) as a bearer token`,
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminKey', {
    type: 'http',
    scheme: 'bearer',
    description: `An admin key (${SERVER_VARIABLES.adminKeys}) as a bearer token; without admin keys the admin endpoints are off`,
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
          'Price sensitivity (LA, MM, UM) of shopping baskets in the LGSR format. Errors are RFC 9457 problem documents (application/problem+json) whose `type` is `urn:retail-mlops:problem:<kind>`, ' +
          'also for requests that are not valid HTTP/1.1 (400 bad-request, e.g. Content-Length with Transfer-Encoding), whose headers are too large (431 headers-too-large) or that do not arrive in time (408 client-timeout).',
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
  mountHostingRoutes(routes, {
    mode: deps.hosting ?? 'kubernetes',
    models,
    maxBodyBytes: limits.maxBatchBodyBytes,
    requestTimeoutMs: limits.requestTimeoutMs,
    retryAfterSeconds: limits.retryAfterSeconds,
    isDraining,
  });

  const fastPredict = createFastPredictHandler({
    models,
    auth,
    maxBodyBytes: { basket: limits.maxSingleBodyBytes, batch: limits.maxBatchBodyBytes },
    requestTimeoutMs: limits.requestTimeoutMs,
    retryAfterSeconds: limits.retryAfterSeconds,
    isDraining,
    closesConnections,
    record,
    logger,
  });
  return { app: routes, fastPredict };
}

type PredictResponse = z.infer<typeof PredictResponseSchema>;
type BatchPredictResponse = z.infer<typeof BatchPredictResponseSchema>;

/** JSON text answered as 200 and typed as the route's answer (for the typed client). */
function jsonText<T>(c: Context, text: string): TypedResponse<JSONParsed<T>, 200, 'json'> {
  return c.body(text, 200, { 'content-type': 'application/json' }) as unknown as TypedResponse<JSONParsed<T>, 200, 'json'>;
}

/** What the handler routes' pass-through body schema yields (the body is parsed in the workers). */
const NOTHING_PARSED: Promise<undefined> = Promise.resolve(undefined);

/** The app's type: what `hc<AppType>` (client.ts) is typed against. */
export type AppType = ReturnType<typeof buildApp>['app'];

