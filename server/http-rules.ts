/**
 * The rules both ways into the prediction routes apply alike: the Hono app (app.ts, every route and
 * every answer that is not a prediction) and the fast prediction path on node:http (fast-predict.ts,
 * the common, valid prediction request). Keeping them here, as plain functions, is what makes the two
 * give the same answers (tests/server/fast-predict.test.ts compares them on the wire).
 */
import { randomUUID } from 'node:crypto';
import type { RequestOutcome } from './inference/micro-batcher';
import type { BodyShape } from './inference/protocol';
import type { ServedModel } from './models/served-model';
import { ProblemException } from './problems';

/** The methods each path answers, from the routes declared (anything else: 405 with `Allow`). */
export type RouteMethods = ReadonlyMap<string, readonly string[]>;

/**
 * The methods each path answers, derived from the routes as declared (Hono's `app.routes`; the
 * middleware entries, method `ALL`, are skipped). HEAD comes with GET, as Hono answers it.
 */
export function routeMethodsOf(routes: readonly { readonly method: string; readonly path: string }[]): RouteMethods {
  const methods = new Map<string, string[]>();
  for (const { method, path } of routes) {
    if (method === 'ALL') continue;
    const answered = methods.get(path) ?? [];
    for (const name of method === 'GET' ? ['GET', 'HEAD'] : [method]) if (!answered.includes(name)) answered.push(name);
    methods.set(path, answered);
  }
  return methods;
}

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
