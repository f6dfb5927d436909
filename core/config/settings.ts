/**
 * The environment settings: which provider an environment uses (local, aws, azure), where its lake
 * and model registry live, how it trains, and the provider's own options. One table below defines
 * every setting once — its key in `.retail-mlops.json`, its environment variable, its flag — so the
 * resolver (providers/environment.ts), the CLI's `--help`, `retail-mlops config` and README read the
 * same names.
 *
 * `.retail-mlops.json` is rendered from `.projenrc.ts`:
 *
 * ```json
 * { "gate": { … },
 *   "defaultEnvironment": "local",
 *   "environments": {
 *     "local":      { "provider": "local", "lake": ".retail-mlops/lake", "registry": ".retail-mlops/registry" },
 *     "dev":        { "provider": "aws", "lake": "s3://acme-ml-dev/lake", "registry": "s3://acme-ml-dev/registry",
 *                     "aws": { "region": "eu-west-1", "roleArn": "arn:aws:iam::…:role/…", … } },
 *     "production": { "provider": "azure", "lake": "https://acme.blob.core.windows.net/lake", … ,
 *                     "azure": { "subscriptionId": "…", "resourceGroup": "…", "workspace": "…" } } } }
 * ```
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidOptionsError } from '../errors';
import type { GateOptions } from '../evaluation/gate';

/** The name of the project's settings file, at the repository root. */
export const PROJECT_CONFIG_FILE = '.retail-mlops.json';

