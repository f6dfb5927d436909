/**
 * The prediction API's chart, common to every cloud: Namespace, ServiceAccount, model-pin ConfigMap,
 * Deployment, Service, Ingress, HorizontalPodAutoscaler, PodDisruptionBudget and NetworkPolicies.
 * `EksApiChart` and `AksApiChart` validate their props and hand over what differs per cloud
 * (`CloudIntegration`): workload identity, ingress class and annotations, where load-balanced
 * traffic comes from.
 */
import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { ResolvedApiChartProps } from './api-chart-props';
import { modelPinChecksum } from './model-pins';
import {
  addMonitorCronJob,
  addSettingsConfigMap,
  predictionSpoolPath,
  settingsChecksum,
  settingsChecksumAnnotation,
  settingsFileKey,
  settingsFileMountPath,
} from './monitor-cron-job';
import { TELEMETRY_SOURCES } from '../core/monitoring/telemetry';
import { fileVariable, SERVER_DEFAULTS, SERVER_VARIABLES } from '../server/settings';

/** The port the server listens on (`PORT`: server/settings.ts). */
export const apiPort = SERVER_DEFAULTS.port;
/** The uid and gid the server runs as (the image's `USER`). */
export const apiUserId = 10001;
/** Where the API-keys Secret is mounted, and the key (file) in it. */
export const apiKeysMountPath = '/var/run/secrets/retail-mlops/api-keys';
export const apiKeysSecretKey = 'api-keys';
/** The pod-template annotation holding `modelPinChecksum(pin)`: a new pin rolls the pods. */
export const modelPinChecksumAnnotation = 'checksum/model-pin';
/** The only path the Ingress routes: the prediction endpoints. Health and metrics stay inside the cluster. */
export const ingressPathPrefix = '/v1';

/** A NetworkPolicy peer, as the Kubernetes API spells it. */
export type NetworkPolicyPeer = kplus.k8s.NetworkPolicyPeer;

/** What a cloud adds to the common chart. */
export interface CloudIntegration {
  /** The retail-mlops provider of the cloud's lake and registry (`RETAIL_MLOPS_PROVIDER` of the pods). */
  readonly provider: 'aws' | 'azure';
  /** Workload identity on the ServiceAccount (IRSA role ARN, Entra client id). */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
  /** Labels the identity webhook looks for on the pods. */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly ingressClassName: string;
  readonly ingressAnnotations: Readonly<Record<string, string>>;
  /** TLS hosts, with the Secret holding the certificate where the controller needs one. */
  readonly ingressTls: readonly { readonly hosts: readonly string[]; readonly secretName?: string }[];
  /** Where the load balancer's requests reach the pods from (allowed in on the API port). */
  readonly loadBalancerSources: readonly NetworkPolicyPeer[];
}

/** A cloud chart's props, checked and resolved: the common settings and what the cloud adds. */
export interface ResolvedApiChart {
  readonly settings: ResolvedApiChartProps;
  readonly cloud: CloudIntegration;
}

export abstract class ApiChart extends Chart {
  /** The props after defaults (what the objects were built from). */
  readonly settings: ResolvedApiChartProps;
  /** Labels that select the API's pods (Deployment, Service, PDB, NetworkPolicy all use these). */
  readonly selectorLabels: Readonly<Record<string, string>>;
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;
  readonly serviceAccount: kplus.ServiceAccount;
  readonly modelPinConfigMap: kplus.ConfigMap;
  /** The settings file of the pods (`.retail-mlops.json` of the environment), when the props give one. */
  readonly settingsConfigMap?: kplus.ConfigMap;
  /** `retail-mlops monitor` on a schedule, when the environment has a lake. */
  readonly monitorCronJob?: kplus.k8s.KubeCronJob;

