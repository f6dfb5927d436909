/**
 * The props of the prediction API's chart: readonly, flat, each with its default, validated eagerly
 * (every problem reported in one `InvalidOptionsError`). `EksApiChartProps` and `AksApiChartProps`
 * add what each cloud needs for workload identity and ingress.
 */
import { environmentDefaults, environments, isEnvironment, productionMinimumReplicas, type Environment, type ZoneSpread } from './environments';
import { isDnsLabel, isDnsSubdomain, isImageDigest, isImageRepository, isImageTag, isIpv4Cidr, isRegistryHost } from './formats';
import { checkModelPin, registryCloud, type ModelPin } from './model-pins';
import type { EnvironmentSettings } from '../core/config/settings';
import type { ProblemCollector } from '../core/errors';
import type { GateOptions } from '../core/evaluation/gate';
import { DEFAULT_MONITORING, monitoringSettingsProblems, type MonitoringSettings } from '../core/monitoring/settings';

export interface ApiChartProps {
  /** The environment; it picks the defaults of `environmentDefaults[environment]`. */
  readonly environment: Environment;

  /** What the environment serves: its entry of `manifests/pins.json` (rendered into the model-pin ConfigMap). */
  readonly modelPin: ModelPin;

  /**
   * The container registry host of the API image.
   * @default 'ghcr.io'
   */
  readonly imageRegistry?: string;

  /** The image repository below the registry, e.g. `example-org/retail-mlops-api`. */
  readonly imageRepository: string;

  /** The released version to run, e.g. `0.4.1`. Must be pinned: `latest` is rejected. */
  readonly imageTag: string;

  /**
   * The image digest (`sha256:…`); when set the image reference is `repository:tag@digest`, so the
   * exact bytes are pinned and the tag is for people.
   * @default - the tag alone
   */
  readonly imageDigest?: string;

  /** The host name the Ingress serves, e.g. `predict.retail.example.com`. */
  readonly host: string;

  /**
   * The namespace everything lives in (the chart renders it, labelled for the `restricted` Pod Security Standard).
   * @default `retail-mlops-${environment}`
   */
  readonly namespace?: string;

  /**
   * The name of the Deployment, Service, Ingress, ServiceAccount, … (and the prefix of the ConfigMap's).
   * @default 'retail-mlops-api'
   */
  readonly name?: string;

  /** @default environmentDefaults[environment].minReplicas (production: at least 3) */
  readonly minReplicas?: number;

  /** @default environmentDefaults[environment].maxReplicas */
  readonly maxReplicas?: number;

  /**
   * The HorizontalPodAutoscaler's target: average CPU use as a percentage of the request.
   * @default 70
   */
  readonly targetCpuUtilizationPercent?: number;

  /** @default environmentDefaults[environment].cpuRequestMillicores */
  readonly cpuRequestMillicores?: number;

  /** @default environmentDefaults[environment].cpuLimitMillicores */
  readonly cpuLimitMillicores?: number;

  /** @default environmentDefaults[environment].memoryRequestMebibytes */
  readonly memoryRequestMebibytes?: number;

  /** @default environmentDefaults[environment].memoryLimitMebibytes */
  readonly memoryLimitMebibytes?: number;

  /**
   * PodDisruptionBudget `minAvailable`; set at most one of this and `maxUnavailablePods`.
   * Must stay below `minReplicas`, or node drains block.
   * @default environmentDefaults[environment] (staging 1, production 2)
   */
  readonly minAvailablePods?: number;

  /**
   * PodDisruptionBudget `maxUnavailable`; set at most one of this and `minAvailablePods`.
   * @default environmentDefaults[environment] (dev 1)
   */
  readonly maxUnavailablePods?: number;

  /** @default environmentDefaults[environment].zoneSpread (production 'required', else 'preferred') */
  readonly zoneSpread?: ZoneSpread;

  /**
   * Seconds between SIGTERM and SIGKILL; the server drains in-flight requests in this time.
   * @default 45
   */
  readonly terminationGracePeriodSeconds?: number;

  /**
   * Seconds the preStop hook sleeps before SIGTERM, so the load balancer stops sending new
   * requests first. Must be shorter than `terminationGracePeriodSeconds`.
   * @default 15
   */
  readonly preStopSleepSeconds?: number;

