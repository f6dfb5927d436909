/**
 * Runs the prediction API: reads the configuration (options override the environment), opens the
 * registry, binds the port, loads and warms the pinned model (readiness answers 503 until then), and
 * shuts down gracefully: keep accepting for the drain delay with `Connection: close` on every answer,
 * stop accepting, answer what is in flight, close keep-alive connections as they go idle, stop the
 * inference workers, flush the prediction log.
 *
 * HTTP is node:http with the prediction fast path (fast-predict.ts) in front of the Hono app; requests
 * Node's HTTP parser refuses (bad or conflicting Content-Length, oversized headers, timeouts) are
 * answered with problem documents too.
 *
 * Environment: the variables of server/settings.ts (SERVER_VARIABLES; the prediction keys are required,
 * the admin keys optional: without them /admin/* is off).
 */
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type Server } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getRequestListener } from '@hono/node-server';
import { Registry } from 'prom-client';
import { createServerApp, type AppLimits, type AppType } from './app';
import { apiKeysFromEnvironment, createApiKeyAuthenticator } from './auth';
import type { NodeRequestHandler } from './fast-predict';
import { parseHostingMode, platformAuthenticates, type HostingMode } from './hosting/managed-hosting';
import { createJsonLogger, type ServerLogger } from './logger';
import { ModelService, type ReloadOutcome } from './models/model-service';
import { HTTP_WINDOW_EVENT, RequestWindow } from './request-window';
import type { ProcessGroupMember } from './server-processes';
import { InvalidOptionsError, ProblemCollector } from '../core/errors';
import { openPredictionLog, type PredictionLogOptions } from './prediction-log/prediction-log';
import { disabledPredictionLog, type PredictionLogSink } from './prediction-log/sink';
import { problemAnswer } from './problems';
import type { RequestLimits } from './schemas';
import { fileVariable, SERVER_DEFAULTS, SERVER_VARIABLES } from './settings';
import { telemetryEnvironment } from '../core/monitoring/telemetry';
import { parseReference } from '../core/registry/identity';
import type { ModelRegistry } from '../core/registry/port';
import type { ObjectStorage } from '../core/storage/port';

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
  /**
   * Where prediction-log segments ship, opened by the caller: the lake's object storage
   * (`EnvironmentServices.lake().storage()`), or a storage on the directory named as the log (see
   * predictionLogDirectory). @default none: no prediction log
   */
  readonly predictionLogStorage?: ObjectStorage;
  /** The key prefix segments ship below. @default 'predictions' (the lake's layout); '' for a storage on the log's own directory */
  readonly predictionLogPrefix?: string;
  /**
   * A directory named as the prediction log (segments directly below it). The server opens no storage
   * itself (storage implementations are the providers'): the caller opens one on it and passes it as
   * predictionLogStorage with predictionLogPrefix '' (as `serve` does); named without one, the server
   * refuses to start. @default $RETAIL_MLOPS_PREDICTION_LOG, else none
   */
  readonly predictionLogDirectory?: string;
  /**
   * Where segments wait for their upload (in a pod: on its emptyDir, so a restarted container ships
   * what its predecessor left). @default $RETAIL_MLOPS_PREDICTION_SPOOL, else a directory in the OS temp directory
   */
  readonly predictionLogSpoolDirectory?: string;
  /** The prediction log's other settings (segment size and age, sampling, retention, uploads). @default see PredictionLogOptions */
  readonly predictionLogSettings?: Omit<PredictionLogOptions, 'storage' | 'prefix' | 'spoolDirectory' | 'secrets' | 'logger' | 'environment'>;
  /** The environment named in telemetry events (the metrics' dimension). @default $RETAIL_MLOPS_ENVIRONMENT, else 'local' */
  readonly environmentName?: string;
  /** How often an alias is re-resolved (0: never). @default 30_000 */
  readonly pollIntervalMs?: number;
  /** Prediction worker threads (see ModelServiceOptions). @default 2 */
  readonly inferenceWorkers?: number;
  /** ONNX Runtime intra-op threads per session (see ModelServiceOptions). @default 1 */
  readonly intraOpThreads?: number;
  /** Requests queued before 503 + Retry-After. @default 4096 */
  readonly maxQueuedRequests?: number;
  /**
   * Load shedding: a prediction request is refused at once (503 overloaded + Retry-After) when the
   * requests ahead of it are expected to keep the workers busy longer than this.
   * @default $RETAIL_MLOPS_LATENCY_BUDGET_MS, else 100
   */
  readonly latencyBudgetMs?: number;
  /** Body bytes queued before 503 + Retry-After. @default 128 MiB */
  readonly maxQueuedBytes?: number;
  /** Lines per basket, baskets per batch request. @default 200, 10_000 */
  readonly requestLimits?: Partial<RequestLimits>;
  /** Body sizes, request timeout, Retry-After. */
  readonly limits?: AppLimits;
  /**
   * On shutdown, how long to keep accepting and answering before closing the listener: readiness
   * already answers 503 and every answer carries `Connection: close`, so load balancers and keep-alive
   * clients move away first, and no request sent on a kept-alive connection meets a closed socket.
   * @default $RETAIL_MLOPS_DRAIN_DELAY_MS, else 0
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
  /**
   * Also answer a managed endpoint's contract: `sagemaker` (GET /ping, POST /invocations) or `azureml`
   * (POST /score); there the platform authenticates callers, so API keys become optional (without any,
   * /v1/* refuses every request). @default $RETAIL_MLOPS_HOSTING, else 'kubernetes'
   */
  readonly hosting?: HostingMode;
  /** Read instead of process.env. @default process.env */
  readonly environment?: NodeJS.ProcessEnv;
  /**
   * This process's place in a group of server processes (`serve --processes`, server-processes.ts):
   * it stops when the group's primary says so, reloads when another process did, shares its metrics
   * and spools its prediction log below `<spool>/process-<index>`. @default none: a server on its own
   */
  readonly processGroup?: ProcessGroupMember;
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
  readonly hosting: HostingMode;
  readonly registry: ModelRegistry;
  readonly model: string;
  readonly port: number;
  readonly host: string;
  readonly apiKeys: readonly string[];
  readonly adminKeys: readonly string[];
  readonly predictionLogDirectory: string | undefined;
  readonly predictionLogSpoolDirectory: string | undefined;
  readonly environmentName: string;
  readonly drainDelayMs: number;
  readonly shutdownTimeoutMs: number;
  readonly latencyBudgetMs: number;
}

