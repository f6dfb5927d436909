import type { MiddlewareHandler } from 'hono';
import type { AppEnvironment } from '../app-environment';
import type { ModelService } from '../models/model-service';

/**
 * Refuses before reading the body when no model serves, or the request would wait longer than the
 * latency budget or find the queue full (cheap under overload: answered at once).
 */
export function admission(models: ModelService): MiddlewareHandler<AppEnvironment> {
  return async (c, next) => {
    const refusal = models.model().refusal(Number(c.req.header('content-length') ?? 0) || 0);
    if (refusal) throw refusal;
    await next();
  };
}
