/**
 * The prediction API on AKS: Microsoft Entra workload identity (the ServiceAccount names the managed
 * identity's client id, the pods carry `azure.workload.identity/use: "true"` so the webhook projects
 * the token), and an Ingress for the application routing add-on (managed NGINX in
 * `app-routing-system`) with its TLS certificate from Key Vault.
 */
import type { Construct } from 'constructs';
import { ApiChart, type ResolvedApiChart } from './api-chart';
import { checkChartCloud, resolveApiChartProps, type ApiChartProps } from './api-chart-props';
import { isDnsLabel, isGuid, isKeyVaultCertificateUri } from './formats';
import { ProblemCollector } from '../core/errors';

/** `10.224.0.0/12`: the virtual network AKS creates, where the Blob storage private endpoint lives. */
export const aksDefaultVirtualNetworkCidrs: readonly string[] = ['10.224.0.0/12'];

/** The ingress class of the application routing add-on. */
export const aksApplicationRoutingIngressClass = 'webapprouting.kubernetes.azure.com';

export interface AksApiChartProps extends ApiChartProps {
  /** The client id of the user-assigned managed identity the pods act as (read access to the registry's container). */
  readonly workloadIdentityClientId: string;

  /**
   * The Entra tenant of that identity.
   * @default - the cluster's tenant (the webhook's default)
   */
  readonly workloadIdentityTenantId?: string;

  /**
   * The Key Vault certificate the add-on serves HTTPS with: `https://<vault>.vault.azure.net/certificates/<name>`
   * (unversioned, so renewals roll out by themselves).
   */
  readonly keyVaultCertificateUri: string;

  /**
   * The namespace of the add-on's NGINX pods (allowed in on the API port).
   * @default 'app-routing-system'
   */
  readonly ingressControllerNamespace?: string;
}

export class AksApiChart extends ApiChart {
  /** Validates every prop (throwing one `InvalidOptionsError` that lists all problems), then builds the chart. */
  constructor(scope: Construct, id: string, props: AksApiChartProps) {
    super(scope, id, resolveAksApiChartProps(props));
  }
}

/** The props with defaults applied plus the AKS integration; throws `InvalidOptionsError` listing every problem. */
export function resolveAksApiChartProps(props: AksApiChartProps): ResolvedApiChart {
  const problems = new ProblemCollector('AksApiChart props');
  const settings = resolveApiChartProps(props, aksDefaultVirtualNetworkCidrs, problems);
  checkChartCloud(props, { cluster: 'aks', provider: 'azure', locationForm: 'a https://<account>.blob.core.windows.net/<container>/<prefix>', podIdentity: 'workload-identity' }, problems);
  problems.check(
    typeof props.workloadIdentityClientId === 'string' && isGuid(props.workloadIdentityClientId),
    `workloadIdentityClientId must be the managed identity's client id (a GUID), got ${JSON.stringify(props.workloadIdentityClientId)}`,
  );
  if (props.workloadIdentityTenantId !== undefined) {
    problems.check(isGuid(props.workloadIdentityTenantId), `workloadIdentityTenantId must be a GUID, got ${JSON.stringify(props.workloadIdentityTenantId)}`);
  }
  problems.check(
    typeof props.keyVaultCertificateUri === 'string' && isKeyVaultCertificateUri(props.keyVaultCertificateUri),
    `keyVaultCertificateUri must be https://<vault>.vault.azure.net/certificates/<name>, got ${JSON.stringify(props.keyVaultCertificateUri)}`,
  );
  const ingressControllerNamespace = props.ingressControllerNamespace ?? 'app-routing-system';
  problems.check(isDnsLabel(ingressControllerNamespace), `ingressControllerNamespace must be a DNS label, got ${JSON.stringify(ingressControllerNamespace)}`);
  problems.throwIfAny();

  const serviceAccountAnnotations: Record<string, string> = { 'azure.workload.identity/client-id': props.workloadIdentityClientId };
  if (props.workloadIdentityTenantId !== undefined) serviceAccountAnnotations['azure.workload.identity/tenant-id'] = props.workloadIdentityTenantId;

  return {
    settings,
    cloud: {
      provider: 'azure',
      serviceAccountAnnotations,
      podLabels: { 'azure.workload.identity/use': 'true' },
      ingressClassName: aksApplicationRoutingIngressClass,
      ingressAnnotations: { 'kubernetes.azure.com/tls-cert-keyvault-uri': props.keyVaultCertificateUri },
      // the add-on syncs the Key Vault certificate into the Secret `keyvault-<ingress name>`
      ingressTls: [{ hosts: [settings.host], secretName: `keyvault-${settings.name}` }],
      loadBalancerSources: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ingressControllerNamespace } } }],
    },
  };
}
