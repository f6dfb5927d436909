/**
 * The provider seam: one resolver turns flags > environment variables > `.retail-mlops.json` > the
 * embedded local default into an environment — its provider, lake, registry, landing area, training
 * backend and provider settings — and opens what commands and `serve` use from it. Nothing else
 * creates a provider.
 *
 * Resolution is pure and checks everything before any cloud call, reporting every problem at once:
 * a location of another provider's form, a missing or malformed option, an unknown provider or
 * backend. `openEnvironment` then creates the provider (its SDKs load only when something is used).
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AZURE_STORAGE_KEY_VARIABLE,
  DEFAULT_BACKEND,
  ENVIRONMENT_VARIABLE,
  LOCAL_DEFAULT,
  PROJECT_CONFIG_FILE,
  PROVIDER_NAMES,
  readProjectConfig,
  SETTINGS,
  TRAINING_BACKEND_NAMES,
  type AwsSettings,
  type AzureSettings,
  type EnvironmentSettings,
  type ProjectConfig,
  type ProviderName,
  type SettingDefinition,
  type TrainingBackendName,
} from '../core/config/settings';
import { InvalidOptionsError } from '../core/errors';
import { awsRegistryProblems, awsSettingsProblems, awsTrainingProblems } from './aws/settings';
import { azureRegistryProblems, azureSettingsProblems, azureTrainingProblems } from './azure/settings';
import { createLakeAccess, type LakeAccess } from './lake-access';
import { formatLocation, LOCATION_FORMS, parseLocation, type ParsedLocation } from './locations';
import { createProvider, type Provider, type RegistryOpenOptions } from './registry';
import type { ModelRegistry } from '../core/registry/port';
import type { ObjectStorage } from '../core/storage/port';
import { createInProcessTrainingBackend } from '../core/training/in-process';
import type { TrainingBackend } from '../core/training/port';

/** Settings given on the command line (each overrides its variable and the file). */
export interface EnvironmentFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly lake?: string;
  readonly registry?: string;
  readonly landing?: string;
  readonly backend?: string;
  readonly maxQuarantineRate?: string;
}

/**
 * What a command will use, so the resolver can say what is missing for it before anything runs:
 * `registry` writes (and mirrors into the cloud's own registry), `serving` only reads the registry.
 */
export type EnvironmentUse = 'lake' | 'registry' | 'serving' | 'training';

export interface ResolveEnvironmentOptions {
  /** @default {} */
  readonly flags?: EnvironmentFlags;
  /** @default process.env */
  readonly variables?: NodeJS.ProcessEnv;
  /** The directory holding `.retail-mlops.json`; relative local locations resolve against it. @default process.cwd() */
  readonly directory?: string;
  /** What the caller will use. @default ['lake', 'registry'] */
  readonly uses?: readonly EnvironmentUse[];
}

/** An environment with every setting decided. */
export interface ResolvedEnvironment {
  readonly name: string;
  readonly provider: ProviderName;
  /** Canonical locations: absolute directories, `s3://bucket/prefix`, Blob URLs. */
  readonly lake: string;
  readonly registry: string;
  readonly landing: string;
  readonly backend: TrainingBackendName;
  readonly maxQuarantineRate: number;
  readonly aws: AwsSettings;
  readonly azure: AzureSettings;
  /** Where each setting that has a value came from: `flag --lake`, `RETAIL_MLOPS_LAKE`, `.retail-mlops.json`, `default`. */
  readonly origins: Readonly<Record<string, string>>;
  /** The whole settings file (gate, deploy, monitoring sections). */
  readonly project: ProjectConfig;
}

/** One error for every problem of the settings (the CLI exits 2 on it). */
export class InvalidEnvironmentError extends InvalidOptionsError {
  constructor(readonly environment: string, problems: readonly string[]) {
    super(`settings of environment '${environment}'`, problems);
  }
}

type SettingValue = string | boolean | number | readonly string[];

const LOCATION_KINDS: Readonly<Record<ProviderName, string>> = { local: 'a local directory', aws: 'an S3 location', azure: 'a Blob Storage location' };

function flagKey(flag: string): keyof EnvironmentFlags {
  return flag.slice(2).replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase()) as keyof EnvironmentFlags;
}