/** A millisecond count from the environment (undefined when unset; NaN, refused later, when not a number). */
function millisecondsFromEnvironment(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
}

/**
 * Merges options over the environment and checks everything, reporting every problem at once.
 * @throws InvalidOptionsError
 */
export function resolveServerSettings(options: StartServerOptions): ResolvedSettings {
  const environment = options.environment ?? process.env;
  const problems = new ProblemCollector('server configuration');
  const model = options.model ?? (environment[SERVER_VARIABLES.model] || SERVER_DEFAULTS.model);
  let modelValid = true;
  try {
    parseReference(model);
  } catch {
    modelValid = false;
  }
  problems.check(modelValid, `the model ${JSON.stringify(model)} must be an alias, a version id (v-<12 hex>) or #<sequence>`);
  let hosting: HostingMode = 'kubernetes';
  try {
    hosting = options.hosting ?? parseHostingMode(environment[SERVER_VARIABLES.hosting]);
  } catch (error) {
    problems.check(false, (error as Error).message);
  }
  // SageMaker names the port of a container in a multi-container endpoint; otherwise it is SERVER_DEFAULTS.port
  const platformPort = hosting === 'sagemaker' ? environment.SAGEMAKER_BIND_TO_PORT : undefined;
  const portVariable = environment[SERVER_VARIABLES.port];
  const port = options.port ?? (platformPort ? Number(platformPort) : portVariable ? Number(portVariable) : SERVER_DEFAULTS.port);
  problems.check(Number.isInteger(port) && port >= 0 && port <= 65_535, `the port must be an integer in 0…65535, got ${JSON.stringify(options.port ?? portVariable)}`);
  const host = options.host ?? SERVER_DEFAULTS.host;
  problems.check(typeof host === 'string' && host.length > 0, 'the host must be a non-empty string');
  let apiKeys: readonly string[] | undefined = options.apiKeys;
  if (!apiKeys) {
    try {
      apiKeys = apiKeysFromEnvironment(environment, SERVER_VARIABLES.apiKeys);
    } catch (error) {
      problems.check(false, (error as Error).message);
    }
  }
  problems.check(
    (apiKeys !== undefined && apiKeys.length > 0) || platformAuthenticates(hosting),
    `at least one API key is required: ${SERVER_VARIABLES.apiKeys} (comma-separated) or ${fileVariable(SERVER_VARIABLES.apiKeys)}`,
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
      adminKeys = apiKeysFromEnvironment(environment, SERVER_VARIABLES.adminKeys);
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
  const drainDelayMs = options.drainDelayMs ?? millisecondsFromEnvironment(environment[SERVER_VARIABLES.drainDelayMs]) ?? SERVER_DEFAULTS.drainDelayMs;
  problems.check(
    Number.isInteger(drainDelayMs) && drainDelayMs >= 0,
    `the drain delay must be an integer ≥ 0 (milliseconds), got ${JSON.stringify(options.drainDelayMs ?? environment[SERVER_VARIABLES.drainDelayMs])}`,
  );
  const latencyBudgetMs = options.latencyBudgetMs ?? millisecondsFromEnvironment(environment[SERVER_VARIABLES.latencyBudgetMs]) ?? SERVER_DEFAULTS.latencyBudgetMs;
  problems.check(
    Number.isInteger(latencyBudgetMs) && latencyBudgetMs >= 1,
    `the latency budget must be an integer ≥ 1 (milliseconds), got ${JSON.stringify(options.latencyBudgetMs ?? environment[SERVER_VARIABLES.latencyBudgetMs])}`,
  );
  const predictionLogDirectory = options.predictionLogDirectory ?? (environment[SERVER_VARIABLES.predictionLog] || undefined);
  problems.throwIfAny();
  return {
    hosting,
    registry: options.registry,
    model,
    port,
    host,
    apiKeys: apiKeys ?? [],
    adminKeys: adminKeys ?? [],
    predictionLogDirectory,
    predictionLogSpoolDirectory: options.predictionLogSpoolDirectory ?? (environment[SERVER_VARIABLES.predictionSpool] || undefined),
    environmentName: options.environmentName ?? telemetryEnvironment(environment),
    drainDelayMs,
    shutdownTimeoutMs,
    latencyBudgetMs,
  };
}

/**
 * Starts the server and resolves once the model is loaded and warmed (the port answers /healthz from
 * the start, /readyz from then on).
 * @throws InvalidOptionsError (configuration) · ModelRefusedError (nothing is left running)
 */
export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const settings = resolveServerSettings(options);
  if (settings.predictionLogDirectory !== undefined && options.predictionLogStorage === undefined) {
    throw new InvalidOptionsError('server', [`the prediction log directory ${settings.predictionLogDirectory} is named without predictionLogStorage opened on it (retail-mlops serve opens it)`]);
  }
  const logger = options.logger ?? createJsonLogger();
  const registry = settings.registry;
  const models = new ModelService({
    registry,
    reference: settings.model,
    pollIntervalMs: options.pollIntervalMs,
    inferenceWorkers: options.inferenceWorkers,
    intraOpThreads: options.intraOpThreads,
    maxQueuedRequests: options.maxQueuedRequests,
    latencyBudgetMs: settings.latencyBudgetMs,
    maxQueuedBytes: options.maxQueuedBytes,
    requestLimits: options.requestLimits,
    logger,
  });
  const predictionLogStorage = options.predictionLogStorage;
  let predictionLog: PredictionLogSink = disabledPredictionLog;
  if (predictionLogStorage) {
    try {
      predictionLog = await openPredictionLog({
        ...options.predictionLogSettings,
        storage: predictionLogStorage,
        // a lake's storage holds the log below predictions/; a storage on the log's own directory, at its root
        prefix: options.predictionLogPrefix,
        spoolDirectory: settings.predictionLogSpoolDirectory,
        ...(options.processGroup ? { spoolSubdirectory: `process-${options.processGroup.index}` } : {}),
        secrets: [...settings.apiKeys, ...settings.adminKeys],
        environment: settings.environmentName,
        logger,
      });
    } catch (error) {
      await models.close();
      throw error;
    }
  }
  const requestWindow = new RequestWindow();
  const requestWindowMs = options.requestWindowMs ?? 60_000;
  const logWindow = (): void => {
    const summary = requestWindow.flush();
    if (summary) logger.log('info', HTTP_WINDOW_EVENT, { environment: settings.environmentName, ...summary });
  };
  const windowTimer = requestWindowMs > 0 ? setInterval(logWindow, requestWindowMs).unref() : undefined;
  const eventLoopDelay = monitorEventLoopDelay({ resolution: 10 });
  eventLoopDelay.enable();
  let draining = false;
  /** Whether answers carry `Connection: close` (see close()). */
  let closingConnections = false;
  const metricsRegistry = new Registry();
  const processGroup = options.processGroup;
  processGroup?.shareMetrics(metricsRegistry);
  const { app, fastPredict } = createServerApp({
    models,
    auth: createApiKeyAuthenticator(settings.apiKeys),
    adminAuth: settings.adminKeys.length > 0 ? createApiKeyAuthenticator(settings.adminKeys, 'admin key') : undefined,
    logger,
    metricsRegistry,
    peers: processGroup,
    predictionLog,
    requestWindow,
    eventLoopDelay,
    isDraining: () => draining,
    closesConnections: () => closingConnections,
    limits: options.limits,
    hosting: settings.hosting,
  });

  const server = await listen(app, fastPredict, settings.port, settings.host);
  // slow clients cannot hold a request open forever (bodies included)
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  const port = (server.address() as AddressInfo).port;
  const loopbackHost = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  const url = `http://${loopbackHost.includes(':') ? `[${loopbackHost}]` : loopbackHost}:${port}`;
  logger.log('info', 'server.listening', {
    url,
    reference: settings.model,
    environment: settings.environmentName,
    hosting: settings.hosting,
    predictionLog: 'destination' in predictionLog ? predictionLog.destination : null,
  });

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const removeSignalHandlers: (() => void)[] = [];
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      closingConnections = true;
      for (const remove of removeSignalHandlers) remove();
      const started = performance.now();
      logger.log('info', 'server.draining', { url, drainDelayMs: settings.drainDelayMs });
      if (settings.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, settings.drainDelayMs));
      // Closing a listener resets the connections the kernel has accepted for it and Node has not yet
      // taken: clients that reconnected after a `Connection: close` would see their request reset. So
      // answers keep connections alive for a moment, until no new connection came for a while; then
      // the listener closes, and the answers in flight close their connections (clients reconnecting
      // now are refused, cleanly).
      closingConnections = false;
      await connectionsSettled(server, settings.shutdownTimeoutMs);
      closingConnections = true;
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

  /** A signal (or the group's primary) says stop; a second time, cut the connections. */
  const stopRequested = (cause: Record<string, unknown>): void => {
    if (closing) {
      logger.log('warn', 'server.forced-shutdown', cause);
      server.closeAllConnections();
      return;
    }
    logger.log('info', 'server.signal', cause);
    void close();
  };
  if (options.handleSignals && !processGroup) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const handler = (): void => stopRequested({ signal });
      process.on(signal, handler);
      removeSignalHandlers.push(() => process.off(signal, handler));
    }
  }
  if (processGroup) {
    processGroup.onStop((now) => {
      if (now && !closing) void close();
      stopRequested({ signal: now ? 'primary: stop now' : 'primary: stop', process: processGroup.index });
    });
    processGroup.onReload(async () => {
      await models.reload('admin');
    });
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

/** Connections waiting to be accepted (the kernel caps it at net.core.somaxconn): bursts of new connections are not dropped. */
const LISTEN_BACKLOG = 4096;

/**
 * Binds the port (plain HTTP/1.1: TLS ends at the ingress): the prediction fast path first, the Hono
 * app for everything it leaves; parser errors answered as problem documents.
 */
function listen(app: AppType, fastPredict: NodeRequestHandler, port: number, host: string): Promise<Server> {
  const honoListener = getRequestListener(app.fetch);
  const server = createServer((request, response) => {
    if (!fastPredict(request, response)) void honoListener(request, response);
  });
  server.on('clientError', answerClientError);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** What Node's HTTP parser says, for the client (its reason, not our internals). */
const PARSER_ERRORS: Readonly<Record<string, string>> = {
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length and Transfer-Encoding together are not allowed',
  HPE_INVALID_CONTENT_LENGTH: 'the Content-Length is not valid',
  HPE_INVALID_TRANSFER_ENCODING: 'the Transfer-Encoding is not valid',
  HPE_HEADER_OVERFLOW: 'the request headers are larger than the server accepts',
  ERR_HTTP_REQUEST_TIMEOUT: 'the request was not received in time',
};

/**
 * Node's HTTP parser refused a request (or timed it out): answer with a problem document and close
 * the connection, as Node would with a bare status line.
 */
function answerClientError(error: Error & { code?: string; reason?: string }, socket: Socket): void {
  // a response already under way on this connection cannot be followed by another
  const inProgress = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const kind = error.code === 'HPE_HEADER_OVERFLOW' ? 'headers-too-large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'client-timeout' : 'bad-request';
  const detail = (error.code && PARSER_ERRORS[error.code]) ?? (error.reason ? `the request is not valid HTTP/1.1: ${error.reason}` : 'the request is not valid HTTP/1.1');
  const answer = problemAnswer(kind, { detail }, { requestId: randomUUID() });
  const headers = Object.entries({ ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)), 'connection': 'close' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n${headers}\r\n${answer.body}`);
}

/** How long no new connection must have come before the listener closes (see close()). */
const CONNECTIONS_QUIET_MS = 50;
/** How long close() waits for that at most (clients that never keep connections alive would keep it waiting). */
const CONNECTIONS_QUIET_LIMIT_MS = 1000;

/** Resolves once no connection was accepted for CONNECTIONS_QUIET_MS (or after the limit, or the timeout). */
function connectionsSettled(server: Server, timeoutMs: number): Promise<void> {
  let lastConnection = performance.now();
  const onConnection = (): void => {
    lastConnection = performance.now();
  };
  server.on('connection', onConnection);
  const limit = performance.now() + Math.min(CONNECTIONS_QUIET_LIMIT_MS, timeoutMs);
  return new Promise((resolve) => {
    const check = (): void => {
      const now = performance.now();
      if (now - lastConnection >= CONNECTIONS_QUIET_MS || now >= limit) {
        server.off('connection', onConnection);
        resolve();
        return;
      }
      setTimeout(check, CONNECTIONS_QUIET_MS - (now - lastConnection));
    };
    setTimeout(check, CONNECTIONS_QUIET_MS);
  });
}

/** How long connections left idle after the listener closed may still bring a request already sent, before they are closed. */
const IDLE_GRACE_MS = 250;

/**
 * Stops accepting, lets in-flight requests finish (their answers carry `Connection: close`, so each
 * keep-alive connection closes after its answer), closes the connections still idle after a short
 * grace (a request sent just before is answered, not reset), then cuts whatever is left after the
 * timeout.
 */
function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), timeoutMs);
    const idle = setTimeout(() => server.closeIdleConnections(), Math.min(IDLE_GRACE_MS, timeoutMs));
    // net.Server#close stops accepting but, unlike http.Server#close, leaves idle keep-alive
    // connections open for now (closing one just as its client sends a request would reset it)
    NetServer.prototype.close.call(server, () => {
      clearTimeout(cut);
      clearTimeout(idle);
      // http.Server#close only clears its connection-checking timer now: the listener is closed already
      server.close(() => resolve());
    });
  });
}
