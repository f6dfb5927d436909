/**
 * The OpenAPI parts the route modules share (routes/*.ts): the problem answers by status, and the
 * document's head (info, servers, tags) that /openapi.json renders around the routes.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ProblemSchema } from './schemas';

const problemContent = { 'application/problem+json': { schema: ProblemSchema } } as const;
const problem = (description: string) => ({ description, content: problemContent });

/** The problem answers a route may give, by status (kinds in parentheses). */
export const PROBLEMS = {
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

/** The document's head: everything but the routes and their components. */
export const OPENAPI_DOCUMENT_HEAD: Parameters<OpenAPIHono['getOpenAPI31Document']>[0] = {
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
};
