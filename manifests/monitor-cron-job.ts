/**
 * What the API chart adds for the operating loop: the settings file its pods read (a ConfigMap
 * holding the environment's `.retail-mlops.json`: its environment block, `monitoring`, `gate`), and
 * the monitor — a CronJob running `retail-mlops monitor --environment <env>` on `monitoring.schedule`
 * with the API's image and identity (service account, workload-identity labels), as hardened as the
 * API's pods, one run at a time, and a NetworkPolicy letting it reach DNS, the lake and the CI only.
 */
import { createHash } from 'node:crypto';
import { Size, type Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { ResolvedApiChartProps, ResolvedMonitorProps } from './api-chart-props';
import { TELEMETRY_SOURCES } from '../core/monitoring/telemetry';

/** Where the pods find the settings file: the image's working directory, where the CLI looks for it. */
export const settingsFileMountPath = '/app/.retail-mlops.json';
/** The settings ConfigMap's key. */
export const settingsFileKey = 'retail-mlops.json';
/** The pod-template annotation holding the settings file's checksum: a change rolls the pods. */
export const settingsChecksumAnnotation = 'checksum/settings';
/** The monitor's container name: the telemetry contract's source of drift.report (log-based alerts filter on it). */
export const monitorContainerName = TELEMETRY_SOURCES.monitor;
/** Where the API spools prediction-log segments before their upload (on its /tmp emptyDir). */
export const predictionSpoolPath = '/tmp/prediction-spool';

/** The settings file's text (sorted keys, so the checksum is stable). */
export function settingsFileText(settingsFile: Readonly<Record<string, unknown>>): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sorted((value as Record<string, unknown>)[key])]));
    }
    return value;
  };
  return `${JSON.stringify(sorted(settingsFile), null, 2)}\n`;
}

export function settingsChecksum(settingsFile: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(settingsFileText(settingsFile)).digest('hex');
}

/** The settings ConfigMap (named `<name>-settings`). */
export function addSettingsConfigMap(chart: Chart, settings: ResolvedApiChartProps, settingsFile: Readonly<Record<string, unknown>>): kplus.ConfigMap {
  return new kplus.ConfigMap(chart, 'Settings', {
    metadata: { name: `${settings.name}-settings`, namespace: settings.namespace },
    data: { [settingsFileKey]: settingsFileText(settingsFile) },
  });
}

export interface MonitorCronJobInput {
  readonly settings: ResolvedApiChartProps;
  readonly monitor: ResolvedMonitorProps;
  readonly settingsConfigMapName: string;
  readonly serviceAccountName: string;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly containerSecurityContext: Readonly<Record<string, unknown>>;
  readonly podSecurityContext: Readonly<Record<string, unknown>>;
  readonly cloudProvider: 'aws' | 'azure';
}

/** The monitor CronJob and its NetworkPolicy. */
export function addMonitorCronJob(chart: Chart, input: MonitorCronJobInput): kplus.k8s.KubeCronJob {
  const { settings, monitor } = input;
  const name = `${settings.name}-monitor`;
  const selectorLabels = { 'app.kubernetes.io/name': 'retail-mlops-monitor', 'app.kubernetes.io/instance': settings.name };
  const cronJob = new kplus.k8s.KubeCronJob(chart, 'MonitorCronJob', {
    metadata: { name, namespace: settings.namespace, labels: { 'app.kubernetes.io/component': 'monitor' } },
    spec: {
      schedule: monitor.schedule,
      timeZone: 'Etc/UTC',
      // one run at a time: the cooldown state in the lake is read and written by one monitor
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 1,
          activeDeadlineSeconds: 3000,
          ttlSecondsAfterFinished: 86_400,
          template: {
            metadata: {
              labels: { ...selectorLabels, 'app.kubernetes.io/component': 'monitor', 'retail-mlops/environment': settings.environment, ...input.podLabels },
              annotations: settings.settingsFile ? { [settingsChecksumAnnotation]: settingsChecksum(settings.settingsFile) } : {},
            },
            spec: {
              serviceAccountName: input.serviceAccountName,
              automountServiceAccountToken: settings.automountServiceAccountToken,
              restartPolicy: 'Never',
              enableServiceLinks: false,
              securityContext: input.podSecurityContext as kplus.k8s.PodSecurityContext,
              containers: [
                {
                  name: monitorContainerName,
                  image: settings.image,
                  imagePullPolicy: 'IfNotPresent',
                  // the image's entrypoint is the `retail-mlops` bin
                  args: ['monitor', '--environment', settings.environment],
                  env: [
                    { name: 'RETAIL_MLOPS_ENVIRONMENT', value: settings.environment },
                    { name: 'RETAIL_MLOPS_PROVIDER', value: input.cloudProvider },
                    // a cloud lake's gold layer is copied here
                    { name: 'RETAIL_MLOPS_CACHE_DIR', value: '/tmp/cache' },
                  ],
                  envFrom: [{ secretRef: { name: monitor.secretName, optional: true } }],
                  volumeMounts: [
                    { name: 'tmp', mountPath: '/tmp' },
                    { name: 'settings', mountPath: settingsFileMountPath, subPath: settingsFileKey, readOnly: true },
                  ],
                  securityContext: input.containerSecurityContext as kplus.k8s.SecurityContext,
                  resources: {
                    requests: { cpu: kplus.k8s.Quantity.fromString(`${monitor.cpuRequestMillicores}m`), memory: kplus.k8s.Quantity.fromString(`${monitor.memoryRequestMebibytes}Mi`) },
                    limits: { cpu: kplus.k8s.Quantity.fromString(`${monitor.cpuLimitMillicores}m`), memory: kplus.k8s.Quantity.fromString(`${monitor.memoryLimitMebibytes}Mi`) },
                  },
                },
              ],
              volumes: [
                { name: 'tmp', emptyDir: { sizeLimit: kplus.k8s.Quantity.fromString(`${Size.gibibytes(2).toMebibytes()}Mi`) } },
                { name: 'settings', configMap: { name: input.settingsConfigMapName, defaultMode: 0o444, items: [{ key: settingsFileKey, path: settingsFileKey }] } },
              ],
            },
          },
        },
      },
    },
  });

  const httpsRule = [{ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(443) }];
  const egress: kplus.k8s.NetworkPolicyEgressRule[] = [
    {
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [
        { protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(53) },
        { protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(53) },
      ],
    },
    { to: [...settings.modelStoreCidrs, ...settings.additionalHttpsEgressCidrs].map((cidr) => ({ ipBlock: { cidr } })), ports: httpsRule },
  ];
  if (monitor.ciEgressCidrs.length > 0) egress.push({ to: monitor.ciEgressCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: httpsRule });
  new kplus.k8s.KubeNetworkPolicy(chart, 'MonitorNetworkPolicy', {
    metadata: { name, namespace: settings.namespace },
    // nothing comes in; out only DNS, the lake and registry, and the CI
    spec: { podSelector: { matchLabels: { ...selectorLabels } }, policyTypes: ['Ingress', 'Egress'], egress },
  });
  return cronJob;
}
