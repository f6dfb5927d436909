/**
 * What every retrain trigger shares: the request and outcome, the error, and one HTTP request with a
 * timeout whose failures say which CI and URL.
 */
import { RetailMlopsError } from '../../core/errors';
import type { RetrainTriggerSettings } from '../../core/monitoring/settings';

/** Why the pipeline should run. */
export interface RetrainRequest {
  readonly environment: string;
  /** The model whose drift or accuracy calls for a retrain. */
  readonly modelVersion: string;
  /** One sentence per reason, e.g. `drift: max PSI 0.61 (format_ls) above 0.25`. */
  readonly reasons: readonly string[];
  /** Where the drift report is. */
  readonly report?: string;
  /** The monitor's summary (sent to webhooks). */
  readonly summary: Readonly<Record<string, unknown>>;
}

/** What the CI answered. */
export interface RetrainOutcome {
  /** HTTP status of the triggering request. */
  readonly status: number;
  /** Where to follow the build: a queue item, run or request URL, when the CI gave one. */
  readonly location?: string;
  /** The CI's id for the run or request, when it gave one. */
  readonly id?: string;
}

export interface RetrainTrigger {
  readonly kind: RetrainTriggerSettings['kind'];
  /** What it calls, for logs: a URL without credentials. */
  readonly target: string;
  /** @throws RetrainTriggerError when the CI refuses or cannot be reached */
  trigger(request: RetrainRequest): Promise<RetrainOutcome>;
}

/** The CI refused the request or could not be reached. */
export class RetrainTriggerError extends RetailMlopsError {
  constructor(readonly kind: string, readonly target: string, message: string, readonly status?: number, options?: { readonly cause?: unknown }) {
    super('RETRAIN_TRIGGER_FAILED', `${kind} ${target}: ${message}`, options);
  }
}

/** An Entra ID access token for a scope (workload identity in the cluster). */
export type TokenProvider = (scope: string) => Promise<string>;

/** What triggers use to reach their CI. */
export interface ResolvedTriggerDependencies {
  readonly variables: NodeJS.ProcessEnv;
  readonly fetch: typeof fetch;
  readonly azureToken: TokenProvider;
  readonly timeoutMs: number;
}

/** Entra's resource id of Azure DevOps: tokens for it are what the REST API accepts. */
export const AZURE_DEVOPS_SCOPE = '499b84ac-1321-427f-aa17-267ca6975798/.default';

/** One request with a timeout; network failures become RetrainTriggerError. */
export async function send(
  kind: string,
  target: string,
  dependencies: ResolvedTriggerDependencies,
  url: string,
  init: RequestInit,
): Promise<Response> {
  try {
    return await dependencies.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(dependencies.timeoutMs) });
  } catch (error) {
    throw new RetrainTriggerError(kind, target, `request failed: ${(error as Error).message}`, undefined, { cause: error });
  }
}

/** Throws when `response` is not one of `expected`, with the start of its body. */
export async function expectStatus(kind: string, target: string, response: Response, expected: readonly number[]): Promise<void> {
  if (expected.includes(response.status)) return;
  const text = (await response.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
  throw new RetrainTriggerError(kind, target, `answered ${response.status}${text ? `: ${text}` : ''}`, response.status);
}

/** A URL without trailing slashes. */
export function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The first line of a retrain's reasons, for commit-message-like fields. */
export function retrainMessage(request: RetrainRequest): string {
  return `retail-mlops monitor (${request.environment}): retrain ${request.modelVersion}: ${request.reasons.join('; ')}`;
}
