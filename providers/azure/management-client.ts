/**
 * The Azure ML control-plane client (`@azure/arm-machinelearning`, loaded on first use), built the
 * same way for production and for tests: the real client and its whole pipeline (bearer-token
 * authentication included), with only its endpoint and trusted certificates set from the options.
 */
import { rootCertificates } from 'node:tls';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning' with { 'resolution-mode': 'import' };
import type { TokenCredential } from '@azure/identity' with { 'resolution-mode': 'import' };
import { JobAssetRepair } from './job-asset-repair';

/** Azure Resource Manager in the public cloud. */
export const DEFAULT_MANAGEMENT_ENDPOINT = 'https://management.azure.com';

export interface ManagementClientSettings {
  readonly subscriptionId: string;
  readonly credential: TokenCredential;
  /** @default DEFAULT_MANAGEMENT_ENDPOINT */
  readonly endpoint?: string;
  /**
   * PEM certificates trusted besides the system's, for an endpoint with a private CA (or a test's
   * self-signed certificate).
   * @default - the system's
   */
  readonly trustedCertificates?: string;
}

export interface ManagementClient {
  readonly client: AzureMachineLearningWorkspaces;
  /** The `uri_folder` serializer workaround, already in the client's pipeline. */
  readonly jobAssetRepair: JobAssetRepair;
}

/** Problems of management-endpoint options (https only: the bearer token never travels in clear). */
export function managementEndpointProblems(endpoint: unknown, trustedCertificates: unknown): string[] {
  const problems: string[] = [];
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(String(endpoint));
    } catch {
      problems.push(`managementEndpoint '${String(endpoint)}' is not a URL`);
    }
    if (url && url.protocol !== 'https:') problems.push(`managementEndpoint '${String(endpoint)}' must use https (bearer tokens never travel in clear)`);
  }
  if (trustedCertificates !== undefined && (typeof trustedCertificates !== 'string' || !trustedCertificates.includes('-----BEGIN CERTIFICATE-----'))) {
    problems.push('trustedCertificates must be PEM text (-----BEGIN CERTIFICATE-----…)');
  }
  return problems;
}

/** Creates the client (loading the SDK) with the job-asset repair policy in its pipeline. */
export async function createManagementClient(settings: ManagementClientSettings): Promise<ManagementClient> {
  const { AzureMachineLearningWorkspaces } = await import('@azure/arm-machinelearning');
  const endpoint = (settings.endpoint ?? DEFAULT_MANAGEMENT_ENDPOINT).replace(/\/+$/, '');
  const client = new AzureMachineLearningWorkspaces(settings.credential, settings.subscriptionId, {
    endpoint,
    // tokens are always for Resource Manager, whatever host answers
    credentialScopes: [`${DEFAULT_MANAGEMENT_ENDPOINT}/.default`],
    ...(settings.trustedCertificates ? { tlsOptions: { ca: [...rootCertificates, settings.trustedCertificates] } } : {}),
  });
  const jobAssetRepair = new JobAssetRepair();
  client.pipeline.addPolicy(jobAssetRepair.policy);
  return { client, jobAssetRepair };
}

/** The ARM id of a workspace and of its children. */
export function workspaceResourceId(subscriptionId: string, resourceGroup: string, workspace: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${workspace}`;
}
