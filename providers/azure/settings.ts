/**
 * Checks of the azure provider's settings, pure (no SDK), so the resolver reports them with every
 * other problem before anything talks to Azure.
 */
import type { AzureSettings } from '../../core/config/settings';

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_GROUP_PATTERN = /^[-\w.()]{1,89}[-\w()]$/;
const WORKSPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$/;

/** Problems of the azure settings that hold whatever the provider is used for. */
export function azureSettingsProblems(settings: AzureSettings): string[] {
  const problems: string[] = [];
  if (settings.subscriptionId !== undefined && !GUID_PATTERN.test(settings.subscriptionId)) problems.push(`azure.subscriptionId '${settings.subscriptionId}' is not a GUID`);
  if (settings.resourceGroup !== undefined && !RESOURCE_GROUP_PATTERN.test(settings.resourceGroup)) problems.push(`azure.resourceGroup '${settings.resourceGroup}' is not a resource group name`);
  if (settings.workspace !== undefined && !WORKSPACE_PATTERN.test(settings.workspace)) problems.push(`azure.workspace '${settings.workspace}' is not a workspace name (3–33 letters, digits, '-', '_')`);
  if (settings.managementEndpoint !== undefined && !/^https:\/\/[^\s/?#]+\/?$/.test(settings.managementEndpoint)) problems.push(`azure.managementEndpoint '${settings.managementEndpoint}' must be an https:// origin`);
  return problems;
}

function workspaceProblems(settings: AzureSettings, purpose: string): string[] {
  const problems: string[] = [];
  if (settings.subscriptionId === undefined) problems.push(`azure.subscriptionId (RETAIL_MLOPS_AZURE_SUBSCRIPTION_ID) is required ${purpose}`);
  if (settings.resourceGroup === undefined) problems.push(`azure.resourceGroup (RETAIL_MLOPS_AZURE_RESOURCE_GROUP) is required ${purpose}`);
  if (settings.workspace === undefined) problems.push(`azure.workspace (RETAIL_MLOPS_AZURE_WORKSPACE) is required ${purpose}`);
  return problems;
}

/** What training on Azure ML needs beyond the settings every use needs. */
export function azureTrainingProblems(settings: AzureSettings): string[] {
  const problems = workspaceProblems(settings, 'to train on Azure ML');
  if (settings.image === undefined) problems.push('azure.image (RETAIL_MLOPS_AZURE_IMAGE) is required to train on Azure ML: the image jobs run in');
  return problems;
}

/** What the registry needs beyond the settings every use needs. */
export function azureRegistryProblems(settings: AzureSettings): string[] {
  return workspaceProblems(settings, 'for the registry (it mirrors versions into Azure ML model versions)');
}

/** The workspace of settings already checked. */
export function workspaceOf(settings: AzureSettings): { subscriptionId: string; resourceGroup: string; workspace: string } {
  return { subscriptionId: settings.subscriptionId as string, resourceGroup: settings.resourceGroup as string, workspace: settings.workspace as string };
}
