/**
 * Jenkins: asks the crumb issuer for a CSRF crumb (`GET <url>/crumbIssuer/api/json`, keeping the
 * session cookie the crumb is bound to), then `POST <url>/job/<folder>/job/<name>/buildWithParameters`
 * with the crumb header, HTTP basic auth (user + API token) and the build parameters
 * RETRAIN_REASON, RETAIL_MLOPS_ENVIRONMENT, MODEL_VERSION (plus the configured ones; the job declares
 * them). Jenkins answers 201 with the queue item in `Location`. A Jenkins without CSRF protection has
 * no crumb issuer (404): the build is requested without one.
 */
import { expectStatus, retrainMessage, send, trimSlashes, type ResolvedTriggerDependencies, type RetrainTrigger } from './trigger-http';
import type { JenkinsTriggerSettings } from '../../core/monitoring/settings';

export function jenkinsTrigger(
  settings: JenkinsTriggerSettings,
  credentials: { readonly user: string; readonly token: string },
  dependencies: ResolvedTriggerDependencies,
): RetrainTrigger {
  const root = trimSlashes(settings.url);
  const jobPath = settings.job
    .split('/')
    .map((part) => `job/${encodeURIComponent(part)}`)
    .join('/');
  const target = `${root}/${jobPath}`;
  const authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.token}`).toString('base64')}`;
  return {
    kind: 'jenkins',
    target,
    async trigger(request) {
      const headers: Record<string, string> = { authorization };
      const crumbResponse = await send('jenkins', target, dependencies, `${root}/crumbIssuer/api/json`, { headers: { authorization } });
      if (crumbResponse.status !== 404) {
        await expectStatus('jenkins', target, crumbResponse, [200]);
        const crumb = (await crumbResponse.json()) as { crumb?: string; crumbRequestField?: string };
        if (crumb.crumb && crumb.crumbRequestField) headers[crumb.crumbRequestField] = crumb.crumb;
        const cookies = crumbResponse.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
        if (cookies.length > 0) headers.cookie = cookies.join('; ');
      }
      const parameters = new URLSearchParams({
        ...settings.parameters,
        RETRAIN_REASON: retrainMessage(request),
        RETAIL_MLOPS_ENVIRONMENT: request.environment,
        MODEL_VERSION: request.modelVersion,
      });
      const response = await send('jenkins', target, dependencies, `${target}/buildWithParameters`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: parameters.toString(),
      });
      await expectStatus('jenkins', target, response, [200, 201]);
      const location = response.headers.get('location') ?? undefined;
      return { status: response.status, ...(location ? { location, id: /\/queue\/item\/(\d+)/.exec(location)?.[1] } : {}) };
    },
  };
}
