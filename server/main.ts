/**
 * Runs the prediction API: reads the configuration (options override the environment), opens the
 * registry, binds the port, loads and warms the pinned model (readiness answers 503 until then), and
 * shuts down gracefully: stop accepting, drain in-flight requests, stop the inference workers, flush
 * the prediction log.
 *
 * Environment: PORT, RETAIL_MLOPS_API_KEYS (comma-separated) or RETAIL_MLOPS_API_KEYS_FILE,
 * RETAIL_MLOPS_ADMIN_KEYS or RETAIL_MLOPS_ADMIN_KEYS_FILE (optional: without them /admin/* is off),
 * RETAIL_MLOPS_REGISTRY, RETAIL_MLOPS_MODEL (default `production`), RETAIL_MLOPS_PREDICTION_LOG.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { Registry } from 'prom-client';
import { createApp, type AppLimits, type AppType } from './app';
import { apiKeysFromEnvironment, createApiKeyAuthenticator } from './auth';
import { createJsonLogger, type ServerLogger } from './logger';
import { ModelService, type ReloadOutcome } from './models/model-service';
import { HTTP_WINDOW_EVENT, RequestWindow } from './request-window';
import { ProblemCollector } from '../core/errors';
import { openFilePredictionLog } from './prediction-log/file-log';
import { disabledPredictionLog, type PredictionLogSink } from './prediction-log/sink';
import type { RequestLimits } from './schemas';
import { parseReference } from '../core/registry/identity';
import type { ModelRegistry } from '../core/registry/port';

export interface StartServerOptions {
  /** The model registry, opened by the caller (`serve` gets it from the provider seam: a directory, S3 or Blob Storage). */
  readonly registry: ModelRegistry;
  /** Alias, version id or `#n` to serve. @default $RETAIL_MLOPS_MODEL, else 'production' */
  readonly model?: string;
  /** 0 picks a free port. @default $PORT, else 8080 */
  readonly port?: number;
  /** @default '0.0.0.0' */
  readonly host?: string;
  /** @default $RETAIL_MLOPS_API_KEYS or the keys in $RETAIL_MLOPS_API_KEYS_FILE (at least one is required) */
  readonly apiKeys?: readonly string[];
  /**
   * Keys for /admin/* (POST /admin/reload), none of them a prediction key. Without any, /admin/*
   * answers 403: a prediction key never reloads models. @default $RETAIL_MLOPS_ADMIN_KEYS or the keys
   * in $RETAIL_MLOPS_ADMIN_KEYS_FILE, else none
   */
  readonly adminKeys?: readonly string[];
  /** Where prediction-log files go, e.g. `<lake>/predictions`. @default $RETAIL_MLOPS_PREDICTION_LOG, else no log */
  readonly predictionLogDirectory?: string;
  /** How often an alias is re-resolved (0: never). @default 30_000 */
  readonly pollIntervalMs?: number;
  /** Prediction worker threads (see ModelServiceOptions). @default 2 */
  readonly inferenceWorkers?: number;
  /** ONNX Runtime intra-op threads per session (see ModelServiceOptions). @default 1 */
  readonly intraOpThreads?: number;
  /** Requests queued before 503 + Retry-After. @default 4096 */
  readonly maxQueuedRequests?: number;
  /** Body bytes queued before 503 + Retry-After. @default 128 MiB */
  readonly maxQueuedBytes?: number;
  /** Lines per basket, baskets per batch request. @default 200, 10_000 */
  readonly requestLimits?: Partial<RequestLimits>;
  /** Body sizes, request timeout, Retry-After. */
  readonly limits?: AppLimits;
  /**
   * On shutdown, how long to keep accepting before closing the listener: readiness already answers
   * 503 and every response carries `Connection: close`, so load balancers and keep-alive clients move
   * away first (use it when no preStop hook delays SIGTERM). @default 0
   */
  readonly drainDelayMs?: number;
  /** How long shutdown waits for in-flight requests before cutting connections. @default 25_000 */
  readonly shutdownTimeoutMs?: number;
  /**
   * How often an `http.window` event (requests, 5xx, latency percentiles of /v1/*) is logged; 0 never.
   * Log-based alerts read these. @default 60_000
   */
  readonly requestWindowMs?: number;
  /** Close gracefully on SIGTERM and SIGINT (a second signal cuts connections at once). @default false */
  readonly handleSignals?: boolean;
  /** @default JSON lines on stderr */
  readonly logger?: ServerLogger;
  /** Read instead of process.env. @default process.env */
  readonly environment?: NodeJS.ProcessEnv;
}