function parseText(setting: SettingDefinition, text: string, origin: string, problems: string[]): SettingValue | undefined {
  switch (setting.type) {
    case 'string':
      return text;
    case 'list':
      return text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
    case 'boolean':
      if (/^(true|1|yes)$/i.test(text)) return true;
      if (/^(false|0|no)$/i.test(text)) return false;
      problems.push(`${origin} must be true or false, got '${text}'`);
      return undefined;
    case 'rate': {
      const rate = Number(text);
      if (text.trim() !== '' && Number.isFinite(rate) && rate >= 0 && rate <= 1) return rate;
      problems.push(`${origin} must be a number from 0 to 1, got '${text}'`);
      return undefined;
    }
  }
}

function fileValue(environment: EnvironmentSettings | undefined, key: string): SettingValue | undefined {
  if (!environment) return undefined;
  const [section, option] = key.split('.');
  if (option === undefined) return (environment as Record<string, SettingValue | undefined>)[section];
  return ((environment as Record<string, Record<string, SettingValue> | undefined>)[section] ?? {})[option];
}

/**
 * Decides an environment's settings: flags > environment variables > `.retail-mlops.json` > the
 * embedded local default.
 * @throws InvalidEnvironmentError listing every problem (nothing has talked to a cloud yet)
 */
