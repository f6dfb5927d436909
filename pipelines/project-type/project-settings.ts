/**
 * From `RetailMlopsProjectOptions` to everything the project renders: defaults filled in (placeholders
 * derived from the project's name where only the team knows the value), then every problem of the
 * options collected at once. Plain data; nothing here touches projen.
 */
import { CiSystem, Cloud, type EnvironmentOptions, type RetailMlopsProjectOptions } from './options';
import type { EnvironmentSettings, ProjectConfig } from '../../core/config/settings';
import { LOCAL_DEFAULT, projectConfigProblems } from '../../core/config/settings';
import type { GateOptions } from '../../core/evaluation/gate';
import { environments as deploymentEnvironments, environmentDefaults, type Environment } from '../../manifests/environments';
import type { DeploymentTargetSettings, EnvironmentTargetSettings } from '../../manifests/target-settings';
import type { PipelineOptions } from '../model';

/** The package teams depend on (and the name of the template's own project). */
export const TEMPLATE_PACKAGE = 'retail-mlops';

/** The share of quarantined rows above which data validation fails, unless an environment says otherwise. */
const DEFAULT_MAX_QUARANTINE_RATE = 0.01;
const PLACEHOLDER_GUID = '00000000-0000-0000-0000-000000000000';
const PLACEHOLDER_ACCOUNT = '111111111111';

/** One environment with every default filled in. */
export interface ResolvedEnvironment {
  readonly name: string;
  readonly provider: Cloud;
  readonly settings: EnvironmentSettings;
  readonly options: EnvironmentOptions;
}

export interface ProjectSettings {
  readonly cloud: Cloud;
  readonly ciSystems: readonly CiSystem[];
  readonly environments: readonly ResolvedEnvironment[];
  readonly config: ProjectConfig;
  readonly pipeline: PipelineOptions;
  /** Deployment targets (a cloud's dev, staging, production); undefined for `local`. */
  readonly deploymentTargets?: DeploymentTargetSettings;
  readonly problems: readonly string[];
}