export const PROVIDER_NAMES = ['local', 'aws', 'azure'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Where training jobs run: in this process, on SageMaker, or on Azure ML. */
export const TRAINING_BACKEND_NAMES = ['in-process', 'sagemaker', 'azureml'] as const;
export type TrainingBackendName = (typeof TRAINING_BACKEND_NAMES)[number];

/** The backend an environment trains on unless it says otherwise. */
export const DEFAULT_BACKEND: Readonly<Record<ProviderName, TrainingBackendName>> = { local: 'in-process', aws: 'sagemaker', azure: 'azureml' };

/** The environments a project has unless it declares others (`local` is the embedded default). */
export const STANDARD_ENVIRONMENTS = ['local', 'dev', 'staging', 'production'] as const;

/** AWS options of an environment: what an `s3://` URI cannot say. */
export interface AwsSettings {
  /** The region of the bucket, SageMaker and the registry. @default - $AWS_REGION */
  readonly region?: string;
  /** KMS key (id or ARN) every object, training volume and output is encrypted with. @default - the bucket's default encryption */
  readonly kmsKeyId?: string;
  /** The SageMaker execution role training jobs run as (required to train on SageMaker). */
  readonly roleArn?: string;
  /** The SageMaker Model Package Group versions are mirrored into. @default 'retail-mlops' */
  readonly modelPackageGroupName?: string;
  /** Private subnets training jobs run in. @default - no VPC configuration */
  readonly subnetIds?: readonly string[];
  /** Security groups of training jobs (with subnetIds). @default - none */
  readonly securityGroupIds?: readonly string[];
  /** Training instance type. @default 'ml.m5.xlarge' */
  readonly instanceType?: string;
  /** Train on managed spot capacity. @default true */
  readonly spot?: boolean;
  /** The project's container image (ECR): the project's own trainers run in it on SageMaker, and model packages name it. */
  readonly image?: string;
  /** Path-style S3 addressing (S3 emulators). @default false */
  readonly forcePathStyle?: boolean;
}

/** Azure options of an environment: what a Blob URI cannot say (the storage account and container are in the lake and registry URIs). */
export interface AzureSettings {
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  /** The Azure ML workspace: training jobs and the model versions the registry mirrors into. */
  readonly workspace?: string;
  /** The AmlCompute cluster training jobs run on. @default 'cpu-cluster' */
  readonly compute?: string;
  /** The project's container image (ACR) training jobs run in. */
  readonly image?: string;
  /** Azure Resource Manager's endpoint (an emulator's on loopback). @default 'https://management.azure.com' */
  readonly managementEndpoint?: string;
}

/** One environment of `.retail-mlops.json`. */
export interface EnvironmentSettings {
  /** @default 'local' */
  readonly provider?: ProviderName;
  /** The lake: a directory or `file://` (local), `s3://bucket/prefix` (aws), `https://<account>.blob.core.windows.net/<container>/<prefix>` (azure). */
  readonly lake?: string;
  /** The model registry, in the same forms as the lake. */
  readonly registry?: string;
  /** Where new raw LGSR files arrive for the pipeline's ingest stage (same forms). @default - `<lake>/landing` */
  readonly landing?: string;
  /** @default - in-process (local), sagemaker (aws), azureml (azure) */
  readonly backend?: TrainingBackendName;
  /** The rows a data validation may quarantine before the pipeline fails (0–1). @default 0.01 */
  readonly maxQuarantineRate?: number;
  readonly aws?: AwsSettings;
  readonly azure?: AzureSettings;
}

/** The whole `.retail-mlops.json`. Other sections (gate, deploy, monitoring) sit beside `environments`. */
export interface ProjectConfig {
  readonly gate?: GateOptions;
  /** The environment used when none is named. @default 'local' */
  readonly defaultEnvironment?: string;
  readonly environments?: Readonly<Record<string, EnvironmentSettings>>;
}

/** How a value is spelled where it comes from. */
export type SettingType = 'string' | 'list' | 'boolean' | 'rate';

/** One setting: its key in an environment block, its variable, its flag and what it means. */
export interface SettingDefinition {
  /** Key inside an environment of `.retail-mlops.json`: `lake`, `aws.region`. */
  readonly key: string;
  /** The environment variable that sets it. */
  readonly variable: string;
  /** Other variables read after `variable` (the SDKs' own names). */
  readonly fallbackVariables?: readonly string[];
  /** A command-line flag that sets it (commands that use the setting accept it). */
  readonly flag?: string;
  readonly type: SettingType;
  /** The providers that use it (none: every provider). */
  readonly providers?: readonly ProviderName[];
  readonly description: string;
}

/** Every environment setting. */
export const SETTINGS: readonly SettingDefinition[] = [
  { key: 'provider', variable: 'RETAIL_MLOPS_PROVIDER', flag: '--provider', type: 'string', description: `where the lake, registry and training live: ${PROVIDER_NAMES.join(' | ')}` },
  { key: 'lake', variable: 'RETAIL_MLOPS_LAKE', flag: '--lake', type: 'string', description: 'the lake: a directory, s3://bucket/prefix or https://<account>.blob.core.windows.net/<container>/<prefix>' },
  { key: 'registry', variable: 'RETAIL_MLOPS_REGISTRY', flag: '--registry', type: 'string', description: 'the model registry, in the same forms as the lake' },
  { key: 'landing', variable: 'RETAIL_MLOPS_LANDING', flag: '--landing', type: 'string', description: 'where new raw LGSR files arrive for the pipeline (default <lake>/landing)' },
  { key: 'backend', variable: 'RETAIL_MLOPS_BACKEND', flag: '--backend', type: 'string', description: `where training runs: ${TRAINING_BACKEND_NAMES.join(' | ')} (default: the provider's)` },
  { key: 'maxQuarantineRate', variable: 'RETAIL_MLOPS_MAX_QUARANTINE_RATE', flag: '--max-quarantine-rate', type: 'rate', description: 'share of rows data validation may quarantine before it fails (default 0.01)' },
  { key: 'aws.region', variable: 'RETAIL_MLOPS_AWS_REGION', fallbackVariables: ['AWS_REGION', 'AWS_DEFAULT_REGION'], type: 'string', providers: ['aws'], description: 'AWS region' },
  { key: 'aws.kmsKeyId', variable: 'RETAIL_MLOPS_AWS_KMS_KEY_ID', type: 'string', providers: ['aws'], description: 'KMS key for objects, training volumes and outputs' },
  { key: 'aws.roleArn', variable: 'RETAIL_MLOPS_AWS_ROLE_ARN', type: 'string', providers: ['aws'], description: 'SageMaker execution role of training jobs' },
  { key: 'aws.modelPackageGroupName', variable: 'RETAIL_MLOPS_AWS_MODEL_PACKAGE_GROUP', type: 'string', providers: ['aws'], description: 'SageMaker Model Package Group (default retail-mlops)' },
  { key: 'aws.subnetIds', variable: 'RETAIL_MLOPS_AWS_SUBNET_IDS', type: 'list', providers: ['aws'], description: 'comma-separated private subnets of training jobs' },
  { key: 'aws.securityGroupIds', variable: 'RETAIL_MLOPS_AWS_SECURITY_GROUP_IDS', type: 'list', providers: ['aws'], description: 'comma-separated security groups of training jobs' },
  { key: 'aws.instanceType', variable: 'RETAIL_MLOPS_AWS_INSTANCE_TYPE', type: 'string', providers: ['aws'], description: 'training instance type (default ml.m5.xlarge)' },
  { key: 'aws.spot', variable: 'RETAIL_MLOPS_AWS_SPOT', type: 'boolean', providers: ['aws'], description: 'train on managed spot capacity (default true)' },
  { key: 'aws.image', variable: 'RETAIL_MLOPS_AWS_IMAGE', type: 'string', providers: ['aws'], description: "the project's image in ECR (own trainers on SageMaker, model packages)" },
  { key: 'aws.forcePathStyle', variable: 'RETAIL_MLOPS_AWS_S3_FORCE_PATH_STYLE', type: 'boolean', providers: ['aws'], description: 'path-style S3 addressing (emulators; default false)' },
  { key: 'azure.subscriptionId', variable: 'RETAIL_MLOPS_AZURE_SUBSCRIPTION_ID', fallbackVariables: ['AZURE_SUBSCRIPTION_ID'], type: 'string', providers: ['azure'], description: 'subscription of the Azure ML workspace' },
  { key: 'azure.resourceGroup', variable: 'RETAIL_MLOPS_AZURE_RESOURCE_GROUP', type: 'string', providers: ['azure'], description: 'resource group of the Azure ML workspace' },
  { key: 'azure.workspace', variable: 'RETAIL_MLOPS_AZURE_WORKSPACE', type: 'string', providers: ['azure'], description: 'Azure ML workspace (training jobs, mirrored model versions)' },
  { key: 'azure.compute', variable: 'RETAIL_MLOPS_AZURE_COMPUTE', type: 'string', providers: ['azure'], description: 'AmlCompute cluster of training jobs (default cpu-cluster)' },
  { key: 'azure.image', variable: 'RETAIL_MLOPS_AZURE_IMAGE', type: 'string', providers: ['azure'], description: "the project's image in ACR training jobs run in" },
  { key: 'azure.managementEndpoint', variable: 'RETAIL_MLOPS_AZURE_MANAGEMENT_ENDPOINT', type: 'string', providers: ['azure'], description: 'Azure Resource Manager endpoint (emulators; default https://management.azure.com)' },
];

/** Variables that choose the environment itself, and secrets that never go into the settings file. */
export const ENVIRONMENT_VARIABLE = 'RETAIL_MLOPS_ENVIRONMENT';
/** The Blob account key, for emulators and accounts without Entra ID sign-in (never in `.retail-mlops.json`). */
export const AZURE_STORAGE_KEY_VARIABLE = 'RETAIL_MLOPS_AZURE_STORAGE_KEY';

/** The embedded local default: what an environment the file does not describe falls back to. */
export const LOCAL_DEFAULT: Readonly<Required<Pick<EnvironmentSettings, 'provider' | 'lake' | 'registry'>>> = {
  provider: 'local',
  lake: '.retail-mlops/lake',
  registry: '.retail-mlops/registry',
};

const TOP_LEVEL_KEYS = new Set(['gate', 'defaultEnvironment', 'environments', '//']);
const ENVIRONMENT_KEYS = new Set(['provider', 'lake', 'registry', 'landing', 'backend', 'maxQuarantineRate', 'aws', 'azure']);

/** The setting a key names, or undefined. */
export function settingOf(key: string): SettingDefinition | undefined {
  return SETTINGS.find((setting) => setting.key === key);
}

/** The environment variable of the setting `key` (one of SETTINGS; a programming error otherwise). */
export function settingVariable(key: string): string {
  const setting = settingOf(key);
  if (!setting) throw new Error(`no setting ${JSON.stringify(key)}`);
  return setting.variable;
}

/**
 * Reads `.retail-mlops.json` from `directory` (missing file: `{}`), checking its shape: unknown keys,
 * wrong types. Every problem at once.
 * @throws InvalidOptionsError
 */
export function readProjectConfig(directory = process.cwd()): ProjectConfig {
  const file = path.join(directory, PROJECT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidOptionsError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
  const problems = projectConfigProblems(parsed);
  if (problems.length > 0) throw new InvalidOptionsError(file, problems);
  return parsed as ProjectConfig;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems of a parsed `.retail-mlops.json` (shape only; values are checked when an environment is resolved). */
export function projectConfigProblems(config: unknown): string[] {
  if (!isRecord(config)) return ['the settings file must hold a JSON object'];
  const problems: string[] = [];
  for (const key of Object.keys(config)) if (!TOP_LEVEL_KEYS.has(key) && !isExtensionSection(key)) problems.push(`unknown key '${key}' (known: ${[...TOP_LEVEL_KEYS].filter((known) => known !== '//').join(', ')})`);
  if (config.defaultEnvironment !== undefined && typeof config.defaultEnvironment !== 'string') problems.push('defaultEnvironment must be a string');
  if (config.gate !== undefined && !isRecord(config.gate)) problems.push('gate must be an object');
  if (config.environments !== undefined) {
    if (!isRecord(config.environments)) {
      problems.push('environments must be an object of environments by name');
    } else {
      for (const [name, environment] of Object.entries(config.environments)) problems.push(...environmentShapeProblems(name, environment));
    }
  }
  return problems;
}

/** Sections other parts of the project own (deploy targets, monitoring): their owners check them. */
function isExtensionSection(key: string): boolean {
  return ['deploy', 'monitoring', 'api', 'ci'].includes(key);
}

function environmentShapeProblems(name: string, environment: unknown): string[] {
  const label = `environments.${name}`;
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) return [`environment name '${name}' must be lowercase letters, digits and '-'`];
  if (!isRecord(environment)) return [`${label} must be an object`];
  const problems: string[] = [];
  for (const key of Object.keys(environment)) if (!ENVIRONMENT_KEYS.has(key)) problems.push(`${label} has an unknown key '${key}' (known: ${[...ENVIRONMENT_KEYS].join(', ')})`);
  for (const [key, value] of Object.entries(environment)) {
    if (key === 'aws' || key === 'azure') {
      if (!isRecord(value)) {
        problems.push(`${label}.${key} must be an object`);
        continue;
      }
      for (const [option, optionValue] of Object.entries(value)) {
        const setting = settingOf(`${key}.${option}`);
        if (!setting) {
          const known = SETTINGS.filter((candidate) => candidate.key.startsWith(`${key}.`)).map((candidate) => candidate.key.slice(key.length + 1));
          problems.push(`${label}.${key} has an unknown option '${option}' (known: ${known.join(', ')})`);
        } else {
          problems.push(...valueTypeProblems(`${label}.${key}.${option}`, setting.type, optionValue));
        }
      }
      continue;
    }
    const setting = settingOf(key);
    if (setting) problems.push(...valueTypeProblems(`${label}.${key}`, setting.type, value));
  }
  return problems;
}

function valueTypeProblems(label: string, type: SettingType, value: unknown): string[] {
  switch (type) {
    case 'string':
      return typeof value === 'string' && value.length > 0 ? [] : [`${label} must be a non-empty string`];
    case 'list':
      return Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length > 0) ? [] : [`${label} must be a list of strings`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${label} must be true or false`];
    case 'rate':
      return typeof value === 'number' && value >= 0 && value <= 1 ? [] : [`${label} must be a number from 0 to 1`];
  }
}