  /**
   * The namespace of the storefront services that call the API (allowed in by the NetworkPolicy).
   * @default 'storefront'
   */
  readonly storefrontNamespace?: string;

  /**
   * A namespace whose Prometheus may scrape `/metrics` on the pods (allowed in on the API port).
   * @default - none: nothing scrapes
   */
  readonly monitoringNamespace?: string;

  /**
   * HTTPS (443) egress destinations for the model store. The NetworkPolicy cannot name hosts,
   * so point the store at a private endpoint inside the cluster's network and list that range.
   * @default the cloud's (EKS: `10.0.0.0/16`, the VPC holding the S3 and STS interface endpoints;
   * AKS: `10.224.0.0/12`, the AKS virtual network holding the Blob private endpoint)
   */
  readonly modelStoreCidrs?: readonly string[];

  /**
   * More HTTPS (443) egress destinations, e.g. Microsoft Entra ID's ranges for the AKS
   * workload-identity token exchange, or an egress proxy.
   * @default []
   */
  readonly additionalHttpsEgressCidrs?: readonly string[];

  /**
   * The Secret (created outside git: External Secrets, CSI driver or kubectl) whose key `api-keys`
   * holds the comma-separated API keys; it is mounted read-only and named by `RETAIL_MLOPS_API_KEYS_FILE`.
   * @default `${name}-keys`
   */
  readonly apiKeysSecretName?: string;

  /**
   * Mount a Kubernetes API token into the pods. The server never calls the Kubernetes API, and the
   * cloud identity webhooks project their own token volume, so it is off.
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;

  /**
   * The environment's block of `.retail-mlops.json` (provider, lake, registry, cloud options). It is
   * rendered, with `monitoring` and `gate`, into the settings file the API and monitor pods read
   * (`/app/.retail-mlops.json`, `RETAIL_MLOPS_ENVIRONMENT=<environment>`): the API ships its
   * prediction log to the lake, the monitor CronJob reads it.
   * @default - none: no settings file, no prediction log, no monitor
   */
  readonly environmentSettings?: EnvironmentSettings;

  /**
   * The `monitoring` section: thresholds, schedule (`schedule`, hourly by default), the CI trigger.
   * @default {} (every default of core/monitoring/settings.ts)
   */
  readonly monitoring?: MonitoringSettings;

  /**
   * The `gate` section (live accuracy is held to its floors unless `monitoring` sets its own).
   * @default - the gate's defaults
   */
  readonly gate?: GateOptions;

  /**
   * Run `retail-mlops monitor` as a CronJob (the API's image and identity) on `monitoring.schedule`.
   * @default true when environmentSettings names a lake
   */
  readonly monitor?: boolean;

  /**
   * The Secret (created outside git) whose keys become the monitor's environment: the CI trigger's
   * variables (JENKINS_USER and JENKINS_API_TOKEN, TRAVIS_API_TOKEN, a webhook secret). Optional: a
   * missing Secret is an empty environment (Azure DevOps signs in with workload identity).
   * @default `${name}-monitor`
   */
  readonly monitorSecretName?: string;

  /**
   * HTTPS (443) egress of the monitor pods to the CI they trigger (Jenkins, dev.azure.com,
   * api.travis-ci.com, a webhook), besides the model store's ranges.
   * @default []
   */
  readonly ciEgressCidrs?: readonly string[];

  /** The monitor container's CPU request and limit (millicores). @default 500, 1000 */
  readonly monitorCpuRequestMillicores?: number;
  readonly monitorCpuLimitMillicores?: number;
  /** The monitor container's memory request and limit (MiB): it holds a window of predictions and the reference weeks. @default 1024, 2048 */
  readonly monitorMemoryRequestMebibytes?: number;
  readonly monitorMemoryLimitMebibytes?: number;
}

/** What the monitor CronJob runs with (undefined in the chart's settings when there is no monitor). */
export interface ResolvedMonitorProps {
  readonly schedule: string;
  readonly secretName: string;
  readonly ciEgressCidrs: readonly string[];
  readonly cpuRequestMillicores: number;
  readonly cpuLimitMillicores: number;
  readonly memoryRequestMebibytes: number;
  readonly memoryLimitMebibytes: number;
}