/** A lowercase name usable in bucket, account and resource names. */
function slug(name: string, maxLength: number): string {
  const cleaned = name.toLowerCase().replace(/^@[^/]+\//, '').replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return (cleaned.length > 0 ? cleaned : 'retail-mlops').slice(0, maxLength);
}

function defaultEnvironmentNames(cloud: Cloud): string[] {
  return cloud === Cloud.LOCAL ? ['local'] : ['local', ...deploymentEnvironments];
}

function locationProblems(label: string, provider: Cloud, location: string | undefined): string[] {
  if (location === undefined) return [];
  const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://');
  if (provider === Cloud.LOCAL && remote) return [`${label} '${location}' must be a folder or file:// for the local provider`];
  if (provider === Cloud.AWS && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/.test(location)) return [`${label} '${location}' must be s3://<bucket>/<prefix> for the aws provider`];
  if (provider === Cloud.AZURE && !/^https?:\/\/\S+\/[a-z0-9-]{3,63}(\/\S*)?$/.test(location)) {
    return [`${label} '${location}' must be https://<account>.blob.core.windows.net/<container>/<prefix> for the azure provider`];
  }
  return [];
}

function resolveEnvironment(project: string, cloud: Cloud, options: EnvironmentOptions, problems: string[]): ResolvedEnvironment {
  const name = options.name;
  const label = `environments.${name}`;
  const provider = options.provider ?? (name === 'local' ? Cloud.LOCAL : cloud);
  if (!Object.values(Cloud).includes(provider)) problems.push(`${label}.provider must be one of ${Object.values(Cloud).join(', ')}, got '${String(provider)}'`);
  const bucket = `${slug(project, 40)}-${name}`;
  const storageAccount = `st${slug(project, 16).replace(/-/g, '')}${name.replace(/-/g, '')}`.slice(0, 24);
  const defaults: Record<Cloud, { lake: string; registry: string }> = {
    [Cloud.LOCAL]: { lake: name === 'local' ? '.retail-mlops/lake' : `.retail-mlops/${name}/lake`, registry: name === 'local' ? '.retail-mlops/registry' : `.retail-mlops/${name}/registry` },
    [Cloud.AWS]: { lake: `s3://${bucket}-data/lake`, registry: `s3://${bucket}-data/registry` },
    [Cloud.AZURE]: { lake: `https://${storageAccount}.blob.core.windows.net/lake`, registry: `https://${storageAccount}.blob.core.windows.net/registry` },
  };
  const lake = options.lake ?? defaults[provider]?.lake;
  const registry = options.registry ?? defaults[provider]?.registry;
  problems.push(...locationProblems(`${label}.lake`, provider, lake), ...locationProblems(`${label}.registry`, provider, registry), ...locationProblems(`${label}.landing`, provider, options.landing));
  const rate = options.maxQuarantineRate;
  if (rate !== undefined && !(rate >= 0 && rate <= 1)) problems.push(`${label}.maxQuarantineRate must be from 0 to 1, got ${rate}`);

  const aws = options.aws ?? {};
  const account = aws.account ?? PLACEHOLDER_ACCOUNT;
  if (provider === Cloud.AWS && !/^\d{12}$/.test(account)) problems.push(`${label}.aws.account must be a 12-digit account id, got '${account}'`);
  const azure = options.azure ?? {};
  const settings: EnvironmentSettings = {
    provider,
    lake,
    registry,
    ...(options.landing ? { landing: options.landing } : {}),
    ...(options.backend ? { backend: options.backend as EnvironmentSettings['backend'] } : {}),
    ...(rate !== undefined ? { maxQuarantineRate: rate } : {}),
    ...(provider === Cloud.AWS
      ? {
        aws: {
          region: aws.region ?? 'eu-west-1',
          roleArn: aws.roleArn ?? `arn:aws:iam::${account}:role/${slug(project, 40)}-${name}-sagemaker`,
          ...(aws.kmsKeyId ? { kmsKeyId: aws.kmsKeyId } : {}),
          ...(aws.modelPackageGroupName ? { modelPackageGroupName: aws.modelPackageGroupName } : {}),
          ...(aws.subnetIds ? { subnetIds: aws.subnetIds } : {}),
          ...(aws.securityGroupIds ? { securityGroupIds: aws.securityGroupIds } : {}),
          ...(aws.instanceType ? { instanceType: aws.instanceType } : {}),
          ...(aws.spot !== undefined ? { spot: aws.spot } : {}),
          ...(aws.image ? { image: aws.image } : {}),
        },
      }
      : {}),
    ...(provider === Cloud.AZURE
      ? {
        azure: {
          subscriptionId: azure.subscriptionId ?? PLACEHOLDER_GUID,
          resourceGroup: azure.resourceGroup ?? `rg-${slug(project, 40)}-${name}`,
          workspace: azure.workspace ?? `mlw-${slug(project, 20)}-${name}`,
          ...(azure.compute ? { compute: azure.compute } : {}),
          ...(azure.image ? { image: azure.image } : {}),
        },
      }
      : {}),
  };
  return { name, provider, settings, options };
}

function apiTarget(project: string, cloud: Cloud, environment: ResolvedEnvironment, imageRepository: string): EnvironmentTargetSettings {
  const name = environment.name as Environment;
  const api = environment.options.api ?? {};
  const defaults = environmentDefaults[name];
  const account = environment.options.aws?.account ?? PLACEHOLDER_ACCOUNT;
  const common = {
    registry: environment.settings.registry ?? '',
    imageRepository,
    imageTag: api.imageTag ?? '0.1.0',
    host: api.host ?? `predict.${name}.example.com`,
    minReplicas: api.minReplicas ?? defaults.minReplicas,
    maxReplicas: api.maxReplicas ?? defaults.maxReplicas,
    cpuRequestMillicores: api.cpuRequestMillicores ?? defaults.cpuRequestMillicores,
    cpuLimitMillicores: api.cpuLimitMillicores ?? defaults.cpuLimitMillicores,
    memoryRequestMebibytes: api.memoryRequestMebibytes ?? defaults.memoryRequestMebibytes,
    memoryLimitMebibytes: api.memoryLimitMebibytes ?? defaults.memoryLimitMebibytes,
  };
  if (cloud === Cloud.AWS) {
    return { ...common, iamRoleArn: environment.options.aws?.apiRoleArn ?? `arn:aws:iam::${account}:role/${slug(project, 40)}-api-${name}` };
  }
  const azure = environment.options.azure ?? {};
  return {
    ...common,
    workloadIdentityClientId: azure.apiClientId ?? PLACEHOLDER_GUID,
    keyVaultCertificateUri: azure.keyVaultCertificateUri ?? `https://kv${slug(project, 12).replace(/-/g, '')}${name}.vault.azure.net/certificates/predict-${name}`,
  };
}

/**
 * An environment's settings as `.retail-mlops.json` carries them: what equals the embedded local default is
 * left out, so it stays a default (a flag's `s3://` location then decides the provider, as it does without a file).
 */
function withoutLocalDefaults(settings: EnvironmentSettings): EnvironmentSettings {
  return Object.fromEntries(Object.entries(settings).filter(([key, value]) => LOCAL_DEFAULT[key as keyof typeof LOCAL_DEFAULT] !== value)) as EnvironmentSettings;
}

/** Defaults and every problem of the options (an empty `problems` means the project can be rendered). */
export function resolveProjectSettings(options: RetailMlopsProjectOptions): ProjectSettings {
  const problems: string[] = [];
  const project = options.name;
  const cloud = options.cloud ?? Cloud.LOCAL;
  if (!Object.values(Cloud).includes(cloud)) problems.push(`cloud must be one of ${Object.values(Cloud).join(', ')}, got '${String(cloud)}'`);
  const ciSystems = options.ciSystems ?? [CiSystem.JENKINS, CiSystem.TRAVIS, CiSystem.AZURE_PIPELINES];
  if (ciSystems.length === 0) problems.push('ciSystems must name at least one CI system');
  for (const system of ciSystems) {
    if (!Object.values(CiSystem).includes(system)) problems.push(`ciSystems: unknown CI system '${String(system)}' (known: ${Object.values(CiSystem).join(', ')})`);
  }
  if (new Set(ciSystems).size !== ciSystems.length) problems.push(`ciSystems lists a CI system twice: ${ciSystems.join(', ')}`);

  const environmentOptions = options.environments ?? defaultEnvironmentNames(cloud).map((name) => ({ name }));
  const names = environmentOptions.map((environment) => environment.name);
  for (const name of names) if (!/^[a-z][a-z0-9-]{0,31}$/.test(name ?? '')) problems.push(`environment name '${name}' must be lowercase letters, digits and '-' (at most 32)`);
  if (new Set(names).size !== names.length) problems.push(`environments must have unique names, got ${names.join(', ')}`);
  const environments = environmentOptions.map((environment) => resolveEnvironment(project, cloud, environment, problems));
  const byName = new Map(environments.map((environment) => [environment.name, environment]));

  const defaultEnvironment = options.defaultEnvironment ?? 'local';
  if (!byName.has(defaultEnvironment)) problems.push(`defaultEnvironment '${defaultEnvironment}' is not one of the environments (${names.join(', ')})`);
  const pipelineEnvironmentName = options.pipelineEnvironment ?? (cloud === Cloud.LOCAL ? 'local' : 'dev');
  const pipelineEnvironment = byName.get(pipelineEnvironmentName);
  if (!pipelineEnvironment) problems.push(`pipelineEnvironment '${pipelineEnvironmentName}' is not one of the environments (${names.join(', ')})`);

  let deploymentTargets: DeploymentTargetSettings | undefined;
  const imageRepository = options.imageRepository ?? `example-org/${slug(project, 60)}-api`;
  if (cloud !== Cloud.LOCAL) {
    for (const name of deploymentEnvironments) {
      const environment = byName.get(name);
      if (!environment) problems.push(`cloud ${cloud} deploys to dev, staging and production: environment '${name}' is missing`);
      else if (environment.provider !== cloud) problems.push(`environment '${name}' deploys on ${cloud} but its provider is ${environment.provider}`);
    }
    if (problems.length === 0) {
      deploymentTargets = {
        cloud: cloud === Cloud.AWS ? 'eks' : 'aks',
        gitRepositoryUrl: options.gitRepositoryUrl ?? `https://github.com/example-org/${slug(project, 60)}.git`,
        environments: Object.fromEntries(deploymentEnvironments.map((name) => [name, apiTarget(project, cloud, byName.get(name)!, imageRepository)])) as DeploymentTargetSettings['environments'],
      };
    }
  }

  const gate: GateOptions = {
    minimumAccuracy: options.gate?.minimumAccuracy ?? 0.75,
    minimumMacroF1: options.gate?.minimumMacroF1 ?? 0.7,
    minimumClassPrecision: options.gate?.minimumClassPrecision ?? 0.65,
    championAccuracyTolerance: options.gate?.championAccuracyTolerance ?? 0.01,
    championMacroF1Tolerance: options.gate?.championMacroF1Tolerance ?? 0.01,
  };
  for (const [key, value] of Object.entries(gate)) if (!(typeof value === 'number' && value >= 0 && value <= 1)) problems.push(`gate.${key} must be a number from 0 to 1, got ${value}`);

  const config: ProjectConfig = {
    gate,
    defaultEnvironment,
    environments: Object.fromEntries(environments.map((environment) => [environment.name, withoutLocalDefaults(environment.settings)])),
  };
  problems.push(...projectConfigProblems(config).map((problem) => `.retail-mlops.json: ${problem}`));

  const developsTemplate = project === TEMPLATE_PACKAGE;
  const pipelineSettings = pipelineEnvironment?.settings;
  const aws = pipelineEnvironment?.options.aws;
  const azure = pipelineEnvironment?.options.azure;
  const account = aws?.account ?? PLACEHOLDER_ACCOUNT;
  const pipelineProvider = pipelineEnvironment?.provider ?? Cloud.LOCAL;
  const pipeline: PipelineOptions = {
    name: slug(project, 60),
    provider: pipelineProvider,
    // the template develops its own CLI from source; a team calls the installed package
    cli: developsTemplate ? 'npm run --silent cli --' : `npx ${TEMPLATE_PACKAGE}`,
    // the template's own pipeline runs on explicit folders (its CI has no .retail-mlops.json environment to read)
    ...(developsTemplate ? { lake: '.lake', registry: '.registry' } : { environment: pipelineEnvironmentName, lake: pipelineSettings?.lake, registry: pipelineSettings?.registry }),
    ...(developsTemplate ? {} : { maxQuarantineRate: pipelineSettings?.maxQuarantineRate ?? DEFAULT_MAX_QUARANTINE_RATE }),
    ...(options.pipelineDataFiles ? { dataFiles: options.pipelineDataFiles } : {}),
    ...(options.testSetupCommands ? { testSetup: options.testSetupCommands } : {}),
    ...(options.dataSetupCommands ? { dataSetup: options.dataSetupCommands } : {}),
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
    ...(options.approvalGroup ? { approvalGroup: options.approvalGroup } : {}),
    ...(options.defaultReleaseBranch ? { mainBranch: options.defaultReleaseBranch } : {}),
    imageRepository: pipelineProvider === Cloud.LOCAL ? slug(project, 60) : imageRepository,
    ...(pipelineProvider === Cloud.AWS
      ? { awsRoleArn: aws?.pipelineRoleArn ?? `arn:aws:iam::${account}:role/${slug(project, 40)}-${pipelineEnvironmentName}-pipeline`, awsRegion: aws?.region ?? 'eu-west-1' }
      : {}),
    ...(pipelineProvider === Cloud.AZURE
      ? {
        azureServiceConnection: azure?.serviceConnection ?? `${slug(project, 40)}-${pipelineEnvironmentName}`,
        azureTenantId: azure?.tenantId ?? PLACEHOLDER_GUID,
        azureClientId: azure?.pipelineClientId ?? PLACEHOLDER_GUID,
        azureSubscriptionId: azure?.subscriptionId ?? PLACEHOLDER_GUID,
      }
      : {}),
    additionalStages: (options.extraStages ?? []).map((stage) => ({ ...stage })),
  };
  return { cloud, ciSystems, environments, config, pipeline, deploymentTargets, problems };
}
