/**
 * Every error response is an RFC 9457 problem document (`application/problem+json`) with a stable
 * `type` URI per kind of problem. Handlers throw `ProblemException` (an HTTPException); the app's one
 * `onError` renders it, and maps anything else (Hono's own HTTPExceptions, retail-mlops errors,
 * unexpected errors) to a kind. Clients never see stack traces or internal messages.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The kinds of problem, with their status and title (the title never changes for a kind). */
export const PROBLEM_KINDS = {
  'bad-request': { status: 400, title: 'The request is not valid HTTP/1.1' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'body-too-complex': { status: 400, title: 'The request body is nested too deeply or holds more JSON values than a valid body could' },
  'unauthorized': { status: 401, title: 'A valid API key is required (Authorization: Bearer <key>)' },
  'forbidden': { status: 403, title: 'This key may not use this resource' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this resource' },
  'client-timeout': { status: 408, title: 'The request was not received in time' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'invalid-request': { status: 422, title: 'The request body does not match the schema' },
  'limit-exceeded': { status: 422, title: 'The request exceeds a size limit (lines per basket or baskets per batch)' },
  'model-refused': { status: 422, title: 'The model was refused; the previous model keeps serving' },
  'internal': { status: 500, title: 'Internal server error' },
  'registry-unavailable': { status: 502, title: 'The model registry could not provide the model' },
  'model-not-ready': { status: 503, title: 'No model is loaded yet' },
  'overloaded': { status: 503, title: 'The server is at capacity; retry later' },
  'request-timeout': { status: 503, title: 'The request did not complete in time; retry later' },
  'shutting-down': { status: 503, title: 'The server is shutting down' },
} as const satisfies Record<string, { readonly status: ContentfulStatusCode; readonly title: string }>;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

/** The stable `type` URI of a kind of problem. */
export function problemType(kind: ProblemKind): string {
  return `urn:retail-mlops:problem:${kind}`;
}

/** One schema violation. */
export interface ProblemFieldError {
  readonly path: string;
  readonly message: string;
}

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly requestId?: string;
  readonly errors?: readonly ProblemFieldError[];
}

export interface ProblemOptions {
  readonly detail?: string;
  readonly errors?: readonly ProblemFieldError[];
  /** Seconds, for 503s: sent as `Retry-After`. */
  readonly retryAfterSeconds?: number;
  /** Extra response headers (e.g. `WWW-Authenticate`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/** An HTTPException that renders as a problem document of one kind. */
export class ProblemException extends HTTPException {
  constructor(
    readonly kind: ProblemKind,
    readonly options: ProblemOptions = {},
  ) {
    super(PROBLEM_KINDS[kind].status, { message: options.detail ?? PROBLEM_KINDS[kind].title, cause: options.cause });
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A problem answer as status, headers and body text (what both HTTP paths send). */
export interface ProblemAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The problem document and headers of a kind. */
export function problemAnswer(
  kind: ProblemKind,
  options: ProblemOptions,
  request: { readonly requestId?: string; readonly path?: string },
): ProblemAnswer {
  const { status, title } = PROBLEM_KINDS[kind];
  const document: ProblemDocument = {
    type: problemType(kind),
    title,
    status,
    ...(options.detail !== undefined ? { detail: options.detail } : {}),
    ...(request.path !== undefined ? { instance: request.path } : {}),
    ...(request.requestId !== undefined ? { requestId: request.requestId } : {}),
    ...(options.errors !== undefined ? { errors: options.errors } : {}),
  };
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...options.headers };
  if (options.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(options.retryAfterSeconds)));
  if (request.requestId !== undefined) headers['x-request-id'] = request.requestId;
  return { status, headers, body: JSON.stringify(document) };
}

/** The problem document and headers of a kind, as a fetch Response (the Hono app's answers). */
export function problemResponse(
  kind: ProblemKind,
  options: ProblemOptions,
  request: { readonly requestId?: string; readonly path: string },
): Response {
  const answer = problemAnswer(kind, options, request);
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** The kind of a plain HTTPException Hono raised itself (body limit, media-type gate, malformed JSON). */
export function kindOfHttpStatus(status: number): ProblemKind {
  switch (status) {
    case 400:
      return 'malformed-json';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 405:
      return 'method-not-allowed';
    case 408:
      return 'client-timeout';
    case 413:
      return 'payload-too-large';
    case 415:
      return 'unsupported-media-type';
    case 422:
      return 'invalid-request';
    case 431:
      return 'headers-too-large';
    case 503:
      return 'overloaded';
    case 504:
      return 'request-timeout';
    default:
      return 'internal';
  }
}