/** The props with every default applied (what the chart builds from). */
export interface ResolvedApiChartProps {
  readonly environment: Environment;
  readonly modelPin: ModelPin;
  readonly image: string;
  readonly imageTag: string;
  readonly host: string;
  readonly namespace: string;
  readonly name: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly targetCpuUtilizationPercent: number;
  readonly cpuRequestMillicores: number;
  readonly cpuLimitMillicores: number;
  readonly memoryRequestMebibytes: number;
  readonly memoryLimitMebibytes: number;
  readonly minAvailablePods?: number;
  readonly maxUnavailablePods?: number;
  readonly zoneSpread: ZoneSpread;
  readonly terminationGracePeriodSeconds: number;
  readonly preStopSleepSeconds: number;
  readonly storefrontNamespace: string;
  readonly monitoringNamespace?: string;
  readonly modelStoreCidrs: readonly string[];
  readonly additionalHttpsEgressCidrs: readonly string[];
  readonly apiKeysSecretName: string;
  readonly automountServiceAccountToken: boolean;
  /** The settings file the pods read (`.retail-mlops.json` for this environment), when there is one. */
  readonly settingsFile?: Readonly<Record<string, unknown>>;
  readonly monitor?: ResolvedMonitorProps;
}

/** Which cloud a chart deploys to, as its checks of the registry, lake and provider name it. */
export interface ChartCloud {
  /** The cluster: `eks` or `aks` (what `registryCloud` tells a location's cloud by). */
  readonly cluster: 'eks' | 'aks';
  /** The provider of the pods' settings: `aws` on EKS, `azure` on AKS. */
  readonly provider: 'aws' | 'azure';
  /** The form of a location on this cloud, with its article: `an s3://<bucket>/<prefix>`. */
  readonly locationForm: string;
  /** How the pods get their identity (`IRSA`, `workload-identity`), for the registry's message. */
  readonly podIdentity: string;
}

/** Adds a problem for a model registry, lake or provider of the other cloud than the chart's. */
export function checkChartCloud(props: ApiChartProps, cloud: ChartCloud, problems: ProblemCollector): void {
  const name = cloud.cluster.toUpperCase();
  const otherCluster = cloud.cluster === 'eks' ? 'aks' : 'eks';
  problems.check(
    typeof props.modelPin?.registry !== 'string' || registryCloud(props.modelPin.registry) !== otherCluster,
    `modelPin.registry ${JSON.stringify(props.modelPin?.registry)} belongs to the other cloud: ${name} pods need ${cloud.locationForm} registry (what ${cloud.podIdentity} pods can read)`,
  );
  const lake = props.environmentSettings?.lake;
  problems.check(
    typeof lake !== 'string' || registryCloud(lake) !== otherCluster,
    `environmentSettings.lake ${JSON.stringify(lake)} belongs to the other cloud: ${name} pods ship predictions to ${cloud.locationForm} lake`,
  );
  problems.check(
    props.environmentSettings?.provider === undefined || props.environmentSettings.provider === cloud.provider,
    `environmentSettings.provider must be ${cloud.provider} on ${name}, got ${JSON.stringify(props.environmentSettings?.provider)}`,
  );
}