  protected constructor(scope: Construct, id: string, { settings, cloud }: ResolvedApiChart) {
    const selectorLabels = { 'app.kubernetes.io/name': 'retail-mlops-api', 'app.kubernetes.io/instance': settings.name };
    super(scope, id, {
      disableResourceNameHashes: true,
      labels: {
        ...selectorLabels,
        'app.kubernetes.io/component': 'prediction-api',
        'app.kubernetes.io/part-of': 'retail-mlops',
        'app.kubernetes.io/managed-by': 'cdk8s',
        'app.kubernetes.io/version': settings.imageTag,
        'retail-mlops/environment': settings.environment,
      },
    });
    this.settings = settings;
    this.selectorLabels = selectorLabels;
    const { name, namespace } = settings;

    new kplus.Namespace(this, 'Namespace', {
      metadata: {
        name: namespace,
        // the pods meet the `restricted` Pod Security Standard; the namespace enforces it
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.28',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    });

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name, namespace, annotations: { ...cloud.serviceAccountAnnotations } },
      automountToken: settings.automountServiceAccountToken,
    });

    this.modelPinConfigMap = new kplus.ConfigMap(this, 'ModelPin', {
      metadata: { name: `${name}-model-pin`, namespace },
      data: { [SERVER_VARIABLES.registry]: settings.modelPin.registry, [SERVER_VARIABLES.model]: settings.modelPin.model },
    });

    if (settings.settingsFile) this.settingsConfigMap = addSettingsConfigMap(this, settings, settings.settingsFile);
    this.deployment = this.createDeployment(cloud);
    if (settings.monitor && this.settingsConfigMap) {
      this.monitorCronJob = addMonitorCronJob(this, {
        settings,
        monitor: settings.monitor,
        settingsConfigMapName: this.settingsConfigMap.name,
        serviceAccountName: this.serviceAccount.name,
        podLabels: cloud.podLabels,
        cloudProvider: cloud.provider,
        podSecurityContext: {
          runAsNonRoot: true,
          runAsUser: apiUserId,
          runAsGroup: apiUserId,
          fsGroup: apiUserId,
          fsGroupChangePolicy: 'OnRootMismatch',
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containerSecurityContext: {
          runAsNonRoot: true,
          runAsUser: apiUserId,
          runAsGroup: apiUserId,
          privileged: false,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
      });
    }

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name, namespace },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: 'http', port: 80, targetPort: apiPort, protocol: kplus.Protocol.TCP }],
    });
    for (const [key, value] of Object.entries(selectorLabels)) this.service.selectLabel(key, value);

    new kplus.Ingress(this, 'Ingress', {
      metadata: { name, namespace, annotations: { ...cloud.ingressAnnotations } },
      className: cloud.ingressClassName,
      rules: [
        {
          host: settings.host,
          path: ingressPathPrefix,
          pathType: kplus.HttpIngressPathType.PREFIX,
          backend: kplus.IngressBackend.fromService(this.service, { port: 80 }),
        },
      ],
      tls: cloud.ingressTls.map((tls, index) => ({
        hosts: [...tls.hosts],
        secret: tls.secretName === undefined ? undefined : kplus.Secret.fromSecretName(this, `TlsSecret${index}`, tls.secretName),
      })),
    });

    // Scaling belongs to the autoscaler alone: with it in place the Deployment renders no `replicas`.
    new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
      metadata: { name, namespace },
      target: this.deployment,
      minReplicas: settings.minReplicas,
      maxReplicas: settings.maxReplicas,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(settings.targetCpuUtilizationPercent))],
    });

    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name, namespace },
      spec: {
        selector: { matchLabels: { ...selectorLabels } },
        minAvailable: settings.minAvailablePods === undefined ? undefined : kplus.k8s.IntOrString.fromNumber(settings.minAvailablePods),
        maxUnavailable: settings.maxUnavailablePods === undefined ? undefined : kplus.k8s.IntOrString.fromNumber(settings.maxUnavailablePods),
        // a crash-looping pod never counts as available: let drains evict it
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });

    this.createNetworkPolicies(cloud);
  }

  private createDeployment(cloud: CloudIntegration): kplus.Deployment {
    const { settings } = this;
    const { name, namespace } = settings;
    const apiKeysSecret = kplus.Secret.fromSecretName(this, 'ApiKeys', settings.apiKeysSecretName);
    const deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name, namespace },
      select: false,
      podMetadata: {
        labels: { ...this.selectorLabels, 'app.kubernetes.io/version': settings.imageTag, 'retail-mlops/environment': settings.environment, ...cloud.podLabels },
        annotations: {
          [modelPinChecksumAnnotation]: modelPinChecksum(settings.modelPin),
          ...(settings.settingsFile ? { [settingsChecksumAnnotation]: settingsChecksum(settings.settingsFile) } : {}),
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(apiPort),
          'prometheus.io/path': '/metrics',
        },
      },
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: settings.automountServiceAccountToken,
      securityContext: {
        ensureNonRoot: true,
        user: apiUserId,
        group: apiUserId,
        fsGroup: apiUserId,
        fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
      },
      terminationGracePeriod: Duration.seconds(settings.terminationGracePeriodSeconds),
      // new pods become ready before old ones go: capacity never dips during a rollout
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
    });
    deployment.select(kplus.LabelSelector.of({ labels: { ...this.selectorLabels } }));

    const settingsMount: kplus.VolumeMount[] = this.settingsConfigMap
      ? [
        {
          path: settingsFileMountPath,
          subPath: settingsFileKey,
          readOnly: true,
          volume: kplus.Volume.fromConfigMap(this, 'SettingsVolume', this.settingsConfigMap, {
            name: 'settings',
            defaultMode: 0o444,
            items: { [settingsFileKey]: { path: settingsFileKey } },
          }),
        },
      ]
      : [];
    deployment.addContainer({
      name: TELEMETRY_SOURCES.api,
      image: settings.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      // the image's entrypoint is the `retail-mlops` bin; this is its sub-command
      args: ['serve'],
      ports: [{ name: 'http', number: apiPort, protocol: kplus.Protocol.TCP }],
      envVariables: {
        [SERVER_VARIABLES.port]: kplus.EnvValue.fromValue(String(apiPort)),
        [SERVER_VARIABLES.registry]: kplus.EnvValue.fromConfigMap(this.modelPinConfigMap, SERVER_VARIABLES.registry),
        [SERVER_VARIABLES.model]: kplus.EnvValue.fromConfigMap(this.modelPinConfigMap, SERVER_VARIABLES.model),
        [fileVariable(SERVER_VARIABLES.apiKeys)]: kplus.EnvValue.fromValue(`${apiKeysMountPath}/${apiKeysSecretKey}`),
        // the environment names the telemetry (the metrics' dimension) and, with the settings file, the lake
        [SERVER_VARIABLES.environment]: kplus.EnvValue.fromValue(settings.environment),
        [SERVER_VARIABLES.provider]: kplus.EnvValue.fromValue(cloud.provider),
        ...(this.settingsConfigMap ? { [SERVER_VARIABLES.predictionSpool]: kplus.EnvValue.fromValue(predictionSpoolPath) } : {}),
      },
      volumeMounts: [
        // the only writable place: the root file system is read-only
        { path: '/tmp', volume: kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(512) }) },
        {
          path: apiKeysMountPath,
          readOnly: true,
          volume: kplus.Volume.fromSecret(this, 'ApiKeysVolume', apiKeysSecret, {
            name: 'api-keys',
            defaultMode: 0o440,
            optional: false,
            items: { [apiKeysSecretKey]: { path: apiKeysSecretKey } },
          }),
        },
        ...settingsMount,
      ],
      securityContext: {
        ensureNonRoot: true,
        user: apiUserId,
        group: apiUserId,
        privileged: false,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: [kplus.Capability.ALL] },
        seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
      },
      resources: {
        cpu: { request: kplus.Cpu.millis(settings.cpuRequestMillicores), limit: kplus.Cpu.millis(settings.cpuLimitMillicores) },
        memory: { request: Size.mebibytes(settings.memoryRequestMebibytes), limit: Size.mebibytes(settings.memoryLimitMebibytes) },
      },
      // alive once it answers HTTP; the startup probe gives it a minute before liveness counts
      startup: kplus.Probe.fromHttpGet('/healthz', {
        port: apiPort,
        periodSeconds: Duration.seconds(2),
        timeoutSeconds: Duration.seconds(1),
        failureThreshold: 30,
      }),
      liveness: kplus.Probe.fromHttpGet('/healthz', {
        port: apiPort,
        periodSeconds: Duration.seconds(10),
        timeoutSeconds: Duration.seconds(2),
        failureThreshold: 3,
      }),
      // ready once the pinned model is loaded and warmed
      readiness: kplus.Probe.fromHttpGet('/readyz', {
        port: apiPort,
        periodSeconds: Duration.seconds(5),
        timeoutSeconds: Duration.seconds(2),
        failureThreshold: 2,
      }),
      lifecycle:
        settings.preStopSleepSeconds > 0
          ? { preStop: kplus.Handler.fromCommand(['sleep', String(settings.preStopSleepSeconds)]) }
          : undefined,
    });

    // What cdk8s-plus has no props for: pod-level seccomp, no service-link env, zone spread; and
    // without its construct-address label every selector uses the readable labels above.
    const spreadLabels = { matchLabels: { ...this.selectorLabels } };
    const resource = ApiObject.of(deployment);
    resource.addJsonPatch(
      JsonPatch.remove(`/spec/template/metadata/labels/${kplus.Pod.ADDRESS_LABEL.replace(/~/g, '~0').replace(/\//g, '~1')}`),
      JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
      JsonPatch.add('/spec/template/spec/enableServiceLinks', false),
      JsonPatch.add('/spec/revisionHistoryLimit', 5),
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: settings.zoneSpread === 'required' ? 'DoNotSchedule' : 'ScheduleAnyway',
          labelSelector: spreadLabels,
          matchLabelKeys: ['pod-template-hash'],
        },
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: spreadLabels,
          matchLabelKeys: ['pod-template-hash'],
        },
      ]),
    );
    return deployment;
  }

  /**
   * Two policies: every pod in the namespace denies all traffic by default, and the API's pods are
   * allowed exactly: in on the API port from the storefront, the load balancer (and the monitoring
   * namespace if set); out to cluster DNS and HTTPS to the model store's ranges.
   */
  private createNetworkPolicies(cloud: CloudIntegration): void {
    const { settings } = this;
    const { name, namespace } = settings;
    const apiPortRule = [{ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(apiPort) }];
    const httpsRule = [{ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(443) }];
    const namespaceNamed = (namespaceName: string): NetworkPolicyPeer => ({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespaceName } },
    });

    new kplus.k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: 'default-deny-all', namespace },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });

    const ingress: kplus.k8s.NetworkPolicyIngressRule[] = [
      { from: [namespaceNamed(settings.storefrontNamespace)], ports: apiPortRule },
      { from: [...cloud.loadBalancerSources], ports: apiPortRule },
    ];
    if (settings.monitoringNamespace !== undefined) ingress.push({ from: [namespaceNamed(settings.monitoringNamespace)], ports: apiPortRule });

    const egress: kplus.k8s.NetworkPolicyEgressRule[] = [
      {
        to: [{ ...namespaceNamed('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [
          { protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(53) },
          { protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(53) },
        ],
      },
      { to: settings.modelStoreCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: httpsRule },
    ];
    if (settings.additionalHttpsEgressCidrs.length > 0) {
      egress.push({ to: settings.additionalHttpsEgressCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: httpsRule });
    }

    new kplus.k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name, namespace },
      spec: {
        podSelector: { matchLabels: { ...this.selectorLabels } },
        policyTypes: ['Ingress', 'Egress'],
        ingress,
        egress,
      },
    });
  }
}
