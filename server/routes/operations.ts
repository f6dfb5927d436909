/** The open routes for operators and tools: GET /healthz, /readyz, /metrics and /openapi.json. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Registry } from 'prom-client';
import type { AppEnvironment } from '../app-environment';
import type { ModelService } from '../models/model-service';
import { PROBLEMS } from '../openapi';
import { ProblemException } from '../problems';
import { HealthSchema, ReadinessSchema } from '../schemas';
import type { ProcessGroupPeers } from '../server-processes';

export interface OperationRouteOptions {
  readonly models: ModelService;
  /** What /metrics renders. */
  readonly metricsRegistry: Registry;
  /** The other server processes: /metrics aggregates theirs with this one's. @default none */
  readonly peers?: ProcessGroupPeers;
  /** True once shutdown began: readiness answers 503 shutting-down. */
  readonly isDraining: () => boolean;
  /** The `Retry-After` of readiness's 503, in seconds. */
  readonly retryAfterSeconds: number;
  /** The whole app's OpenAPI document (made once, on the first request). */
  readonly openApiDocument: () => object;
}

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  summary: 'Liveness: the process answers',
  tags: ['operations'],
  security: [],
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: HealthSchema } } }, 405: PROBLEMS[405] },
});

const readinessRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  summary: 'Readiness: a model is loaded and warmed',
  tags: ['operations'],
  security: [],
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
    405: PROBLEMS[405],
    503: PROBLEMS[503],
  },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics',
  tags: ['operations'],
  security: [],
  responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } }, 405: PROBLEMS[405] },
});

const openApiRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'This OpenAPI 3.1 document',
  tags: ['operations'],
  security: [],
  responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: z.looseObject({}) } } }, 405: PROBLEMS[405] },
});

export function operationRoutes(options: OperationRouteOptions) {
  const { models, metricsRegistry, peers, isDraining } = options;
  return new OpenAPIHono<AppEnvironment>()
    .openapi(healthRoute, (c) => c.json({ status: 'alive' as const }, 200))
    .openapi(readinessRoute, (c) => {
      const model = models.current;
      if (!models.ready || !model || isDraining()) {
        throw new ProblemException(isDraining() || models.isClosing ? 'shutting-down' : 'model-not-ready', { retryAfterSeconds: options.retryAfterSeconds });
      }
      return c.json({ status: 'ready' as const, modelVersion: model.id, featureSpecVersion: model.info.featureSpecVersion, loadedAt: model.loadedAt.toISOString() }, 200);
    })
    .openapi(metricsRoute, async (c) => c.text(await (peers ? peers.metrics() : metricsRegistry.metrics()), 200, { 'content-type': metricsRegistry.contentType }))
    .openapi(openApiRoute, (c) => c.json(options.openApiDocument(), 200));
}
