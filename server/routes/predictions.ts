/**
 * POST /v1/predict (one basket) and POST /v1/predict/batch (many), behind a bearer API key. Each
 * route is declared once: its OpenAPI description (the zod schemas the workers validate with,
 * limits included) is registered for the document, and its handler is mounted on the same path with
 * the middleware that reads the body as bytes, so nothing is parsed on this thread. The common,
 * valid request takes the fast path on node:http instead (fast-predict.ts), by the same rules.
 */
import { createRoute, OpenAPIHono, type RouteConfig, type RouteConfigToTypedResponse } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnvironment } from '../app-environment';
import type { ApiKeyAuthenticator } from '../auth';
import { outcomeProblem, predictionAnswer } from '../http-rules';
import type { BodyShape } from '../inference/protocol';
import { admission } from '../middleware/admission';
import { requireApiKey } from '../middleware/authentication';
import { limitBody } from '../middleware/body-limit';
import { rawBody } from '../middleware/raw-body';
import type { ModelService } from '../models/model-service';
import { PROBLEMS } from '../openapi';
import {
  basketSchema,
  BatchPredictResponseSchema,
  batchRequestSchema,
  PredictResponseSchema,
  type BasketRequest,
  type BatchRequest,
} from '../schemas';
import { SERVER_VARIABLES } from '../settings';

const PREDICT = { method: 'post', path: '/v1/predict' } as const;
const PREDICT_BATCH = { method: 'post', path: '/v1/predict/batch' } as const;

/** The prediction routes and the body each takes (the fast path takes these paths). */
export const PREDICTION_ROUTES: Readonly<Record<string, BodyShape>> = { [PREDICT.path]: 'basket', [PREDICT_BATCH.path]: 'batch' };

export interface PredictionRouteOptions {
  readonly models: ModelService;
  readonly auth: ApiKeyAuthenticator;
  readonly maxSingleBodyBytes: number;
  readonly maxBatchBodyBytes: number;
  readonly requestTimeoutMs: number;
}

/** The problem answers both prediction routes may give. */
const predictionProblems = {
  400: PROBLEMS[400],
  401: PROBLEMS[401],
  405: PROBLEMS[405],
  413: PROBLEMS[413],
  415: PROBLEMS[415],
  422: PROBLEMS[422],
  500: PROBLEMS[500],
  503: PROBLEMS[503],
} as const;
// declared apart (as const) so the routes' types keep each status: the typed client sees every answer
const predictResponses = {
  200: { description: 'The prediction', content: { 'application/json': { schema: PredictResponseSchema } } },
  ...predictionProblems,
} as const;
const batchResponses = {
  200: { description: 'The predictions, in request order', content: { 'application/json': { schema: BatchPredictResponseSchema } } },
  ...predictionProblems,
} as const;

export function predictionRoutes(options: PredictionRouteOptions) {
  const { models, requestTimeoutMs } = options;
  const requestLimits = models.requestLimits;
  const app = new OpenAPIHono<AppEnvironment>();

  const predictRoute = createRoute({
    ...PREDICT,
    operationId: 'predictBasket',
    summary: 'Price sensitivity of one basket',
    description: `The basket's class (LA, MM, UM) and class probabilities. At most ${requestLimits.maxLinesPerBasket} lines; body at most ${options.maxSingleBodyBytes} bytes.`,
    tags: ['predictions'],
    security: [{ apiKey: [] }],
    request: { body: { required: true, content: { 'application/json': { schema: basketSchema(requestLimits) } } } },
    responses: predictResponses,
  });
  const batchRoute = createRoute({
    ...PREDICT_BATCH,
    operationId: 'predictBaskets',
    summary: 'Price sensitivity of many baskets',
    description: `Predictions in request order. At most ${requestLimits.maxBasketsPerBatch} baskets of at most ${requestLimits.maxLinesPerBasket} lines; body at most ${options.maxBatchBodyBytes} bytes.`,
    tags: ['predictions'],
    security: [{ apiKey: [] }],
    request: { body: { required: true, content: { 'application/json': { schema: batchRequestSchema(requestLimits) } } } },
    responses: batchResponses,
  });
  app.openAPIRegistry.registerPath(predictRoute);
  app.openAPIRegistry.registerPath(batchRoute);
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: `An API key (${SERVER_VARIABLES.apiKeys}) as a bearer token`,
  });

  const predictionsOf = async (shape: BodyShape, c: Context<AppEnvironment>): Promise<string> => {
    const model = models.model();
    const outcome = await model.predict(shape, c.get('body'), c.get('requestId'), requestTimeoutMs);
    if (!outcome.ok) throw outcomeProblem(outcome);
    return predictionAnswer(model, shape, outcome.predictionsJson, c.get('requestId'));
  };

  app.use('/v1/*', requireApiKey(options.auth));
  // The answers are JSON text: the predictions part comes from the worker that made them (so a
  // 10,000-basket answer costs this thread a concatenation, not 10,000 objects); tests parse every shape.
  return app
    .post(predictRoute.path, limitBody(options.maxSingleBodyBytes), admission(models), rawBody<BasketRequest>(), async (c) =>
      answer<typeof predictRoute>(c, await predictionsOf('basket', c)),
    )
    .post(batchRoute.path, limitBody(options.maxBatchBodyBytes), admission(models), rawBody<BatchRequest>(), async (c) =>
      answer<typeof batchRoute>(c, await predictionsOf('batch', c)),
    );
}

/**
 * The 200 answer as JSON text, typed as every answer the route documents (the problem answers are
 * thrown and rendered by the app's onError), so the typed client sees the route's statuses.
 */
function answer<R extends RouteConfig>(c: Context, text: string): RouteConfigToTypedResponse<R> {
  return c.body(text, 200, { 'content-type': 'application/json' }) as unknown as RouteConfigToTypedResponse<R>;
}
