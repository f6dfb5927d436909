/**
 * The prediction routes' fast path on node:http, in front of the Hono app. It takes a request only
 * when it can see from the headers that every check would pass — `POST /v1/predict` or
 * `/v1/predict/batch`, a Content-Length within the limit (no chunked body), a JSON media type, a
 * valid API key, a model serving, not draining — and then does what the
 * Hono route does, without building WHATWG Request/Response objects or running a middleware chain:
 * sheds it at once when the model does not admit it (503 overloaded, before reading the body), else
 * reads the body into one buffer, queues it for the prediction workers, answers with the same JSON
 * text or problem document and records the same metrics. Anything else it leaves to the Hono app
 * (returns false before touching the request), which decides and explains.
 *
 * Measured on 2 cores with wrk (README, "Where a prediction request's time goes"): a prediction through
 * the Hono app cost the main thread 3.0× the CPU of a bare node:http server reading the same body;
 * through this path 2.3× (half of it the socket write and parse both pay).
 * The rules both apply live in http-rules.ts; tests/server/fast-predict.test.ts sends the same
 * requests both ways and compares the answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, type ApiKeyAuthenticator } from './auth';
import { isJsonMediaType, predictionAnswer, requestIdOf } from './http-rules';
import type { BodyShape } from './inference/protocol';
import type { ServerLogger } from './logger';
import type { ModelService } from './models/model-service';
import { problemOfError } from './problem-mapping';
import { problemAnswer, type ProblemKind, type ProblemOptions } from './problems';
import { PREDICTION_ROUTES } from './routes/predictions';

/** Takes a request and answers it (true), or leaves it untouched for the next handler (false). */
export type NodeRequestHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface FastPredictDependencies {
  readonly models: ModelService;
  readonly auth: ApiKeyAuthenticator;
  /** The body limit of each route's body shape. */
  readonly maxBodyBytes: Readonly<Record<BodyShape, number>>;
  readonly requestTimeoutMs: number;
  readonly retryAfterSeconds: number;
  /** True once shutdown began (the Hono app then answers every request). */
  readonly isDraining: () => boolean;
  /** True while answers should carry `Connection: close`. */
  readonly closesConnections: () => boolean;
  /** Records an answered request (metrics and the request window), as the Hono app does. */
  readonly record: (route: string, method: string, status: number, elapsedMs: number) => void;
  readonly logger: ServerLogger;
}

/** Bodies from this size on are read into shared memory, which the workers read without a copy. */
const SHARED_BODY_BYTES = 64 * 1024;

export function createFastPredictHandler(deps: FastPredictDependencies): NodeRequestHandler {
  const { models, auth, maxBodyBytes, requestTimeoutMs, retryAfterSeconds, isDraining, closesConnections, record, logger } = deps;

  /** Writes an answer; `headers` (name, value, …) is completed here. */
  const answer = (response: ServerResponse, route: string, started: number, status: number, headers: string[], text: string): void => {
    if (!response.destroyed) {
      headers.push('content-length', String(Buffer.byteLength(text)));
      if (closesConnections()) headers.push('connection', 'close');
      response.writeHead(status, headers);
      response.end(text);
    }
    record(route, 'POST', status, performance.now() - started);
  };

  const answerProblem = (response: ServerResponse, route: string, started: number, requestId: string, kind: ProblemKind, options: ProblemOptions, error?: unknown): void => {
    if (kind === 'internal') logger.log('error', 'request.failed', { requestId, path: route, error: error instanceof Error ? error : String(error) });
    const problem = problemAnswer(kind, options, { requestId, path: route });
    answer(response, route, started, problem.status, Object.entries(problem.headers).flat(), problem.body);
  };

  const predict = (response: ServerResponse, route: string, shape: BodyShape, body: Uint8Array, requestId: string, started: number): void => {
    try {
      const model = models.model();
      model.predictWith(shape, body, requestId, requestTimeoutMs, (error, result) => {
        if (result?.ok) {
          answer(response, route, started, 200, ['content-type', 'application/json', 'x-request-id', requestId], predictionAnswer(model, shape, result.predictionsJson, requestId));
        } else if (result) {
          answerProblem(response, route, started, requestId, result.problem.kind, { detail: result.problem.detail, errors: result.problem.errors });
        } else {
          const { kind, options } = problemOfError(error, retryAfterSeconds);
          answerProblem(response, route, started, requestId, kind, options, error);
        }
      });
    } catch (error) {
      const { kind, options } = problemOfError(error, retryAfterSeconds);
      answerProblem(response, route, started, requestId, kind, options, error);
    }
  };

  return (request, response) => {
    if (request.method !== 'POST') return false;
    const route = request.url ?? '';
    const shape = Object.hasOwn(PREDICTION_ROUTES, route) ? PREDICTION_ROUTES[route] : undefined;
    if (shape === undefined) return false;
    const headers = request.headers;
    const lengthHeader = headers['content-length'];
    if (lengthHeader === undefined || headers['transfer-encoding'] !== undefined) return false;
    const length = Number(lengthHeader);
    if (!(length <= maxBodyBytes[shape])) return false;
    if (!isJsonMediaType(headers['content-type'])) return false;
    const token = bearerToken(headers.authorization);
    if (token === undefined || !auth.verify(token)) return false;
    if (isDraining() || models.isClosing) return false;
    const model = models.current;
    if (!model) return false;

    const started = performance.now();
    const requestIdHeader = headers['x-request-id'];
    const requestId = requestIdOf(typeof requestIdHeader === 'string' ? requestIdHeader : undefined);
    // shed at once, before reading the body (Node discards it after the answer)
    const refusal = model.refusal(length);
    if (refusal) {
      const { kind, options } = problemOfError(refusal, retryAfterSeconds);
      answerProblem(response, route, started, requestId, kind, options);
      return true;
    }
    let body: Uint8Array | undefined;
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      if (received === 0 && chunk.length === length) {
        body = chunk;
      } else {
        body ??= length >= SHARED_BODY_BYTES ? new Uint8Array(new SharedArrayBuffer(length)) : Buffer.allocUnsafe(length);
        body.set(chunk, received);
      }
      received += chunk.length;
    });
    request.on('end', () => predict(response, route, shape, body ?? new Uint8Array(0), requestId, started));
    return true;
  };
}
