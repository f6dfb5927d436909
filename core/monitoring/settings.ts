/**
 * The `monitoring` section of `.retail-mlops.json` (rendered from `.projenrc.ts`): when and how
 * `retail-mlops monitor` judges drift and live accuracy, when it starts the training pipeline, and
 * through which CI. Secrets never appear here: the section names the environment variables that hold
 * them.
 *
 * ```json
 * "monitoring": {
 *   "schedule": "0 * * * *", "windowHours": 24, "driftThreshold": 0.25, "minimumPredictions": 200,
 *   "labelWindowHours": 168, "minimumLabelledBaskets": 200, "cooldownHours": 24,
 *   "predictionsMaxAgeDays": 7, "predictionsMaxGigabytes": 5,
 *   "trigger": { "kind": "jenkins", "url": "https://jenkins.example.com", "job": "retail-mlops/main" }
 * }
 * ```
 */
import { InvalidOptionsError } from '../errors';
import { DRIFT_PSI_THRESHOLD } from './drift';
import type { GateOptions } from '../evaluation/gate';
import { DEFAULT_GATE_OPTIONS } from '../evaluation/gate';

/** Jenkins: `POST <url>/job/<job>/buildWithParameters`, with a CSRF crumb and a user's API token (HTTP basic). */
export interface JenkinsTriggerSettings {
  readonly kind: 'jenkins';
  /** The Jenkins root URL, e.g. `https://jenkins.example.com`. */
  readonly url: string;
  /** The job, folders separated by '/': `retail-mlops/main`. */
  readonly job: string;
  /** Extra build parameters (the job must declare them). @default {} */
  readonly parameters?: Readonly<Record<string, string>>;
  /** The variable holding the Jenkins user. @default 'JENKINS_USER' */
  readonly userVariable?: string;
  /** The variable holding that user's API token. @default 'JENKINS_API_TOKEN' */
  readonly tokenVariable?: string;
}

/** Azure DevOps: the Pipelines Runs API (`POST …/_apis/pipelines/<id>/runs`), signed in with workload identity. */
export interface AzureDevOpsTriggerSettings {
  readonly kind: 'azure-devops';
  /** `https://dev.azure.com/<organization>`. */
  readonly organizationUrl: string;
  readonly project: string;
  /** The pipeline's numeric id. */
  readonly pipelineId: number;
  /** The branch to run. @default 'main' */
  readonly branch?: string;
  /** Runtime parameters the pipeline declares. @default {} */
  readonly templateParameters?: Readonly<Record<string, string>>;
  /**
   * A variable holding a bearer token (e.g. a PAT) instead of workload identity.
   * @default - an Entra token for Azure DevOps from the pod's workload identity (DefaultAzureCredential)
   */
  readonly tokenVariable?: string;
}

/** Travis CI: `POST <endpoint>/repo/<owner%2Fname>/requests` (API v3). */
export interface TravisTriggerSettings {
  readonly kind: 'travis';
  /** `owner/name`. */
  readonly repository: string;
  /** @default 'main' */
  readonly branch?: string;
  /** @default 'https://api.travis-ci.com' */
  readonly endpoint?: string;
  /** The variable holding the Travis API token. @default 'TRAVIS_API_TOKEN' */
  readonly tokenVariable?: string;
}

/** Any HTTP endpoint: `POST <url>` with a JSON body, signed with HMAC-SHA256 when a secret is set. */
export interface WebhookTriggerSettings {
  readonly kind: 'webhook';
  readonly url: string;
  /** The variable holding the signing secret (`X-Retail-Mlops-Signature-256: sha256=<hex>`). @default - unsigned */
  readonly secretVariable?: string;
}

export type RetrainTriggerSettings = JenkinsTriggerSettings | AzureDevOpsTriggerSettings | TravisTriggerSettings | WebhookTriggerSettings;

export const TRIGGER_KINDS = ['jenkins', 'azure-devops', 'travis', 'webhook'] as const;

export interface MonitoringSettings {
  /** The CronJob's schedule (cron, 5 fields). @default '0 * * * *' (hourly) */
  readonly schedule?: string;
  /** Hours of shipped predictions compared with the reference. @default 24 */
  readonly windowHours?: number;
  /** PSI above which a feature (or the predicted classes) has drifted. @default 0.25 */
  readonly driftThreshold?: number;
  /** Fewer predictions in the window give no drift verdict (and start nothing). @default 200 */
  readonly minimumPredictions?: number;
  /** Hours of shipped predictions whose labels (ingested later) are looked up. @default 168 */
  readonly labelWindowHours?: number;
  /** Fewer labelled baskets give no accuracy verdict. @default 200 */
  readonly minimumLabelledBaskets?: number;
  /** Live accuracy below this starts a retrain. @default the gate's minimumAccuracy */
  readonly minimumAccuracy?: number;
  /** Live macro-F1 below this starts a retrain. @default the gate's minimumMacroF1 */
  readonly minimumMacroF1?: number;
  /** At most one retrain per this many hours. @default 24 */
  readonly cooldownHours?: number;
  /** Shipped prediction segments older than this are deleted. @default 7 */
  readonly predictionsMaxAgeDays?: number;
  /** Beyond this size the oldest shipped segments are deleted. @default 5 */
  readonly predictionsMaxGigabytes?: number;
  /** How to start the training pipeline. @default - none: drift is reported, nothing is started */
  readonly trigger?: RetrainTriggerSettings;
}

