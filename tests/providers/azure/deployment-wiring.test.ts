/**
 * The Azure template, the AKS manifests and the Azure Pipelines definition must name the same
 * things: the API's namespace and ServiceAccount (the subject the API identity trusts), that
 * identity's client id (the ServiceAccount's workload-identity annotation), the Key Vault holding
 * the ingress certificate, and the service connection the pipeline identity trusts.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { evaluate, parseExpression, resolveParameters } from './arm-expressions';
import { renderManifests, repositoryDeploymentTargets, environments, readModelPins, type ModelPins } from '../../../manifests';
import { azurePipelineDefinition } from '../../../pipelines/azure';
import { createAzureProjectPipeline, azureProjectPipelineOptions } from '../../../pipelines/project-pipeline';
import { AZURE_TEMPLATE_NAMES, renderAzureDeploymentTemplate } from '../../../providers/azure/infra/azure-deployment-template';
import { REPO_ROOT } from '../../helpers/paths';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const template = JSON.parse(renderAzureDeploymentTemplate()) as { parameters: Json; resources: Json[]; outputs: Json };
const expressionValue = (text: string, parameters: Record<string, unknown>): unknown => evaluate(parseExpression(text.slice(1, -1)), parameters);
const federatedCredential = (nameFragment: string): Json => template.resources.find((resource) => resource.type.endsWith('/federatedIdentityCredentials') && resource.name.includes(nameFragment))!;
const deploymentSample = { azureDevOpsOrganizationId: '00000000-0000-0000-0000-0000000000dd', azureDevOpsOrganizationName: 'example-org', azureDevOpsProjectName: 'retail', alertEmail: 'ml@example.com' };

async function aksObjects(pins: ModelPins, environment: string): Promise<Json[]> {
  const file = renderManifests(pins).find((rendered) => rendered.path === `aks/${environment}/retail-mlops-api.k8s.yaml`)!;
  return parseAllDocuments(file.content).map((document) => document.toJSON() as Json).filter((object) => object !== null);
}

describe('Azure template ↔ AKS manifests ↔ Azure Pipelines', () => {
  it.each(environments)('%s: the API identity trusts exactly the ServiceAccount the AKS chart renders, whose annotation names that identity', async (environment) => {
    const pins = await readModelPins(`${REPO_ROOT}/manifests/pins.json`);
    const objects = await aksObjects(pins, environment);
    const serviceAccount = objects.find((object) => object.kind === 'ServiceAccount')!;
    const deployment = objects.find((object) => object.kind === 'Deployment')!;
    const parameters = resolveParameters(template, { ...deploymentSample, environment });

    // namespace and name: the template's defaults for the environment are what the chart renders
    expect(parameters[AZURE_TEMPLATE_NAMES.parameters.apiNamespace]).toBe(serviceAccount.metadata.namespace);
    expect(parameters[AZURE_TEMPLATE_NAMES.parameters.apiServiceAccountName]).toBe(serviceAccount.metadata.name);
    const credential = federatedCredential('aks-service-account');
    expect(expressionValue(credential.properties.subject, parameters)).toBe(`system:serviceaccount:${serviceAccount.metadata.namespace}:${serviceAccount.metadata.name}`);
    expect(credential.properties.audiences).toEqual(['api://AzureADTokenExchange']);

    // the pods run as that ServiceAccount, with the webhook's label; the alert queries find them by namespace, pod name and container
    const pod = deployment.spec.template;
    expect(pod.spec.serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(pod.metadata.labels['azure.workload.identity/use']).toBe('true');
    expect(deployment.metadata.name).toBe(serviceAccount.metadata.name);
    expect(pod.spec.containers.map((container: Json) => container.name)).toEqual(['api']);

    // the client id: the output of the identity that owns the federated credential → deployment-targets.ts → the annotation
    const identityName = credential.name.replace(/, 'aks-service-account'\)\]$/, '').replace(/^\[format\('\{0\}\/\{1\}', /, '');
    expect(template.outputs[AZURE_TEMPLATE_NAMES.outputs.apiWorkloadIdentityClientId].value).toBe(
      `[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', ${identityName}), '2023-01-31').clientId]`,
    );
    const clientId = repositoryDeploymentTargets.aks(environment, pins[environment]).workloadIdentityClientId;
    expect(serviceAccount.metadata.annotations['azure.workload.identity/client-id']).toBe(clientId);

    // the ingress certificate comes from the Key Vault the template creates (its add-on identity may read it)
    const ingress = objects.find((object) => object.kind === 'Ingress')!;
    const keyVaultName = expressionValue(template.resources.find((resource) => resource.type === 'Microsoft.KeyVault/vaults')!.name, parameters);
    expect(new URL(ingress.metadata.annotations['kubernetes.azure.com/tls-cert-keyvault-uri']).hostname).toBe(`${keyVaultName}.vault.azure.net`);
  });

  it('gives each environment its own identity', async () => {
    const pins = await readModelPins(`${REPO_ROOT}/manifests/pins.json`);
    const clientIds = environments.map((environment) => repositoryDeploymentTargets.aks(environment, pins[environment]).workloadIdentityClientId);
    expect(new Set(clientIds).size).toBe(environments.length);
  });

  it('uses the service connection the pipeline identity trusts, and the template\'s lake, registry and container registry', () => {
    const definition = azurePipelineDefinition(createAzureProjectPipeline()) as Json;
    const steps = (definition.stages as Json[]).flatMap((stage) => stage.jobs.flatMap((job: Json) => job.steps ?? job.strategy.runOnce.deploy.steps));
    const connections = new Set(steps.filter((step) => step.task === 'AzureCLI@2').map((step) => step.inputs.azureSubscription));
    const parameters = resolveParameters(template, { ...deploymentSample, environment: 'dev' });
    expect([...connections]).toEqual([parameters[AZURE_TEMPLATE_NAMES.parameters.serviceConnectionName]]);
    const credential = federatedCredential('azure-devops-service-connection');
    expect(expressionValue(credential.properties.subject, parameters)).toBe(`sc://example-org/retail/${azureProjectPipelineOptions.azureServiceConnection}`);
    expect(expressionValue(credential.properties.issuer, parameters)).toBe(`https://vstoken.dev.azure.com/${deploymentSample.azureDevOpsOrganizationId}`);
    expect(template.outputs[AZURE_TEMPLATE_NAMES.outputs.pipelineIdentityClientId].value).toMatch(/id-\{0\}-pipeline-\{1\}.*\.clientId\]$/);

    const output = (name: string): unknown => expressionValue(template.outputs[name].value, parameters);
    expect(azureProjectPipelineOptions.lake).toBe(output(AZURE_TEMPLATE_NAMES.outputs.lakeLocation));
    expect(azureProjectPipelineOptions.registry).toBe(output(AZURE_TEMPLATE_NAMES.outputs.registryLocation));
    const registryName = expressionValue(template.resources.find((resource) => resource.type === 'Microsoft.ContainerRegistry/registries')!.name, parameters);
    expect(azureProjectPipelineOptions.imageRepository?.split('/')[0]).toBe(`${registryName}.azurecr.io`);
  });
});
