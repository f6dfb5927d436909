/**
 * The API chart's secure defaults, asserted object by object for every cloud and environment
 * (not only snapshots): pod and container security, probes, scaling without fixed replicas, the
 * disruption budget, the NetworkPolicies' exact allowances, workload identity per cloud, the
 * model pin, the pinned image. Every object also passes kubernetes-models' validation.
 */
import { App, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import {
  AksApiChart,
  EksApiChart,
  environmentDefaults,
  environments,
  modelPinChecksum,
  modelPinChecksumAnnotation,
  type AksApiChartProps,
  type Cloud,
  type EksApiChartProps,
  type Environment,
  type ModelPin,
} from '../../manifests';
import { validateKubernetesObject, type KubernetesObject } from '../helpers/kubernetes-models';

const pin: ModelPin = { registry: 's3://retail-models/registry', model: 'v-0123456789ab' };
const blobPin: ModelPin = { registry: 'https://retailmodels.blob.core.windows.net/registry', model: 'v-0123456789ab' };

function eksProps(environment: Environment, overrides: Partial<EksApiChartProps> = {}): EksApiChartProps {
  return {
    environment,
    modelPin: pin,
    imageRepository: 'example-org/retail-mlops-api',
    imageTag: '1.2.3',
    host: 'predict.example.com',
    iamRoleArn: 'arn:aws:iam::111122223333:role/retail-mlops-api',
    ...overrides,
  };
}

function aksProps(environment: Environment, overrides: Partial<AksApiChartProps> = {}): AksApiChartProps {
  return {
    environment,
    imageRepository: 'example-org/retail-mlops-api',
    imageTag: '1.2.3',
    host: 'predict.example.com',
    modelPin: blobPin,
    workloadIdentityClientId: '11111111-2222-3333-4444-555555555555',
    keyVaultCertificateUri: 'https://retail-kv.vault.azure.net/certificates/predict',
    ...overrides,
  };
}

function synthesize(cloud: Cloud, environment: Environment, overrides: Partial<EksApiChartProps & AksApiChartProps> = {}): KubernetesObject[] {
  const app = new App();
  const chart = cloud === 'eks' ? new EksApiChart(app, 'api', eksProps(environment, overrides)) : new AksApiChart(app, 'api', aksProps(environment, overrides));
  return Testing.synth(chart) as KubernetesObject[];
}

/** The one object of `kind` (and `name`, if given); fails if there are none or several. */
function only(objects: readonly KubernetesObject[], kind: string, name?: string): Record<string, any> {
  const matches = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata?.name === name));
  expect(matches, `exactly one ${kind}${name ? ` named ${name}` : ''}`).toHaveLength(1);
  return matches[0] as Record<string, any>;
}

const cases = (['eks', 'aks'] as const).flatMap((cloud) => environments.map((environment) => ({ cloud, environment })));

