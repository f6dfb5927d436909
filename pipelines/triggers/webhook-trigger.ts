/**
 * A plain webhook: `POST <url>` with a JSON body (event `retrain`, environment, model version,
 * reasons, report, the monitor's summary), a delivery id, and — when a secret is set — an HMAC-SHA256
 * signature of the body in `X-Retail-Mlops-Signature-256: sha256=<hex>` (the receiver recomputes it).
 * Any 2xx is success.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { RetrainTriggerError, send, type ResolvedTriggerDependencies, type RetrainTrigger } from './trigger-http';
import type { WebhookTriggerSettings } from '../../core/monitoring/settings';

export const WEBHOOK_SIGNATURE_HEADER = 'x-retail-mlops-signature-256';

export function webhookTrigger(settings: WebhookTriggerSettings, secret: string | undefined, dependencies: ResolvedTriggerDependencies): RetrainTrigger {
  const url = new URL(settings.url);
  const target = `${url.origin}${url.pathname}`;
  return {
    kind: 'webhook',
    target,
    async trigger(request) {
      const delivery = randomUUID();
      const body = JSON.stringify({ event: 'retrain', delivery, ...request });
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-retail-mlops-delivery': delivery };
      if (secret !== undefined) headers[WEBHOOK_SIGNATURE_HEADER] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      const response = await send('webhook', target, dependencies, settings.url, { method: 'POST', headers, body });
      if (response.status < 200 || response.status >= 300) {
        const text = (await response.text().catch(() => '')).slice(0, 300);
        throw new RetrainTriggerError('webhook', target, `answered ${response.status}${text ? `: ${text}` : ''}`, response.status);
      }
      return { status: response.status, id: delivery };
    },
  };
}
