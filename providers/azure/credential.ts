/**
 * Credentials: Microsoft Entra ID tokens only, never keys in code. By default
 * `DefaultAzureCredential`, which on AKS picks the workload identity the pod's ServiceAccount
 * names (AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE are set by the webhook),
 * in Azure Pipelines the service connection's federated identity (AzureCLI@2), and on a laptop
 * `az login`. Tests inject a static credential instead.
 */
import type { TokenCredential } from '@azure/identity' with { 'resolution-mode': 'import' };

/** `DefaultAzureCredential` (the SDK is loaded on first use). */
export async function createDefaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/** True for an object that can hand out tokens (a TokenCredential). */
export function isTokenCredential(value: unknown): value is TokenCredential {
  return typeof value === 'object' && value !== null && typeof (value as { getToken?: unknown }).getToken === 'function';
}