describe.each(cases)('$cloud $environment', ({ cloud, environment }) => {
  const objects = synthesize(cloud, environment);
  const defaults = environmentDefaults[environment];
  const deployment = only(objects, 'Deployment');
  const podSpec = deployment.spec.template.spec;
  const container = podSpec.containers[0];

  it('renders exactly the expected objects, each valid for kubernetes-models', async () => {
    expect(objects.map((object) => `${object.apiVersion} ${object.kind} ${object.metadata?.name}`).sort()).toEqual(
      [
        'apps/v1 Deployment retail-mlops-api',
        'autoscaling/v2 HorizontalPodAutoscaler retail-mlops-api',
        'networking.k8s.io/v1 Ingress retail-mlops-api',
        'networking.k8s.io/v1 NetworkPolicy default-deny-all',
        'networking.k8s.io/v1 NetworkPolicy retail-mlops-api',
        'policy/v1 PodDisruptionBudget retail-mlops-api',
        'v1 ConfigMap retail-mlops-api-model-pin',
        `v1 Namespace retail-mlops-${environment}`,
        'v1 Service retail-mlops-api',
        'v1 ServiceAccount retail-mlops-api',
      ].sort(),
    );
    for (const object of objects) await validateKubernetesObject(object);
  });

  it('puts every namespaced object in the environment namespace, labelled for the restricted Pod Security Standard', () => {
    for (const object of objects.filter((candidate) => candidate.kind !== 'Namespace')) {
      expect(object.metadata?.namespace, `${object.kind} ${object.metadata?.name}`).toBe(`retail-mlops-${environment}`);
    }
    expect(only(objects, 'Namespace').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });

  it('runs the pod as non-root 10001 with RuntimeDefault seccomp and no API token', () => {
    expect(podSpec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(podSpec.automountServiceAccountToken).toBe(false);
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(podSpec.serviceAccountName).toBe('retail-mlops-api');
    expect(podSpec.hostNetwork).toBe(false);
    expect(podSpec.enableServiceLinks).toBe(false);
  });

  it('locks the container down: read-only root, no privilege escalation, all capabilities dropped', () => {
    expect(podSpec.containers).toHaveLength(1);
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('gives the server a writable /tmp (emptyDir) and the API keys as a read-only secret file', () => {
    const volumes = Object.fromEntries(podSpec.volumes.map((volume: { name: string }) => [volume.name, volume]));
    const mounts = Object.fromEntries(container.volumeMounts.map((mount: { name: string }) => [mount.name, mount]));
    expect(Object.keys(volumes).sort()).toEqual(['api-keys', 'tmp']);
    expect(volumes.tmp.emptyDir).toBeDefined();
    expect(mounts.tmp).toEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(volumes['api-keys'].secret).toMatchObject({ secretName: 'retail-mlops-api-keys', optional: false, defaultMode: 0o440 });
    expect(mounts['api-keys']).toEqual({ name: 'api-keys', mountPath: '/var/run/secrets/retail-mlops/api-keys', readOnly: true });
    const keysFile = container.env.find((variable: { name: string }) => variable.name === 'RETAIL_MLOPS_API_KEYS_FILE');
    expect(keysFile.value).toBe('/var/run/secrets/retail-mlops/api-keys/api-keys');
  });

  it('runs `retail-mlops serve` from the pinned image on port 8080', () => {
    expect(container.image).toBe('ghcr.io/example-org/retail-mlops-api:1.2.3');
    expect(container.image).not.toMatch(/:latest$/);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.command).toBeUndefined(); // the image's entrypoint: the retail-mlops bin
    expect(container.args).toEqual(['serve']);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(container.env.find((variable: { name: string }) => variable.name === 'PORT').value).toBe('8080');
  });

  it('consumes the model pin from the ConfigMap, with its checksum on the pod template', () => {
    const cloudPin = cloud === 'eks' ? pin : blobPin;
    const configMap = only(objects, 'ConfigMap', 'retail-mlops-api-model-pin');
    expect(configMap.data).toEqual({ RETAIL_MLOPS_REGISTRY: cloudPin.registry, RETAIL_MLOPS_MODEL: cloudPin.model });
    for (const key of ['RETAIL_MLOPS_REGISTRY', 'RETAIL_MLOPS_MODEL']) {
      const variable = container.env.find((candidate: { name: string }) => candidate.name === key);
      expect(variable.valueFrom).toEqual({ configMapKeyRef: { name: 'retail-mlops-api-model-pin', key } });
    }
    expect(deployment.spec.template.metadata.annotations[modelPinChecksumAnnotation]).toBe(modelPinChecksum(cloudPin));
  });

  it('probes liveness on /healthz, readiness on /readyz, and guards start-up with a startup probe', () => {
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 8080 } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 8080 } });
    expect(container.startupProbe).toMatchObject({ httpGet: { path: '/healthz', port: 8080 } });
    // the startup probe allows a minute, liveness then restarts after three misses
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
    expect(container.livenessProbe.failureThreshold).toBe(3);
  });

  it('drains on shutdown: a preStop sleep well inside the termination grace period', () => {
    expect(podSpec.terminationGracePeriodSeconds).toBe(45);
    expect(container.lifecycle.preStop).toEqual({ exec: { command: ['sleep', '15'] } });
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
  });

  it("sets requests and limits from the environment's defaults", () => {
    expect(container.resources).toEqual({
      requests: { cpu: `${defaults.cpuRequestMillicores}m`, memory: `${defaults.memoryRequestMebibytes}Mi` },
      limits: { cpu: `${defaults.cpuLimitMillicores}m`, memory: `${defaults.memoryLimitMebibytes}Mi` },
    });
  });

  it('leaves scaling to the HorizontalPodAutoscaler: no replicas on the Deployment', () => {
    expect(deployment.spec).not.toHaveProperty('replicas');
    const autoscaler = only(objects, 'HorizontalPodAutoscaler');
    expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'retail-mlops-api' });
    expect(autoscaler.spec.minReplicas).toBe(defaults.minReplicas);
    expect(autoscaler.spec.maxReplicas).toBe(defaults.maxReplicas);
    expect(autoscaler.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    if (environment === 'production') expect(autoscaler.spec.minReplicas).toBeGreaterThanOrEqual(3);
  });

  it('keeps pods through voluntary disruptions with a PodDisruptionBudget on the same pods', () => {
    const budget = only(objects, 'PodDisruptionBudget');
    const expected =
      defaults.minAvailablePods !== undefined ? { minAvailable: defaults.minAvailablePods } : { maxUnavailable: defaults.maxUnavailablePods };
    expect(budget.spec).toEqual({ ...expected, selector: deployment.spec.selector, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    if (environment === 'production') expect(budget.spec.minAvailable).toBe(2);
    if (budget.spec.minAvailable !== undefined) expect(budget.spec.minAvailable).toBeLessThan(defaults.minReplicas);
  });

  it('selects the pods by the same stable labels everywhere', () => {
    const selector = { 'app.kubernetes.io/name': 'retail-mlops-api', 'app.kubernetes.io/instance': 'retail-mlops-api' };
    expect(deployment.spec.selector).toEqual({ matchLabels: selector });
    expect(deployment.spec.template.metadata.labels).toMatchObject(selector);
    expect(only(objects, 'Service').spec.selector).toEqual(selector);
    expect(only(objects, 'NetworkPolicy', 'retail-mlops-api').spec.podSelector).toEqual({ matchLabels: selector });
    expect(Object.keys(deployment.spec.template.metadata.labels).some((key) => key.startsWith('cdk8s.io/'))).toBe(false);
  });

  it('spreads the pods across zones (strictly in production) and hosts', () => {
    const [zone, host] = podSpec.topologySpreadConstraints;
    expect(zone).toMatchObject({
      topologyKey: 'topology.kubernetes.io/zone',
      maxSkew: 1,
      whenUnsatisfiable: environment === 'production' ? 'DoNotSchedule' : 'ScheduleAnyway',
      labelSelector: deployment.spec.selector,
      matchLabelKeys: ['pod-template-hash'],
    });
    expect(host).toMatchObject({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' });
  });

  it('exposes only /v1 through the Service and Ingress', () => {
    const service = only(objects, 'Service');
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
    const ingress = only(objects, 'Ingress');
    expect(ingress.spec.rules).toEqual([
      {
        host: 'predict.example.com',
        http: { paths: [{ path: '/v1', pathType: 'Prefix', backend: { service: { name: 'retail-mlops-api', port: { number: 80 } } } }] },
      },
    ]);
  });

  it('denies all traffic in the namespace by default', () => {
    expect(only(objects, 'NetworkPolicy', 'default-deny-all').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  it('allows exactly: in from the storefront and the load balancer on 8080; out to kube-dns and HTTPS to the model store', () => {
    const policy = only(objects, 'NetworkPolicy', 'retail-mlops-api').spec;
    const apiPort = [{ protocol: 'TCP', port: 8080 }];
    const loadBalancer =
      cloud === 'eks' ? [{ ipBlock: { cidr: '10.0.0.0/16' } }] : [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'app-routing-system' } } }];
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storefront' } } }], ports: apiPort },
      { from: loadBalancer, ports: apiPort },
    ]);
    expect(policy.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      { to: [{ ipBlock: { cidr: cloud === 'eks' ? '10.0.0.0/16' : '10.224.0.0/12' } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
  });
});

describe('EKS integration', () => {
  const objects = synthesize('eks', 'production', { certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/0f7c2a1e-1111-2222-3333-444455556666' });

  it('annotates the ServiceAccount with the IRSA role', () => {
    expect(only(objects, 'ServiceAccount').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/retail-mlops-api',
      'eks.amazonaws.com/sts-regional-endpoints': 'true',
    });
    expect(only(objects, 'Deployment').spec.template.metadata.labels).not.toHaveProperty('azure.workload.identity/use');
  });

  it('asks the AWS Load Balancer Controller for an internal HTTPS-only ALB in IP mode, health-checking /readyz', () => {
    const ingress = only(objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('alb');
    expect(ingress.metadata.annotations).toMatchObject({
      'alb.ingress.kubernetes.io/scheme': 'internal',
      'alb.ingress.kubernetes.io/target-type': 'ip',
      'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS":443}]',
      'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      'alb.ingress.kubernetes.io/certificate-arn': 'arn:aws:acm:eu-west-1:111122223333:certificate/0f7c2a1e-1111-2222-3333-444455556666',
      'alb.ingress.kubernetes.io/healthcheck-path': '/readyz',
      'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=30',
    });
    expect(ingress.spec.tls).toEqual([{ hosts: ['predict.example.com'] }]);
  });

  it('lets in the configured load-balancer ranges and sends HTTPS to the configured model store', () => {
    const policy = only(synthesize('eks', 'dev', { loadBalancerSourceCidrs: ['10.1.0.0/20', '10.1.16.0/20'], modelStoreCidrs: ['10.9.0.0/24'] }), 'NetworkPolicy', 'retail-mlops-api');
    expect(policy.spec.ingress[1].from).toEqual([{ ipBlock: { cidr: '10.1.0.0/20' } }, { ipBlock: { cidr: '10.1.16.0/20' } }]);
    expect(policy.spec.egress[1].to).toEqual([{ ipBlock: { cidr: '10.9.0.0/24' } }]);
  });
});

describe('AKS integration', () => {
  const objects = synthesize('aks', 'production', { workloadIdentityTenantId: '99999999-8888-7777-6666-555555555555' });

  it('uses workload identity: the client id on the ServiceAccount, the opt-in label on the pods', () => {
    expect(only(objects, 'ServiceAccount').metadata.annotations).toEqual({
      'azure.workload.identity/client-id': '11111111-2222-3333-4444-555555555555',
      'azure.workload.identity/tenant-id': '99999999-8888-7777-6666-555555555555',
    });
    expect(only(objects, 'Deployment').spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
  });

  it('routes through the application routing add-on with the Key Vault certificate', () => {
    const ingress = only(objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('webapprouting.kubernetes.azure.com');
    expect(ingress.metadata.annotations).toEqual({ 'kubernetes.azure.com/tls-cert-keyvault-uri': 'https://retail-kv.vault.azure.net/certificates/predict' });
    expect(ingress.spec.tls).toEqual([{ hosts: ['predict.example.com'], secretName: 'keyvault-retail-mlops-api' }]);
  });

  it('adds the extra HTTPS destinations (Entra ID for the token exchange) as their own egress rule', () => {
    const policy = only(synthesize('aks', 'dev', { additionalHttpsEgressCidrs: ['20.190.128.0/18'] }), 'NetworkPolicy', 'retail-mlops-api');
    expect(policy.spec.egress).toHaveLength(3);
    expect(policy.spec.egress[2]).toEqual({ to: [{ ipBlock: { cidr: '20.190.128.0/18' } }], ports: [{ protocol: 'TCP', port: 443 }] });
  });
});

describe('the registry a chart pins', () => {
  it('is one its cloud can open: an EKS chart refuses a Blob registry, an AKS chart an s3:// one', () => {
    expect(() => synthesize('eks', 'dev', { modelPin: blobPin })).toThrow(/modelPin\.registry "https:\/\/retailmodels\.blob\.core\.windows\.net\/registry" belongs to the other cloud: EKS pods need an s3:\/\//);
    expect(() => synthesize('aks', 'dev', { modelPin: pin })).toThrow(/modelPin\.registry "s3:\/\/retail-models\/registry" belongs to the other cloud: AKS pods need a https:\/\//);
    expect(only(synthesize('eks', 'dev'), 'ConfigMap').data.RETAIL_MLOPS_REGISTRY).toBe(pin.registry);
    expect(only(synthesize('aks', 'dev'), 'ConfigMap').data.RETAIL_MLOPS_REGISTRY).toBe(blobPin.registry);
  });
});

describe('props overrides', () => {
  it('a new pin changes the ConfigMap and the checksum annotation, so the pods roll', () => {
    const next: ModelPin = { ...pin, model: 'v-ba9876543210' };
    const before = only(synthesize('eks', 'staging'), 'Deployment');
    const afterObjects = synthesize('eks', 'staging', { modelPin: next });
    const after = only(afterObjects, 'Deployment');
    expect(only(afterObjects, 'ConfigMap').data.RETAIL_MLOPS_MODEL).toBe('v-ba9876543210');
    expect(after.spec.template.metadata.annotations[modelPinChecksumAnnotation]).toBe(modelPinChecksum(next));
    const checksumBefore = before.spec.template.metadata.annotations[modelPinChecksumAnnotation];
    expect(after.spec.template.metadata.annotations[modelPinChecksumAnnotation]).not.toBe(checksumBefore);
  });

  it('pins the image by digest when one is given', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const deployment = only(synthesize('aks', 'dev', { imageRegistry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', imageDigest: digest }), 'Deployment');
    expect(deployment.spec.template.spec.containers[0].image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/example-org/retail-mlops-api:1.2.3@${digest}`);
  });

  it('lets the monitoring namespace scrape the API port when asked', () => {
    const policy = only(synthesize('eks', 'dev', { monitoringNamespace: 'monitoring' }), 'NetworkPolicy', 'retail-mlops-api');
    expect(policy.spec.ingress[2]).toEqual({ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 8080 }] });
  });

  it('a props disruption budget replaces the environment default instead of adding to it', () => {
    const budget = only(synthesize('eks', 'dev', { minReplicas: 2, minAvailablePods: 1 }), 'PodDisruptionBudget');
    expect(budget.spec.minAvailable).toBe(1);
    expect(budget.spec).not.toHaveProperty('maxUnavailable');
  });

  it('mounts a service-account token only when asked', () => {
    const objects = synthesize('eks', 'dev', { automountServiceAccountToken: true });
    expect(only(objects, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(true);
  });
});
