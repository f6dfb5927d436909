/**
 * Travis CI: `POST <endpoint>/repo/<owner%2Fname>/requests` (API v3, `Travis-API-Version: 3`,
 * `Authorization: token …`) with the branch and a message saying why. Travis answers 202 with the
 * request's id.
 */
import { expectStatus, retrainMessage, send, trimSlashes, type ResolvedTriggerDependencies, type RetrainTrigger } from './trigger-http';
import type { TravisTriggerSettings } from '../../core/monitoring/settings';

export function travisTrigger(settings: TravisTriggerSettings, token: string, dependencies: ResolvedTriggerDependencies): RetrainTrigger {
  const target = `${trimSlashes(settings.endpoint ?? 'https://api.travis-ci.com')}/repo/${encodeURIComponent(settings.repository)}/requests`;
  return {
    kind: 'travis',
    target,
    async trigger(request) {
      const response = await send('travis', target, dependencies, target, {
        method: 'POST',
        headers: { 'travis-api-version': '3', 'authorization': `token ${token}`, 'content-type': 'application/json', 'accept': 'application/json' },
        body: JSON.stringify({ request: { branch: settings.branch ?? 'main', message: retrainMessage(request) } }),
      });
      await expectStatus('travis', target, response, [200, 201, 202]);
      const answer = (await response.json().catch(() => ({}))) as { request?: { id?: number } };
      return { status: response.status, ...(answer.request?.id !== undefined ? { id: String(answer.request.id) } : {}) };
    },
  };
}
