import type { MiddlewareHandler } from 'hono';
import type { AppEnvironment } from '../app-environment';

/** Adds `Connection: close` to every answer while `closesConnections()` (draining: keep-alive clients move away). */
export function closeConnectionsWhen(closesConnections: () => boolean): MiddlewareHandler<AppEnvironment> {
  return async (c, next) => {
    await next();
    if (closesConnections()) c.res.headers.set('connection', 'close');
  };
}
