/**
 * The prediction API as a Hono app. `createApp(deps)` only builds it from what it is given (the model
 * service, API keys, clock, logger, metrics registry, prediction log): it binds no port, starts no
 * timer and loads nothing, so tests drive it with `app.request()` and main.ts serves it.
 *
 * The routes live in routes/ (predictions.ts: POST /v1/predict and /v1/predict/batch behind an API
 * key; admin.ts: POST /admin/reload behind an admin key; operations.ts: GET /healthz, /readyz,
 * /metrics, /openapi.json), each a sub-app mounted here with `app.route()`, and the managed-hosting
 * routes in hosting/. The middleware every request passes is in middleware/; every error is an
 * RFC 9457 problem document, rendered by the one `onError` of problem-mapping.ts; a known path asked
 * with another method answers 405 with `Allow`, from the methods the routes declare.
 *
 * `createServerApp(deps)` also gives the prediction routes' fast path on node:http (fast-predict.ts),
 * built from the same rules (http-rules.ts), limits and metrics; main.ts puts it in front of the app.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { OpenAPIHono } from '@hono/zod-openapi';
import { Registry } from 'prom-client';
import type { AppEnvironment } from './app-environment';
import type { ApiKeyAuthenticator } from './auth';
import { createFastPredictHandler, type NodeRequestHandler } from './fast-predict';
import { HOSTING_ROUTES, mountHostingRoutes, type HostingMode } from './hosting/managed-hosting';
import { routeMethodsOf } from './http-rules';
import { silentLogger, type ServerLogger } from './logger';
import { createServerMetrics } from './metrics';
import { closeConnectionsWhen } from './middleware/connection-close';
import { methodNotAllowed } from './middleware/method-not-allowed';
import { requestId } from './middleware/request-id';
import { createRequestRecorder, recordRequests } from './middleware/request-metrics';
import { recordModelEvents, systemClock, type Clock } from './model-events';
import type { ModelService } from './models/model-service';
import { OPENAPI_DOCUMENT_HEAD } from './openapi';
import { disabledPredictionLog, type PredictionLogSink } from './prediction-log/sink';
import { notFoundProblem, problemErrorHandler } from './problem-mapping';
import type { RequestWindow } from './request-window';
import { adminRoutes } from './routes/admin';
import { operationRoutes } from './routes/operations';
import { predictionRoutes } from './routes/predictions';
import type { ProcessGroupPeers } from './server-processes';
import { ProblemCollector } from '../core/errors';

export type { Clock } from './model-events';

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
  /**
   * The other server processes of `serve --processes` (server-processes.ts): /metrics renders all of
   * theirs, an admin reload reloads them too. @default none: this process alone
   */
  readonly peers?: ProcessGroupPeers;
}

interface ResolvedLimits {
  readonly maxSingleBodyBytes: number;
  readonly maxBatchBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly retryAfterSeconds: number;
}

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
  const logger = deps.logger ?? silentLogger;
  const registry = deps.metricsRegistry ?? new Registry();
  const predictionLog = deps.predictionLog ?? disabledPredictionLog;
  const isDraining = deps.isDraining ?? (() => false);
  const closesConnections = deps.closesConnections ?? isDraining;
  const metrics = createServerMetrics(registry, { models, predictionLog, eventLoopDelay: deps.eventLoopDelay });
  recordModelEvents(models, metrics, predictionLog, deps.clock ?? systemClock);
  const record = createRequestRecorder(metrics, deps.requestWindow);

  const app = new OpenAPIHono<AppEnvironment>();
  let document: object | undefined;
  const predictions = predictionRoutes({
    models,
    auth,
    maxSingleBodyBytes: limits.maxSingleBodyBytes,
    maxBatchBodyBytes: limits.maxBatchBodyBytes,
    requestTimeoutMs: limits.requestTimeoutMs,
  });
  const admin = adminRoutes({ models, auth, adminAuth: deps.adminAuth, peers: deps.peers });
  const operations = operationRoutes({
    models,
    metricsRegistry: registry,
    peers: deps.peers,
    isDraining,
    retryAfterSeconds: limits.retryAfterSeconds,
    openApiDocument: () => (document ??= app.getOpenAPI31Document(OPENAPI_DOCUMENT_HEAD)),
  });
  // the methods each path answers, as the route modules declare them (405 + Allow, metric labels)
  const routeMethods = routeMethodsOf([predictions, admin, operations].flatMap((routes) => routes.routes));

  app.onError(problemErrorHandler(logger, limits.retryAfterSeconds));
  app.notFound(notFoundProblem);
  app.use('*', requestId());
  app.use('*', recordRequests(record, (route) => routeMethods.has(route) || HOSTING_ROUTES.has(route)));
  app.use('*', closeConnectionsWhen(closesConnections));
  app.use('*', methodNotAllowed(routeMethods));
  const routes = app.route('/', predictions).route('/', admin).route('/', operations);
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

/** The app's type: what `hc<AppType>` (client.ts) is typed against. */
export type AppType = ReturnType<typeof buildApp>['app'];