export type ResolvedMonitoringSettings = Required<Omit<MonitoringSettings, 'trigger'>> & { readonly trigger?: RetrainTriggerSettings };

export const DEFAULT_MONITORING: Required<Omit<MonitoringSettings, 'trigger' | 'minimumAccuracy' | 'minimumMacroF1'>> = {
  schedule: '0 * * * *',
  windowHours: 24,
  driftThreshold: DRIFT_PSI_THRESHOLD,
  minimumPredictions: 200,
  labelWindowHours: 168,
  minimumLabelledBaskets: 200,
  cooldownHours: 24,
  predictionsMaxAgeDays: 7,
  predictionsMaxGigabytes: 5,
};

const NUMBER_RULES: Readonly<Record<string, { readonly minimum: number; readonly maximum: number; readonly integer: boolean; readonly meaning: string }>> = {
  windowHours: { minimum: 0.25, maximum: 24 * 90, integer: false, meaning: 'hours' },
  driftThreshold: { minimum: 0.001, maximum: 10, integer: false, meaning: 'a PSI' },
  minimumPredictions: { minimum: 1, maximum: 1e9, integer: true, meaning: 'a count' },
  labelWindowHours: { minimum: 1, maximum: 24 * 366, integer: false, meaning: 'hours' },
  minimumLabelledBaskets: { minimum: 1, maximum: 1e9, integer: true, meaning: 'a count' },
  minimumAccuracy: { minimum: 0, maximum: 1, integer: false, meaning: 'a share' },
  minimumMacroF1: { minimum: 0, maximum: 1, integer: false, meaning: 'a share' },
  cooldownHours: { minimum: 0, maximum: 24 * 366, integer: false, meaning: 'hours' },
  predictionsMaxAgeDays: { minimum: 1, maximum: 3660, integer: false, meaning: 'days' },
  predictionsMaxGigabytes: { minimum: 0.001, maximum: 1e6, integer: false, meaning: 'gigabytes' },
};

const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An http(s) URL: https, or http on loopback (emulators and tests). */
function urlProblem(label: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `${label} must be a URL`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${label} must be a URL, got ${JSON.stringify(value)}`;
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return `${label} must be https:// (http:// only on loopback), got ${JSON.stringify(value)}`;
  if (url.username || url.password) return `${label} must not hold credentials (name the variables that hold them)`;
  return undefined;
}

function stringMapProblems(label: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!isRecord(value)) return [`${label} must be an object of strings`];
  return Object.entries(value)
    .filter(([, item]) => typeof item !== 'string')
    .map(([key]) => `${label}.${key} must be a string`);
}

