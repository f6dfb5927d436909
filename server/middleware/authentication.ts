import type { MiddlewareHandler } from 'hono';
import type { AppEnvironment } from '../app-environment';
import { bearerToken, type ApiKeyAuthenticator } from '../auth';
import { ProblemException } from '../problems';
import { SERVER_VARIABLES } from '../settings';

/** 401 with the WWW-Authenticate challenge of `realm` (no header, or a key that is not valid). */
function unauthorized(header: string | undefined, realm: string, what: string): ProblemException {
  return new ProblemException('unauthorized', {
    detail: header === undefined ? 'no Authorization header' : `the ${what} is not valid`,
    headers: { 'www-authenticate': header === undefined ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="invalid_token"` },
  });
}

/** Requires a valid API key as a bearer token (401 otherwise). */
export function requireApiKey(auth: ApiKeyAuthenticator): MiddlewareHandler<AppEnvironment> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = bearerToken(header);
    if (token === undefined || !auth.verify(token)) throw unauthorized(header, 'retail-mlops', 'API key');
    await next();
  };
}

/**
 * Requires an admin key: a prediction key gets 403 (admin keys are never prediction keys), and so
 * does every key when no admin keys are configured (`adminAuth` undefined); anything else 401.
 */
export function requireAdminKey(auth: ApiKeyAuthenticator, adminAuth: ApiKeyAuthenticator | undefined): MiddlewareHandler<AppEnvironment> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = bearerToken(header);
    if (token !== undefined && adminAuth?.verify(token)) return next();
    if (token !== undefined && auth.verify(token)) {
      throw new ProblemException('forbidden', {
        detail: adminAuth
          ? `an API key may not use /admin: use an admin key (${SERVER_VARIABLES.adminKeys})`
          : `the admin endpoints are off: no admin keys are configured (${SERVER_VARIABLES.adminKeys})`,
      });
    }
    throw unauthorized(header, 'retail-mlops-admin', 'key');
  };
}
