import type { MiddlewareHandler } from 'hono';
import type { AppEnvironment } from '../app-environment';
import type { RouteMethods } from '../http-rules';
import { ProblemException } from '../problems';

/** A known path asked with another method: 405 with `Allow` (before any key is asked for). */
export function methodNotAllowed(routeMethods: RouteMethods): MiddlewareHandler<AppEnvironment> {
  return async (c, next) => {
    const methods = routeMethods.get(c.req.path);
    if (methods && !methods.includes(c.req.method)) {
      throw new ProblemException('method-not-allowed', { detail: `${c.req.path} answers ${methods.join(', ')}, not ${c.req.method}`, headers: { allow: methods.join(', ') } });
    }
    await next();
  };
}
