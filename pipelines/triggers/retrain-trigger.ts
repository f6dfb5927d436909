/**
 * Starting the training pipeline from `retail-mlops monitor`: one implementation per CI system
 * (Jenkins, Azure DevOps, Travis CI) and a plain webhook, chosen by the `monitoring.trigger` section
 * of `.retail-mlops.json`. Secrets come from environment variables only (the section names them);
 * missing ones are reported, every one at once, before any request. Each trigger sends one request
 * (no automatic retry: a retried POST could start two builds; the next monitor run tries again), and
 * says what the CI answered.
 */
import { azureDevOpsTrigger } from './azure-devops-trigger';
import { jenkinsTrigger } from './jenkins-trigger';
import { travisTrigger } from './travis-trigger';
import { type ResolvedTriggerDependencies, type RetrainTrigger, type TokenProvider } from './trigger-http';
import { webhookTrigger } from './webhook-trigger';
import { InvalidOptionsError } from '../../core/errors';
import type { RetrainTriggerSettings } from '../../core/monitoring/settings';

export interface TriggerDependencies {
  /** Where secrets are read. @default process.env */
  readonly variables?: NodeJS.ProcessEnv;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Azure DevOps without a token variable. @default DefaultAzureCredential (workload identity on AKS) */
  readonly azureToken?: TokenProvider;
  /** Per request. @default 30_000 */
  readonly timeoutMs?: number;
  /** Fail when a secret's variable is unset (off: describe the trigger without calling it, e.g. a dry run). @default true */
  readonly requireSecrets?: boolean;
}

async function defaultAzureToken(scope: string): Promise<string> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  const token = await new DefaultAzureCredential().getToken(scope);
  if (!token) throw new Error(`no Entra ID token for ${scope} (is workload identity set up for this pod?)`);
  return token.token;
}

/**
 * The trigger a `monitoring.trigger` section describes, its secrets read now.
 * @throws InvalidOptionsError naming every missing variable
 */
export function createRetrainTrigger(settings: RetrainTriggerSettings, dependencies: TriggerDependencies = {}): RetrainTrigger {
  const resolved: ResolvedTriggerDependencies = {
    variables: dependencies.variables ?? process.env,
    fetch: dependencies.fetch ?? globalThis.fetch,
    azureToken: dependencies.azureToken ?? defaultAzureToken,
    timeoutMs: dependencies.timeoutMs ?? 30_000,
  };
  const problems: string[] = [];
  const secret = (variable: string): string => {
    const value = resolved.variables[variable];
    if (value === undefined || value.trim() === '') {
      if (dependencies.requireSecrets === false) return '';
      problems.push(`the ${settings.kind} trigger needs the environment variable ${variable}`);
      return '';
    }
    return value.trim();
  };
  let trigger: RetrainTrigger;
  switch (settings.kind) {
    case 'jenkins':
      trigger = jenkinsTrigger(settings, { user: secret(settings.userVariable ?? 'JENKINS_USER'), token: secret(settings.tokenVariable ?? 'JENKINS_API_TOKEN') }, resolved);
      break;
    case 'azure-devops':
      trigger = azureDevOpsTrigger(settings, settings.tokenVariable ? secret(settings.tokenVariable) : undefined, resolved);
      break;
    case 'travis':
      trigger = travisTrigger(settings, secret(settings.tokenVariable ?? 'TRAVIS_API_TOKEN'), resolved);
      break;
    case 'webhook':
      trigger = webhookTrigger(settings, settings.secretVariable ? secret(settings.secretVariable) : undefined, resolved);
      break;
  }
  if (problems.length > 0) throw new InvalidOptionsError('retrain trigger', problems);
  return trigger;
}