/** Applies the defaults to `props`, adding a problem to `problems` for everything wrong (the caller throws). */
export function resolveApiChartProps(
  props: ApiChartProps,
  defaultModelStoreCidrs: readonly string[],
  problems: ProblemCollector,
): ResolvedApiChartProps {
  const environment: Environment = isEnvironment(props.environment) ? props.environment : 'production';
  problems.check(isEnvironment(props.environment), `environment must be one of ${environments.join(', ')}, got ${JSON.stringify(props.environment)}`);
  const defaults = environmentDefaults[environment];

  checkModelPin(props.modelPin, 'modelPin', problems);

  const imageRegistry = props.imageRegistry ?? 'ghcr.io';
  problems.check(isRegistryHost(imageRegistry), `imageRegistry must be a registry host such as ghcr.io, got ${JSON.stringify(imageRegistry)}`);
  problems.check(
    typeof props.imageRepository === 'string' && isImageRepository(props.imageRepository),
    `imageRepository must be a lowercase repository path such as example-org/retail-mlops-api, got ${JSON.stringify(props.imageRepository)}`,
  );
  const imageTag = props.imageTag;
  problems.check(typeof imageTag === 'string' && isImageTag(imageTag), `imageTag must be an image tag (letters, digits, '_', '.', '-'), got ${JSON.stringify(imageTag)}`);
  problems.check(
    typeof imageTag !== 'string' || imageTag.toLowerCase() !== 'latest',
    'imageTag must pin a released version, not "latest" (a moving tag makes a rollout unreproducible)',
  );
  if (props.imageDigest !== undefined) {
    problems.check(isImageDigest(props.imageDigest), `imageDigest must be sha256: and 64 hex digits, got ${JSON.stringify(props.imageDigest)}`);
  }
  const image = `${imageRegistry}/${props.imageRepository}:${imageTag}${props.imageDigest ? `@${props.imageDigest}` : ''}`;

  problems.check(typeof props.host === 'string' && isDnsSubdomain(props.host), `host must be a DNS name such as predict.retail.example.com, got ${JSON.stringify(props.host)}`);

  const namespace = props.namespace ?? `retail-mlops-${environment}`;
  problems.check(isDnsLabel(namespace), `namespace must be a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(namespace)}`);
  const name = props.name ?? 'retail-mlops-api';
  // the ConfigMap adds '-model-pin' (10 characters) and the names must stay DNS labels
  problems.check(isDnsLabel(name) && name.length <= 50, `name must be a DNS label of at most 50 characters, got ${JSON.stringify(name)}`);

  const minReplicas = props.minReplicas ?? defaults.minReplicas;
  const maxReplicas = props.maxReplicas ?? defaults.maxReplicas;
  problems.check(isCount(minReplicas, 1), `minReplicas must be a whole number ≥ 1, got ${minReplicas}`);
  problems.check(isCount(maxReplicas, 1), `maxReplicas must be a whole number ≥ 1, got ${maxReplicas}`);
  problems.check(!(maxReplicas < minReplicas), `maxReplicas (${maxReplicas}) must be ≥ minReplicas (${minReplicas})`);
  if (environment === 'production') {
    problems.check(!(minReplicas < productionMinimumReplicas), `production needs minReplicas ≥ ${productionMinimumReplicas} (one pod per zone), got ${minReplicas}`);
  }
  const targetCpuUtilizationPercent = props.targetCpuUtilizationPercent ?? 70;
  problems.check(
    isCount(targetCpuUtilizationPercent, 1) && targetCpuUtilizationPercent <= 100,
    `targetCpuUtilizationPercent must be a whole number from 1 to 100, got ${targetCpuUtilizationPercent}`,
  );

  const cpuRequestMillicores = props.cpuRequestMillicores ?? defaults.cpuRequestMillicores;
  const cpuLimitMillicores = props.cpuLimitMillicores ?? defaults.cpuLimitMillicores;
  const memoryRequestMebibytes = props.memoryRequestMebibytes ?? defaults.memoryRequestMebibytes;
  const memoryLimitMebibytes = props.memoryLimitMebibytes ?? defaults.memoryLimitMebibytes;
  problems.check(isCount(cpuRequestMillicores, 1), `cpuRequestMillicores must be a whole number ≥ 1, got ${cpuRequestMillicores}`);
  problems.check(isCount(cpuLimitMillicores, 1), `cpuLimitMillicores must be a whole number ≥ 1, got ${cpuLimitMillicores}`);
  problems.check(!(cpuLimitMillicores < cpuRequestMillicores), `cpuLimitMillicores (${cpuLimitMillicores}) must be ≥ cpuRequestMillicores (${cpuRequestMillicores})`);
  problems.check(isCount(memoryRequestMebibytes, 1), `memoryRequestMebibytes must be a whole number ≥ 1, got ${memoryRequestMebibytes}`);
  problems.check(isCount(memoryLimitMebibytes, 1), `memoryLimitMebibytes must be a whole number ≥ 1, got ${memoryLimitMebibytes}`);
  problems.check(
    !(memoryLimitMebibytes < memoryRequestMebibytes),
    `memoryLimitMebibytes (${memoryLimitMebibytes}) must be ≥ memoryRequestMebibytes (${memoryRequestMebibytes})`,
  );

  // the disruption budget: the props' choice wins over the environment's, whichever field it uses
  const budgetFromProps = props.minAvailablePods !== undefined || props.maxUnavailablePods !== undefined;
  const minAvailablePods = budgetFromProps ? props.minAvailablePods : defaults.minAvailablePods;
  const maxUnavailablePods = budgetFromProps ? props.maxUnavailablePods : defaults.maxUnavailablePods;
  problems.check(!(minAvailablePods !== undefined && maxUnavailablePods !== undefined), 'set at most one of minAvailablePods and maxUnavailablePods');
  if (minAvailablePods !== undefined) {
    problems.check(isCount(minAvailablePods, 0), `minAvailablePods must be a whole number ≥ 0, got ${minAvailablePods}`);
    problems.check(
      !(minAvailablePods >= minReplicas),
      `minAvailablePods (${minAvailablePods}) must be below minReplicas (${minReplicas}), or no pod can ever be evicted and node drains block`,
    );
  }
  if (maxUnavailablePods !== undefined) {
    problems.check(isCount(maxUnavailablePods, 1), `maxUnavailablePods must be a whole number ≥ 1 (0 blocks node drains), got ${maxUnavailablePods}`);
  }

  const zoneSpread = props.zoneSpread ?? defaults.zoneSpread;
  problems.check(zoneSpread === 'preferred' || zoneSpread === 'required', `zoneSpread must be 'preferred' or 'required', got ${JSON.stringify(zoneSpread)}`);

  const terminationGracePeriodSeconds = props.terminationGracePeriodSeconds ?? 45;
  const preStopSleepSeconds = props.preStopSleepSeconds ?? 15;
  problems.check(isCount(terminationGracePeriodSeconds, 1), `terminationGracePeriodSeconds must be a whole number ≥ 1, got ${terminationGracePeriodSeconds}`);
  problems.check(isCount(preStopSleepSeconds, 0), `preStopSleepSeconds must be a whole number ≥ 0, got ${preStopSleepSeconds}`);
  problems.check(
    !(preStopSleepSeconds >= terminationGracePeriodSeconds),
    `preStopSleepSeconds (${preStopSleepSeconds}) must be shorter than terminationGracePeriodSeconds (${terminationGracePeriodSeconds}), or the server never gets to drain`,
  );

  const storefrontNamespace = props.storefrontNamespace ?? 'storefront';
  problems.check(isDnsLabel(storefrontNamespace), `storefrontNamespace must be a DNS label, got ${JSON.stringify(storefrontNamespace)}`);
  if (props.monitoringNamespace !== undefined) {
    problems.check(isDnsLabel(props.monitoringNamespace), `monitoringNamespace must be a DNS label, got ${JSON.stringify(props.monitoringNamespace)}`);
  }

  const modelStoreCidrs = props.modelStoreCidrs ?? defaultModelStoreCidrs;
  problems.check(modelStoreCidrs.length > 0, 'modelStoreCidrs must list at least one CIDR block (the server cannot load a model otherwise)');
  for (const cidr of modelStoreCidrs) problems.check(isIpv4Cidr(cidr), `modelStoreCidrs: ${JSON.stringify(cidr)} is not an IPv4 CIDR block`);
  const additionalHttpsEgressCidrs = props.additionalHttpsEgressCidrs ?? [];
  for (const cidr of additionalHttpsEgressCidrs) problems.check(isIpv4Cidr(cidr), `additionalHttpsEgressCidrs: ${JSON.stringify(cidr)} is not an IPv4 CIDR block`);

  const apiKeysSecretName = props.apiKeysSecretName ?? `${name}-keys`;
  problems.check(isDnsSubdomain(apiKeysSecretName), `apiKeysSecretName must be a DNS name, got ${JSON.stringify(apiKeysSecretName)}`);

  const { settingsFile, monitor } = resolveMonitorProps(props, environment, name, problems);

  return {
    environment,
    modelPin: props.modelPin,
    image,
    imageTag,
    host: props.host,
    namespace,
    name,
    minReplicas,
    maxReplicas,
    targetCpuUtilizationPercent,
    cpuRequestMillicores,
    cpuLimitMillicores,
    memoryRequestMebibytes,
    memoryLimitMebibytes,
    minAvailablePods,
    maxUnavailablePods,
    zoneSpread,
    terminationGracePeriodSeconds,
    preStopSleepSeconds,
    storefrontNamespace,
    monitoringNamespace: props.monitoringNamespace,
    modelStoreCidrs,
    additionalHttpsEgressCidrs,
    apiKeysSecretName,
    automountServiceAccountToken: props.automountServiceAccountToken ?? false,
    ...(settingsFile ? { settingsFile } : {}),
    ...(monitor ? { monitor } : {}),
  };
}

