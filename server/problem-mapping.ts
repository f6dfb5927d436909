/**
 * Errors to problem documents (the problem types are in problems.ts): `problemOfError` decides the
 * kind and the safe detail of any error, for both HTTP paths (the Hono app's `onError` below and the
 * fast path, fast-predict.ts). Clients never see stack traces or internal messages; an internal error
 * is logged with the request's id.
 */
import type { ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnvironment } from './app-environment';
import {
  InferenceQueueFullError,
  InferenceTimeoutError,
  ModelNotReadyError,
  ModelRefusedError,
  OverloadedError,
  ServiceClosingError,
} from './errors';
import type { ServerLogger } from './logger';
import { kindOfHttpStatus, ProblemException, problemResponse, type ProblemKind, type ProblemOptions } from './problems';
import { RetailMlopsError } from '../core/errors';

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

/** The app's one `onError`: every error a handler or middleware throws answers as its problem document. */
export function problemErrorHandler(logger: ServerLogger, retryAfterSeconds: number): ErrorHandler<AppEnvironment> {
  return (error, c) => {
    const { kind, options } = problemOfError(error, retryAfterSeconds);
    if (kind === 'internal') {
      logger.log('error', 'request.failed', { requestId: c.get('requestId'), path: c.req.path, error: RetailMlopsError.isInstance(error) || error instanceof Error ? error : String(error) });
    }
    return problemResponse(kind, options, { requestId: c.get('requestId'), path: c.req.path });
  };
}

/** The app's `notFound`: a not-found problem naming the method and path. */
export const notFoundProblem: NotFoundHandler<AppEnvironment> = (c) =>
  problemResponse('not-found', { detail: `${c.req.method} ${c.req.path}` }, { requestId: c.get('requestId'), path: c.req.path });