function triggerProblems(trigger: unknown): string[] {
  const label = 'monitoring.trigger';
  if (!isRecord(trigger)) return [`${label} must be an object with a kind (${TRIGGER_KINDS.join(', ')})`];
  const problems: string[] = [];
  const allowed: Readonly<Record<string, readonly string[]>> = {
    'jenkins': ['kind', 'url', 'job', 'parameters', 'userVariable', 'tokenVariable'],
    'azure-devops': ['kind', 'organizationUrl', 'project', 'pipelineId', 'branch', 'templateParameters', 'tokenVariable'],
    'travis': ['kind', 'repository', 'branch', 'endpoint', 'tokenVariable'],
    'webhook': ['kind', 'url', 'secretVariable'],
  };
  const kind = trigger.kind;
  if (typeof kind !== 'string' || !(kind in allowed)) return [`${label}.kind must be one of ${TRIGGER_KINDS.join(', ')}, got ${JSON.stringify(kind)}`];
  for (const key of Object.keys(trigger)) if (!allowed[kind].includes(key)) problems.push(`${label} (${kind}) has an unknown key '${key}' (known: ${allowed[kind].join(', ')})`);
  const nonEmpty = (key: string, required: boolean): void => {
    const value = trigger[key];
    if (value === undefined) {
      if (required) problems.push(`${label}.${key} is required for ${kind}`);
    } else if (typeof value !== 'string' || value.trim().length === 0) {
      problems.push(`${label}.${key} must be a non-empty string`);
    }
  };
  const variable = (key: string): void => {
    const value = trigger[key];
    if (value !== undefined && (typeof value !== 'string' || !VARIABLE_NAME.test(value))) {
      problems.push(`${label}.${key} must name an environment variable (A–Z, 0–9, _), got ${JSON.stringify(value)}: secrets come from variables, never from this file`);
    }
  };
  const url = (key: string, required: boolean): void => {
    if (trigger[key] === undefined) {
      if (required) problems.push(`${label}.${key} is required for ${kind}`);
      return;
    }
    const problem = urlProblem(`${label}.${key}`, trigger[key]);
    if (problem) problems.push(problem);
  };
  switch (kind) {
    case 'jenkins':
      url('url', true);
      nonEmpty('job', true);
      if (typeof trigger.job === 'string' && trigger.job.split('/').some((part) => part.trim() === '')) problems.push(`${label}.job must be folder/…/job names separated by '/', got ${JSON.stringify(trigger.job)}`);
      problems.push(...stringMapProblems(`${label}.parameters`, trigger.parameters));
      variable('userVariable');
      variable('tokenVariable');
      break;
    case 'azure-devops':
      url('organizationUrl', true);
      nonEmpty('project', true);
      if (!(Number.isInteger(trigger.pipelineId) && (trigger.pipelineId as number) > 0)) problems.push(`${label}.pipelineId must be the pipeline's id (a positive integer), got ${JSON.stringify(trigger.pipelineId)}`);
      nonEmpty('branch', false);
      problems.push(...stringMapProblems(`${label}.templateParameters`, trigger.templateParameters));
      variable('tokenVariable');
      break;
    case 'travis':
      nonEmpty('repository', true);
      if (typeof trigger.repository === 'string' && !/^[\w.-]+\/[\w.-]+$/.test(trigger.repository)) problems.push(`${label}.repository must be owner/name, got ${JSON.stringify(trigger.repository)}`);
      nonEmpty('branch', false);
      url('endpoint', false);
      variable('tokenVariable');
      break;
    default:
      url('url', true);
      variable('secretVariable');
  }
  return problems;
}

/** Problems of a `monitoring` section (every one; empty when valid). */
export function monitoringSettingsProblems(section: unknown): string[] {
  if (section === undefined) return [];
  if (!isRecord(section)) return ['monitoring must be an object'];
  const problems: string[] = [];
  const known = [...Object.keys(DEFAULT_MONITORING), 'minimumAccuracy', 'minimumMacroF1', 'trigger'];
  for (const key of Object.keys(section)) if (!known.includes(key)) problems.push(`monitoring has an unknown key '${key}' (known: ${known.join(', ')})`);
  for (const [key, rule] of Object.entries(NUMBER_RULES)) {
    const value = section[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.minimum || value > rule.maximum || (rule.integer && !Number.isInteger(value))) {
      problems.push(`monitoring.${key} must be ${rule.integer ? 'an integer' : 'a number'} (${rule.meaning}) from ${rule.minimum} to ${rule.maximum}, got ${JSON.stringify(value)}`);
    }
  }
  if (section.schedule !== undefined) {
    const fields = typeof section.schedule === 'string' ? section.schedule.trim().split(/\s+/) : [];
    if (fields.length !== 5 || !fields.every((field) => CRON_FIELD.test(field))) problems.push(`monitoring.schedule must be a cron schedule of 5 fields such as '0 * * * *', got ${JSON.stringify(section.schedule)}`);
  }
  if (section.trigger !== undefined) problems.push(...triggerProblems(section.trigger));
  return problems;
}

/**
 * The section with defaults (accuracy floors from the gate), overridden by `overrides` (command-line
 * flags). @throws InvalidOptionsError listing every problem
 */
export function resolveMonitoringSettings(
  config: { readonly monitoring?: unknown; readonly gate?: GateOptions },
  overrides: Partial<Omit<MonitoringSettings, 'trigger'>> = {},
): ResolvedMonitoringSettings {
  const problems = monitoringSettingsProblems(config.monitoring);
  const cleanOverrides = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  problems.push(...monitoringSettingsProblems(cleanOverrides).map((problem) => problem.replace(/^monitoring\./, 'flag ')));
  if (problems.length > 0) throw new InvalidOptionsError('monitoring settings', problems);
  const section = (config.monitoring ?? {}) as MonitoringSettings;
  const gate = { ...DEFAULT_GATE_OPTIONS, ...config.gate };
  return {
    ...DEFAULT_MONITORING,
    minimumAccuracy: gate.minimumAccuracy,
    minimumMacroF1: gate.minimumMacroF1,
    ...section,
    ...cleanOverrides,
  };
}