/** The settings file and the monitor's props, checking them (problems added to `problems`). */
function resolveMonitorProps(
  props: ApiChartProps,
  environment: Environment,
  name: string,
  problems: ProblemCollector,
): { readonly settingsFile?: Readonly<Record<string, unknown>>; readonly monitor?: ResolvedMonitorProps } {
  for (const problem of monitoringSettingsProblems(props.monitoring)) problems.check(false, problem);
  const settings = props.environmentSettings;
  if (settings !== undefined) {
    const lake = settings.lake;
    problems.check(
      typeof lake === 'string' && registryCloud(lake) !== undefined,
      `environmentSettings.lake must be the s3:// or https://<account>.blob.core.windows.net/ URL of the lake (the pods ship predictions there), got ${JSON.stringify(lake)}`,
    );
    problems.check(
      settings.registry === undefined || settings.registry === props.modelPin?.registry,
      `environmentSettings.registry (${JSON.stringify(settings.registry)}) must be the model pin's registry (${JSON.stringify(props.modelPin?.registry)})`,
    );
  }
  const wanted = props.monitor ?? settings?.lake !== undefined;
  problems.check(!(props.monitor === true && settings?.lake === undefined), 'monitor needs environmentSettings with the lake the API ships its predictions to');
  const ciEgressCidrs = props.ciEgressCidrs ?? [];
  for (const cidr of ciEgressCidrs) problems.check(isIpv4Cidr(cidr), `ciEgressCidrs: ${JSON.stringify(cidr)} is not an IPv4 CIDR block`);
  const secretName = props.monitorSecretName ?? `${name}-monitor`;
  problems.check(isDnsSubdomain(secretName), `monitorSecretName must be a DNS name, got ${JSON.stringify(secretName)}`);
  const cpuRequestMillicores = props.monitorCpuRequestMillicores ?? 500;
  const cpuLimitMillicores = props.monitorCpuLimitMillicores ?? 1000;
  const memoryRequestMebibytes = props.monitorMemoryRequestMebibytes ?? 1024;
  const memoryLimitMebibytes = props.monitorMemoryLimitMebibytes ?? 2048;
  problems.check(isCount(cpuRequestMillicores, 1) && isCount(cpuLimitMillicores, cpuRequestMillicores), `monitor CPU: the request (${cpuRequestMillicores}) must be ≥ 1 and ≤ the limit (${cpuLimitMillicores})`);
  problems.check(
    isCount(memoryRequestMebibytes, 1) && isCount(memoryLimitMebibytes, memoryRequestMebibytes),
    `monitor memory: the request (${memoryRequestMebibytes}) must be ≥ 1 and ≤ the limit (${memoryLimitMebibytes})`,
  );
  if (settings === undefined) return {};
  const settingsFile = {
    ...(props.gate ? { gate: props.gate } : {}),
    ...(props.monitoring ? { monitoring: props.monitoring } : {}),
    defaultEnvironment: environment,
    environments: { [environment]: { ...settings, registry: props.modelPin?.registry } },
  };
  if (!wanted) return { settingsFile };
  return {
    settingsFile,
    monitor: {
      schedule: props.monitoring?.schedule ?? DEFAULT_MONITORING.schedule,
      secretName,
      ciEgressCidrs,
      cpuRequestMillicores,
      cpuLimitMillicores,
      memoryRequestMebibytes,
      memoryLimitMebibytes,
    },
  };
}

function isCount(value: number, minimum: number): boolean {
  return Number.isInteger(value) && value >= minimum;
}