export function resolveEnvironment(options: ResolveEnvironmentOptions = {}): ResolvedEnvironment {
  const flags = options.flags ?? {};
  const variables = options.variables ?? process.env;
  const directory = path.resolve(options.directory ?? process.cwd());
  const uses = options.uses ?? ['lake', 'registry'];
  const problems: string[] = [];
  let project: ProjectConfig = {};
  try {
    project = readProjectConfig(directory);
  } catch (error) {
    if (!(error instanceof InvalidOptionsError)) throw error;
    problems.push(...error.problems.map((problem) => `${PROJECT_CONFIG_FILE}: ${problem}`));
  }
  const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());
  const [name, nameOrigin] =
    nonEmpty(flags.environment) !== undefined ? [nonEmpty(flags.environment) as string, 'flag --environment']
      : nonEmpty(variables[ENVIRONMENT_VARIABLE]) !== undefined ? [nonEmpty(variables[ENVIRONMENT_VARIABLE]) as string, ENVIRONMENT_VARIABLE]
        : project.defaultEnvironment !== undefined ? [project.defaultEnvironment, `${PROJECT_CONFIG_FILE} defaultEnvironment`]
          : ['local', 'default'];
  const declared = project.environments?.[name];
  const values: Record<string, SettingValue> = {};
  const origins: Record<string, string> = { environment: nameOrigin };
  for (const setting of SETTINGS) {
    const flagText = setting.flag ? nonEmpty(flags[flagKey(setting.flag)]) : undefined;
    const variable = [setting.variable, ...(setting.fallbackVariables ?? [])].find((candidate) => nonEmpty(variables[candidate]) !== undefined);
    let value: SettingValue | undefined;
    let origin: string | undefined;
    if (flagText !== undefined) {
      origin = `flag ${setting.flag}`;
      value = parseText(setting, flagText, origin, problems);
    } else if (variable !== undefined) {
      origin = variable;
      value = parseText(setting, nonEmpty(variables[variable]) as string, origin, problems);
    } else if (fileValue(declared, setting.key) !== undefined) {
      origin = `${PROJECT_CONFIG_FILE} environments.${name}.${setting.key}`;
      value = fileValue(declared, setting.key);
    }
    if (value !== undefined && origin !== undefined) {
      values[setting.key] = value;
      origins[setting.key] = origin;
    }
  }
  // an environment the file does not declare is fine when flags or variables say where things are
  if (!declared && name !== 'local' && !['provider', 'lake', 'registry'].some((key) => origins[key] !== undefined)) {
    const known = Object.keys(project.environments ?? {});
    problems.push(`no environment '${name}' in ${PROJECT_CONFIG_FILE} (${known.length > 0 ? `environments: ${known.join(', ')}` : 'it declares none'}); name one, or set ${SETTINGS[0].variable} and the locations`);
  }

  // nobody named the provider: the locations given say it (s3:// is aws, a Blob URL azure)
  if (values.provider === undefined) {
    const named = (['lake', 'registry', 'landing'] as const).flatMap((key) => {
      const text = values[key] as string | undefined;
      if (text === undefined) return [];
      try {
        return [{ key, provider: parseLocation(text, directory).provider }];
      } catch {
        return []; // reported with the location below
      }
    });
    const inferred = [...new Set(named.map((entry) => entry.provider))];
    if (inferred.length === 1 && inferred[0] !== 'local') {
      values.provider = inferred[0];
      origins.provider = `inferred from ${named.map((entry) => entry.key).join(', ')}`;
    } else if (inferred.length > 1) {
      problems.push(`${named.map((entry) => `${entry.key} (${origins[entry.key]}) is ${LOCATION_KINDS[entry.provider]}`).join(', ')}: one environment lives on one provider`);
    }
  }
  const providerText = (values.provider as string | undefined) ?? 'local';
  if (values.provider === undefined) origins.provider = 'default';
  const provider = (PROVIDER_NAMES as readonly string[]).includes(providerText) ? (providerText as ProviderName) : undefined;
  if (!provider) problems.push(`provider '${providerText}' (${origins.provider}) is not one of ${PROVIDER_NAMES.join(', ')}`);

  const needed = { lake: uses.includes('lake') || uses.includes('training'), registry: uses.includes('registry') || uses.includes('serving'), landing: false };
  const location = (key: 'lake' | 'registry' | 'landing', fallback: string | undefined): string => {
    let text = values[key] as string | undefined;
    if (text === undefined && fallback !== undefined) {
      text = fallback;
      origins[key] = 'default';
    }
    if (text === undefined) {
      // with an unknown provider, which locations it needs is unknown too: only its name is reported;
      // a location the use does not need may stay unset
      if (!provider || !needed[key]) return '';
      problems.push(`${key} is required for provider ${provider} (${SETTINGS.find((setting) => setting.key === key)?.variable}, --${key}, or environments.${name}.${key}): ${provider ? LOCATION_FORMS[provider] : 'a location'}`);
      return '';
    }
    let parsed: ParsedLocation;
    try {
      parsed = parseLocation(text, directory);
    } catch (error) {
      if (!(error instanceof InvalidOptionsError)) throw error;
      problems.push(...error.problems.map((problem) => `${key} (${origins[key]}): ${problem}`));
      return text;
    }
    if (provider && parsed.provider !== provider) {
      problems.push(`${key} '${text}' (${origins[key]}) is ${LOCATION_KINDS[parsed.provider]}, but the provider is ${provider} (${origins.provider}): use ${LOCATION_FORMS[provider]}`);
    }
    return formatLocation(parsed);
  };
  const isLocal = provider === 'local';
  const lake = location('lake', isLocal ? LOCAL_DEFAULT.lake : undefined);
  const registry = location('registry', isLocal ? LOCAL_DEFAULT.registry : undefined);
  const lakeProblem = lake === '' || problems.some((problem) => problem.startsWith('lake'));
  // the landing area defaults to <lake>/landing; with no usable lake, only an explicit one is checked
  const landing = lakeProblem && values.landing === undefined ? '' : location('landing', lakeProblem ? undefined : isLocal ? path.join(lake, 'landing') : `${lake}/landing`);

  const backendText = (values.backend as string | undefined) ?? (provider ? DEFAULT_BACKEND[provider] : 'in-process');
  if (values.backend === undefined) origins.backend = 'default';
  const backend = (TRAINING_BACKEND_NAMES as readonly string[]).includes(backendText) ? (backendText as TrainingBackendName) : undefined;
  if (!backend) problems.push(`backend '${backendText}' (${origins.backend}) is not one of ${TRAINING_BACKEND_NAMES.join(', ')}`);
  const backendProvider: Readonly<Record<TrainingBackendName, ProviderName | undefined>> = { 'in-process': undefined, 'sagemaker': 'aws', 'azureml': 'azure' };
  if (backend && provider && backendProvider[backend] !== undefined && backendProvider[backend] !== provider) {
    problems.push(`backend ${backend} (${origins.backend}) trains on ${backendProvider[backend]}, but the provider is ${provider}`);
  }

  const section = <T>(prefix: 'aws' | 'azure'): T =>
    Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith(`${prefix}.`)).map(([key, value]) => [key.slice(prefix.length + 1), value])) as T;
  const aws = section<AwsSettings>('aws');
  const azure = section<AzureSettings>('azure');
  const trains = uses.includes('training') && backend !== 'in-process';
  if (provider === 'aws') {
    problems.push(...awsSettingsProblems(aws));
    if (uses.includes('registry')) problems.push(...awsRegistryProblems(aws));
    if (trains) problems.push(...awsTrainingProblems(aws));
  }
  if (provider === 'azure') {
    problems.push(...azureSettingsProblems(azure));
    if (uses.includes('registry')) problems.push(...azureRegistryProblems(azure));
    if (trains) problems.push(...azureTrainingProblems(azure));
  }
  // settings of other providers are ignored: a shell may well hold AWS_REGION while working locally
  if (problems.length > 0) throw new InvalidEnvironmentError(name, problems);
  return {
    name,
    provider: provider as ProviderName,
    lake,
    registry,
    landing,
    backend: backend as TrainingBackendName,
    maxQuarantineRate: (values.maxQuarantineRate as number | undefined) ?? 0.01,
    aws,
    azure,
    origins,
    project,
  };
}

