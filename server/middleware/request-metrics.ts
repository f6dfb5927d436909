import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnvironment } from '../app-environment';
import type { ServerMetrics } from '../metrics';
import type { RequestWindow } from '../request-window';

/** Records one answered request: route label (a known route or `unmatched`), method, status, milliseconds. */
export type RequestRecorder = (route: string, method: string, status: number, elapsedMs: number) => void;

/**
 * What every answered request records, on both HTTP paths (this app and fast-predict.ts): the
 * duration metric, and for /v1/* the request window (the `http.window` log events).
 */
export function createRequestRecorder(metrics: ServerMetrics, requestWindow: RequestWindow | undefined): RequestRecorder {
  // one histogram child per route, method and status, kept (prom-client would hash the labels per call)
  const durationByLabels = new Map<string, ReturnType<typeof metrics.requestDuration.labels>>();
  return (route, method, status, elapsedMs) => {
    const key = `${route} ${method} ${status}`;
    let duration = durationByLabels.get(key);
    if (!duration) {
      duration = metrics.requestDuration.labels({ route, method, status: String(status) });
      durationByLabels.set(key, duration);
    }
    duration.observe(elapsedMs / 1000);
    if (route.startsWith('/v1/')) requestWindow?.record(elapsedMs, status);
  };
}

/**
 * Times every request and records it under its route, or `unmatched` when `isKnownRoute` says the
 * matched path is none of the app's routes (keeps the metric's label set bounded).
 */
export function recordRequests(record: RequestRecorder, isKnownRoute: (route: string) => boolean): MiddlewareHandler<AppEnvironment> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const route = routePath(c, -1);
    record(isKnownRoute(route) ? route : 'unmatched', c.req.method, c.res.status, performance.now() - started);
  };
}
