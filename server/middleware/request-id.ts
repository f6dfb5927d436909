import type { MiddlewareHandler } from 'hono';
import type { AppEnvironment } from '../app-environment';
import { requestIdOf } from '../http-rules';

/** Gives every request an id (a well-formed `X-Request-Id` is kept, else a new UUID) and echoes it. */
export function requestId(): MiddlewareHandler<AppEnvironment> {
  return async (c, next) => {
    const id = requestIdOf(c.req.header('x-request-id'));
    c.set('requestId', id);
    c.header('x-request-id', id);
    await next();
  };
}