/** What an opened environment gives commands and the server. */
export interface EnvironmentServices {
  readonly settings: ResolvedEnvironment;
  /** The environment's lake, or another lake of the same provider. */
  lake(location?: string): LakeAccess;
  /**
   * The environment's model registry (opened once per mode); `{ mirror: false }` for readers such as
   * the API, which need only the object store.
   */
  registry(options?: RegistryOpenOptions): Promise<ModelRegistry>;
  /** The environment's training backend: in-process, SageMaker or Azure ML (opened once). */
  trainingBackend(): Promise<TrainingBackend>;
  /** Object storage at a location of the environment's provider (the landing area, a lake's predictions). */
  storage(location: string): Promise<ObjectStorage>;
}

/** A directory for cloud lakes' local copies and job files: `$RETAIL_MLOPS_CACHE_DIR`, else the OS temp directory. */
export function cacheDirectory(variables: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(variables.RETAIL_MLOPS_CACHE_DIR ?? path.join(os.tmpdir(), 'retail-mlops-cache'));
}

/** Opens a resolved environment: creates its provider (settings checked again by the provider's factory). */
export async function openEnvironment(settings: ResolvedEnvironment, variables: NodeJS.ProcessEnv = process.env): Promise<EnvironmentServices> {
  const provider: Provider = await createProvider(settings.provider, { aws: settings.aws, azure: settings.azure, azureStorageKey: variables[AZURE_STORAGE_KEY_VARIABLE] });
  const cache = cacheDirectory(variables);
  const lakes = new Map<string, LakeAccess>();
  const lake = (location = settings.lake): LakeAccess => {
    const parsed = parseLocation(location);
    const canonical = formatLocation(parsed);
    let access = lakes.get(canonical);
    if (!access) {
      access = createLakeAccess({
        location: canonical,
        isLocal: parsed.provider === 'local',
        storage: () => provider.openStorage(parsed),
        cacheDirectory: path.join(cache, 'lakes', createHash('sha256').update(canonical).digest('hex').slice(0, 16)),
      });
      lakes.set(canonical, access);
    }
    return access;
  };
  const registries = new Map<boolean, Promise<ModelRegistry>>();
  let backend: Promise<TrainingBackend> | undefined;
  return {
    settings,
    lake,
    registry: (options = {}) => {
      const mirror = options.mirror ?? true;
      let registry = registries.get(mirror);
      if (!registry) {
        registry = provider.openRegistry(parseLocation(settings.registry), { mirror });
        registries.set(mirror, registry);
      }
      return registry;
    },
    trainingBackend: () =>
      (backend ??= (async () => {
        if (settings.backend === 'in-process') return createInProcessTrainingBackend({ openLake: (location) => lake(location).openExisting() });
        if (!provider.openTrainingBackend) throw new InvalidEnvironmentError(settings.name, [`provider ${provider.name} has no managed training backend ${settings.backend}`]);
        return provider.openTrainingBackend({ lake: parseLocation(settings.lake), workDirectory: path.join(cache, 'jobs') });
      })()),
    storage: async (location) => provider.openStorage(parseLocation(location)),
  };
}
