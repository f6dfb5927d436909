/**
 * The rules both ways into the prediction routes apply alike: the Hono app (app.ts, every route and
 * every answer that is not a prediction) and the fast prediction path on node:http (fast-predict.ts,
 * the common, valid prediction request). Keeping them here, as plain functions, is what makes the two
 * give the same answers (tests/server/fast-predict.test.ts compares them on the wire).
 */
import { randomUUID } from 'node:crypto';
import { HTTPException } from 'hono/http-exception';
import {
  InferenceQueueFullError,
  InferenceTimeoutError,
  ModelNotReadyError,
  ModelRefusedError,
  OverloadedError,
  ServiceClosingError,
} from './errors';
import type { RequestOutcome } from './inference/micro-batcher';
import type { BodyShape } from './inference/protocol';
import type { ServedModel } from './models/served-model';
import { kindOfHttpStatus, ProblemException, type ProblemKind, type ProblemOptions } from './problems';

/** The prediction routes and the body each takes. */
export const PREDICTION_ROUTES: Readonly<Record<string, BodyShape>> = { '/v1/predict': 'basket', '/v1/predict/batch': 'batch' };

/** The methods each route answers (anything else: 405 with `Allow`). HEAD comes with GET. */
export const ROUTE_METHODS: Readonly<Record<string, readonly string[]>> = {
  '/v1/predict': ['POST'],
  '/v1/predict/batch': ['POST'],
  '/admin/reload': ['POST'],
  '/healthz': ['GET', 'HEAD'],
  '/readyz': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
  '/openapi.json': ['GET', 'HEAD'],
};

/** The longest `X-Request-Id` kept as the request's id. */
export const MAX_REQUEST_ID_LENGTH = 128;

const REQUEST_ID = /^[\w\-=]+$/;

/** The request's id: a well-formed `X-Request-Id` (word characters, `-`, `=`; ≤ 128) is kept, else a new UUID. */
export function requestIdOf(header: string | undefined): string {
  return header !== undefined && header.length > 0 && header.length <= MAX_REQUEST_ID_LENGTH && REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * Whether a `Content-Type` says JSON: `application/json`, with parameters, of which a `charset` must
 * be UTF-8 (JSON is UTF-8, RFC 8259). Structured-syntax types such as `application/problem+json` are
 * other media types, not this API's body.
 */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  if (header === 'application/json') return true;
  const [type, ...parameters] = header.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  for (const parameter of parameters) {
    const equals = parameter.indexOf('=');
    const name = (equals < 0 ? parameter : parameter.slice(0, equals)).trim().toLowerCase();
    if (name !== 'charset') continue;
    const value = equals < 0 ? '' : parameter.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (value !== 'utf-8' && value !== 'utf8') return false;
  }
  return true;
}

/** The serving members of each model's answers, up to the request id (made once per model). */
const servingMembers = new WeakMap<ServedModel, string>();

/** The JSON text of a 200 prediction answer (the predictions part is the worker's text). */
export function predictionAnswer(model: ServedModel, shape: BodyShape, predictionsJson: string, requestId: string): string {
  let members = servingMembers.get(model);
  if (members === undefined) {
    members = `"modelVersion":${JSON.stringify(model.id)},"featureSpecVersion":${JSON.stringify(model.info.featureSpecVersion)},"requestId":`;
    servingMembers.set(model, members);
  }
  // a request id is word characters, '-' and '=' (requestIdOf): no escaping needed
  return shape === 'basket' ? `{${predictionsJson},${members}"${requestId}"}` : `{"predictions":${predictionsJson},${members}"${requestId}"}`;
}

/** A refused body's problem, as thrown by the prediction handlers. */
export function outcomeProblem(outcome: Extract<RequestOutcome, { ok: false }>): ProblemException {
  return new ProblemException(outcome.problem.kind, { detail: outcome.problem.detail, errors: outcome.problem.errors });
}

/** The problem an error answers as (clients see its kind and a safe detail, never internals). */
export function problemOfError(error: unknown, retryAfterSeconds: number): { readonly kind: ProblemKind; readonly options: ProblemOptions } {
  const retry = { retryAfterSeconds };
  if (error instanceof ProblemException) return { kind: error.kind, options: error.options };
  if (error instanceof HTTPException) {
    const kind = kindOfHttpStatus(error.status);
    return { kind, options: kind === 'internal' ? {} : { detail: error.message, ...(error.status === 503 ? retry : {}) } };
  }
  if (error instanceof OverloadedError || error instanceof InferenceQueueFullError) return { kind: 'overloaded', options: { detail: error.message, ...retry } };
  if (error instanceof InferenceTimeoutError) return { kind: 'request-timeout', options: { detail: error.message, ...retry } };
  if (error instanceof ModelNotReadyError) return { kind: 'model-not-ready', options: { detail: error.message, ...retry } };
  if (error instanceof ServiceClosingError) return { kind: 'shutting-down', options: { detail: error.message, ...retry } };
  if (error instanceof ModelRefusedError) return { kind: error.stage === 'fetch' ? 'registry-unavailable' : 'model-refused', options: { detail: error.message } };
  return { kind: 'internal', options: {} };
}