export interface ServerHandle {
  /** `http://host:port` (loopback address when bound to all interfaces). */
  readonly url: string;
  readonly port: number;
  readonly app: AppType;
  readonly models: ModelService;
  /** What the initial load did. */
  readonly initialModel: ReloadOutcome;
  /** Resolves once the server has shut down (by `close()` or a signal). */
  readonly closed: Promise<void>;
  /** Graceful shutdown: idempotent. */
  close(): Promise<void>;
}

interface ResolvedSettings {
  readonly registry: ModelRegistry;
  readonly model: string;
  readonly port: number;
  readonly host: string;
  readonly apiKeys: readonly string[];
  readonly adminKeys: readonly string[];
  readonly predictionLogDirectory: string | undefined;
  readonly drainDelayMs: number;
  readonly shutdownTimeoutMs: number;
}

/**
 * Merges options over the environment and checks everything, reporting every problem at once.
 * @throws InvalidOptionsError
 */
export function resolveServerSettings(options: StartServerOptions): ResolvedSettings {
  const environment = options.environment ?? process.env;
  const problems = new ProblemCollector('server configuration');
  const model = options.model ?? (environment.RETAIL_MLOPS_MODEL || 'production');
  let modelValid = true;
  try {
    parseReference(model);
  } catch {
    modelValid = false;
  }
  problems.check(modelValid, `the model ${JSON.stringify(model)} must be an alias, a version id (v-<12 hex>) or #<sequence>`);
  const port = options.port ?? (environment.PORT ? Number(environment.PORT) : 8080);
  problems.check(Number.isInteger(port) && port >= 0 && port <= 65_535, `the port must be an integer in 0…65535, got ${JSON.stringify(options.port ?? environment.PORT)}`);
  const host = options.host ?? '0.0.0.0';
  problems.check(typeof host === 'string' && host.length > 0, 'the host must be a non-empty string');
  let apiKeys: readonly string[] | undefined = options.apiKeys;
  if (!apiKeys) {
    try {
      apiKeys = apiKeysFromEnvironment(environment);
    } catch (error) {
      problems.check(false, (error as Error).message);
    }
  }
  problems.check(
    apiKeys !== undefined && apiKeys.length > 0,
    'at least one API key is required: RETAIL_MLOPS_API_KEYS (comma-separated) or RETAIL_MLOPS_API_KEYS_FILE',
  );
  if (apiKeys && apiKeys.length > 0) {
    try {
      createApiKeyAuthenticator(apiKeys);
    } catch (error) {
      problems.check(false, (error as Error).message);
    }
  }
  let adminKeys: readonly string[] | undefined = options.adminKeys;
  if (!adminKeys) {
    try {
      adminKeys = apiKeysFromEnvironment(environment, 'RETAIL_MLOPS_ADMIN_KEYS');
    } catch (error) {
      problems.check(false, (error as Error).message);
    }
  }
  if (adminKeys && adminKeys.length > 0) {
    try {
      createApiKeyAuthenticator(adminKeys, 'admin key');
    } catch (error) {
      problems.check(false, (error as Error).message);
    }
    const predictionKeys = new Set(apiKeys ?? []);
    adminKeys.forEach((key, index) => problems.check(!predictionKeys.has(key), `admin key #${index + 1} is also an API key: admin keys must be separate`));
  }
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 25_000;
  problems.check(Number.isInteger(shutdownTimeoutMs) && shutdownTimeoutMs >= 0, `shutdownTimeoutMs must be an integer ≥ 0, got ${shutdownTimeoutMs}`);
  const requestWindowMs = options.requestWindowMs ?? 60_000;
  problems.check(Number.isInteger(requestWindowMs) && requestWindowMs >= 0, `requestWindowMs must be an integer ≥ 0, got ${requestWindowMs}`);
  const drainDelayMs = options.drainDelayMs ?? 0;
  problems.check(Number.isInteger(drainDelayMs) && drainDelayMs >= 0, `drainDelayMs must be an integer ≥ 0, got ${drainDelayMs}`);
  problems.throwIfAny();
  return {
    registry: options.registry,
    model,
    port,
    host,
    apiKeys: apiKeys!,
    adminKeys: adminKeys ?? [],
    predictionLogDirectory: options.predictionLogDirectory ?? (environment.RETAIL_MLOPS_PREDICTION_LOG || undefined),
    drainDelayMs,
    shutdownTimeoutMs,
  };
}

