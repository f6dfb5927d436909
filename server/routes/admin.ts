/**
 * POST /admin/reload behind an admin key (middleware/authentication.ts): reload the pinned model now
 * (in every process of `serve --processes`).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnvironment } from '../app-environment';
import type { ApiKeyAuthenticator } from '../auth';
import { requireAdminKey } from '../middleware/authentication';
import type { ModelService } from '../models/model-service';
import { PROBLEMS } from '../openapi';
import { ReloadResponseSchema } from '../schemas';
import type { ProcessGroupPeers } from '../server-processes';
import { SERVER_VARIABLES } from '../settings';

export interface AdminRouteOptions {
  readonly models: ModelService;
  /** The prediction keys (answered 403 here, not 401). */
  readonly auth: ApiKeyAuthenticator;
  /** The admin keys. @default none: every key gets 403 */
  readonly adminAuth?: ApiKeyAuthenticator;
  /** The other server processes, reloaded before the answer goes out. @default none */
  readonly peers?: ProcessGroupPeers;
}

const reloadRoute = createRoute({
  method: 'post',
  path: '/admin/reload',
  operationId: 'reloadModel',
  summary: 'Reload the pinned model now',
  description:
    'Resolves the pinned reference again; a new version is loaded, checked (feature-spec hash, warm-up prediction) beside the serving one and swapped in atomically. A refused model leaves the serving one in place.',
  tags: ['admin'],
  security: [{ adminKey: [] }],
  responses: {
    200: { description: 'The model serving now', content: { 'application/json': { schema: ReloadResponseSchema } } },
    401: PROBLEMS[401],
    405: PROBLEMS[405],
    403: PROBLEMS[403],
    422: PROBLEMS[422],
    502: PROBLEMS[502],
    503: PROBLEMS[503],
  },
});

export function adminRoutes(options: AdminRouteOptions) {
  const { models } = options;
  const app = new OpenAPIHono<AppEnvironment>();
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminKey', {
    type: 'http',
    scheme: 'bearer',
    description: `An admin key (${SERVER_VARIABLES.adminKeys}) as a bearer token; without admin keys the admin endpoints are off`,
  });
  app.use('/admin/*', requireAdminKey(options.auth, options.adminAuth));
  return app.openapi(reloadRoute, async (c) => {
    const outcome = await models.reload('admin');
    // every process of `serve --processes` serves the same version once the answer is out
    await options.peers?.reloadOthers();
    return c.json(outcome, 200);
  });
}
