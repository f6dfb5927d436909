import type { MiddlewareHandler } from 'hono';
import type { AppEnvironment } from '../app-environment';
import { isJsonMediaType } from '../http-rules';
import { ProblemException } from '../problems';

/**
 * Reads the body as bytes (`c.get('body')`) for the prediction workers, which parse, validate (the
 * route's zod schema, as the OpenAPI document describes it) and featurize it off the event loop.
 * Only the media type is checked here. `Body` is the JSON the route takes: it types the route's
 * input for the RPC client (client.ts); nothing is parsed on this thread.
 */
export function rawBody<Body>(): MiddlewareHandler<AppEnvironment, string, { in: { json: Body }; out: { json: Body } }> {
  return async (c, next) => {
    const contentType = c.req.header('content-type');
    if (!isJsonMediaType(contentType)) {
      throw new ProblemException('unsupported-media-type', { detail: `content-type is ${contentType ? JSON.stringify(contentType) : 'missing'}` });
    }
    c.set('body', new Uint8Array(await c.req.arrayBuffer()));
    await next();
  };
}