/**
 * Starts the server and resolves once the model is loaded and warmed (the port answers /healthz from
 * the start, /readyz from then on).
 * @throws InvalidOptionsError (configuration) · ModelRefusedError (nothing is left running)
 */
export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const settings = resolveServerSettings(options);
  const logger = options.logger ?? createJsonLogger();
  const registry = settings.registry;
  const models = new ModelService({
    registry,
    reference: settings.model,
    pollIntervalMs: options.pollIntervalMs,
    inferenceWorkers: options.inferenceWorkers,
    intraOpThreads: options.intraOpThreads,
    maxQueuedRequests: options.maxQueuedRequests,
    maxQueuedBytes: options.maxQueuedBytes,
    requestLimits: options.requestLimits,
    logger,
  });
  const predictionLog: PredictionLogSink = settings.predictionLogDirectory
    ? await openFilePredictionLog({ directory: settings.predictionLogDirectory, logger })
    : disabledPredictionLog;
  const requestWindow = new RequestWindow();
  const requestWindowMs = options.requestWindowMs ?? 60_000;
  const logWindow = (): void => {
    const summary = requestWindow.flush();
    if (summary) logger.log('info', HTTP_WINDOW_EVENT, { ...summary });
  };
  const windowTimer = requestWindowMs > 0 ? setInterval(logWindow, requestWindowMs).unref() : undefined;
  const eventLoopDelay = monitorEventLoopDelay({ resolution: 10 });
  eventLoopDelay.enable();
  let draining = false;
  const app = createApp({
    models,
    auth: createApiKeyAuthenticator(settings.apiKeys),
    adminAuth: settings.adminKeys.length > 0 ? createApiKeyAuthenticator(settings.adminKeys, 'admin key') : undefined,
    logger,
    metricsRegistry: new Registry(),
    predictionLog,
    requestWindow,
    eventLoopDelay,
    isDraining: () => draining,
    limits: options.limits,
  });

  const server = await listen(app, settings.port, settings.host);
  // slow clients cannot hold a request open forever (bodies included)
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  const port = (server.address() as AddressInfo).port;
  const loopbackHost = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  const url = `http://${loopbackHost.includes(':') ? `[${loopbackHost}]` : loopbackHost}:${port}`;
  logger.log('info', 'server.listening', { url, reference: settings.model, predictionLog: settings.predictionLogDirectory ?? null });

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const removeSignalHandlers: (() => void)[] = [];
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      for (const remove of removeSignalHandlers) remove();
      const started = performance.now();
      logger.log('info', 'server.draining', { url, drainDelayMs: settings.drainDelayMs });
      if (settings.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, settings.drainDelayMs));
      await closeServer(server, settings.shutdownTimeoutMs);
      clearInterval(windowTimer);
      if (windowTimer) logWindow();
      await models.close();
      await predictionLog.close();
      eventLoopDelay.disable();
      logger.log('info', 'server.stopped', { milliseconds: Math.round(performance.now() - started) });
      resolveClosed();
    })();
    return closing;
  };

  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const handler = (): void => {
        if (closing) {
          logger.log('warn', 'server.forced-shutdown', { signal });
          server.closeAllConnections();
          return;
        }
        logger.log('info', 'server.signal', { signal });
        void close();
      };
      process.on(signal, handler);
      removeSignalHandlers.push(() => process.off(signal, handler));
    }
  }

  let initialModel: ReloadOutcome;
  try {
    initialModel = await models.start();
  } catch (error) {
    await close();
    throw error;
  }
  return { url, port, app, models, initialModel, closed, close };
}

/** Binds the port (plain HTTP/1.1: TLS ends at the ingress). */
function listen(app: AppType, port: number, hostname: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }, () => resolve(server)) as Server;
    server.once('error', reject);
  });
}

/**
 * Stops accepting, closes idle keep-alive connections, lets in-flight requests finish (their
 * responses carry `Connection: close`), then cuts whatever is left after the timeout.
 */
function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
