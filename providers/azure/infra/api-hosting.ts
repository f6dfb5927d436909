/**
 * Where the prediction API runs on Azure, chosen per environment by the template's `deployTarget`:
 *
 * - `aks` (default): the cluster is bootstrapped by the deployment itself. Argo CD is installed from
 *   its Helm chart, pinned by version, and the environment's Argo CD Application (the same object
 *   `manifests/dist/aks/argocd/` renders) is applied, by a deployment script that runs
 *   `az aks command invoke` (the API server stays Entra-only, no kubeconfig leaves Azure). One GitOps
 *   controller on both clouds: Argo CD, not the AKS GitOps (Flux) extension, because the manifests
 *   already render Argo CD Applications with the same sync policy per environment (production syncs by
 *   hand), teams learn one UI and one CLI, and a Flux Kustomization would need a second set of objects.
 *   Container Insights collects through a data collection rule that keeps only container logs
 *   (ContainerLogV2, which the alerts query), Kubernetes events and pod inventory: no performance
 *   counters, the bulk of a default Container Insights bill.
 * - `azureml`: no cluster. An Azure ML managed online endpoint serves the same image with
 *   RETAIL_MLOPS_HOSTING=azureml (liveness /healthz, readiness /readyz, scoring /score on 8080), one
 *   deployment `blue` sized by `endpointInstanceType` and autoscaled on CPU between
 *   `endpointMinInstances` and `endpointMaxInstances`. `retail-mlops promote` rolls a new version out
 *   as a second deployment and moves the traffic over (providers/azure/endpoint-rollout.ts).
 */
import {
  ArmExpression,
  call,
  format,
  guid,
  resourceGroupId,
  roleDefinitionId,
  type ArmResource,
  type ArmTemplate,
} from './arm-template';
import { BUILT_IN_ROLES } from './built-in-roles';
import { argoCdApplicationObject } from '../../../manifests/argo-cd-application-chart';
import { repositoryDeploymentTargets, type DeploymentTargets } from '../../../manifests/deployment-targets';
import { environments } from '../../../manifests/environments';
import { HOSTING_CONTRACTS, HOSTING_VARIABLE } from '../../../server/hosting/managed-hosting';

/** The argo-cd chart of https://argoproj.github.io/argo-helm (the same pin as the EKS stack's). */
export const AKS_ARGO_CD_CHART = { repository: 'https://argoproj.github.io/argo-helm', chart: 'argo-cd', version: '7.7.17', namespace: 'argocd' } as const;

/** The Azure CLI image the deployment script runs in. */
export const DEPLOYMENT_SCRIPT_AZ_CLI_VERSION = '2.61.0';

/** The managed online endpoint's first deployment (promote adds the other colour). */
export const FIRST_DEPLOYMENT_NAME = 'blue';


export interface ApiHostingContext {
  readonly template: ArmTemplate;
  readonly environment: ArmExpression;
  readonly location: ArmExpression;
  readonly tags: ArmExpression;
  /** `format(pattern, namePrefix, environment)`. */
  readonly name: (pattern: string) => ArmExpression;
  /** True when the environment runs on AKS. */
  readonly onAks: ArmExpression;
  /** True when the environment runs on an Azure ML online endpoint. */
  readonly onAzureMl: ArmExpression;
  readonly cluster: ArmResource;
  readonly logAnalytics: ArmResource;
  readonly workspace: ArmResource;
  readonly containerRegistry: ArmResource;
  readonly registryContainer: ArmResource;
  /** `https://<account>.blob.core.windows.net/registry` */
  readonly registryLocation: ArmExpression;
  /** @default repositoryDeploymentTargets */
  readonly targets?: DeploymentTargets;
}

/** The deployment script's shell: install or upgrade Argo CD, then apply the Application, inside the cluster. */
function bootstrapScript(): string {
  const chart = AKS_ARGO_CD_CHART;
  const inCluster = [
    `helm repo add argo ${chart.repository}`,
    `helm upgrade --install argo-cd argo/${chart.chart} --version ${chart.version} --namespace ${chart.namespace} --create-namespace --wait --set dex.enabled=false --set notifications.enabled=false`,
    'kubectl apply -f application.json',
  ].join(' && ');
  return [
    'set -euo pipefail',
    'printf \'%s\' "$APPLICATION" > application.json',
    `az aks command invoke --resource-group "$RESOURCE_GROUP" --name "$CLUSTER_NAME" --file application.json --command "${inCluster}" --output json > result.json`,
    // command invoke exits 0 even when the command failed: read its exit code
    'exitCode=$(jq -r \'.exitCode\' result.json); jq -r \'.logs\' result.json',
    'jq -n --arg exitCode "$exitCode" \'{exitCode: $exitCode}\' > "$AZ_SCRIPTS_OUTPUT_PATH"',
    'test "$exitCode" = 0',
  ].join('\n');
}

/** Argo CD, the environment's Application and Container Insights' data collection rule (condition: `onAks`). */
export function addAksBootstrap(context: ApiHostingContext): { readonly script: ArmResource; readonly identity: ArmResource } {
  const { template, name, cluster } = context;
  const targets = context.targets ?? repositoryDeploymentTargets;
  // one Application per environment, selected by the `environment` parameter
  const applications = template.variable(
    'argoCdApplications',
    Object.fromEntries(environments.map((environment) => [environment, JSON.stringify(argoCdApplicationObject(targets.argoCd('aks', environment)))])),
  );
  const application = new ArmExpression(`${applications.text}[${context.environment.text}]`);
  const identity = template.resource({
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    apiVersion: '2023-01-31',
    name: [name('id-{0}-bootstrap-{1}')],
    location: context.location,
    tags: context.tags,
    condition: context.onAks,
    comments: 'Runs the bootstrap deployment script: az aks command invoke on this cluster only',
  });
  const principalId = identity.reference().property('principalId');
  const clusterScope = format('Microsoft.ContainerService/managedClusters/{0}', name('aks-{0}-{1}'));
  const assignments = (['aksClusterAdmin', 'aksRbacClusterAdmin'] as const).map((role) =>
    template.resource({
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      name: [guid(resourceGroupId(), 'bootstrap', role, context.environment)],
      scope: clusterScope,
      condition: context.onAks,
      comments: `bootstrap identity: ${role}`,
      properties: { roleDefinitionId: roleDefinitionId(BUILT_IN_ROLES[role]), principalId, principalType: 'ServicePrincipal' },
      dependsOn: [cluster, identity],
    }),
  );
  const script = template.resource({
    type: 'Microsoft.Resources/deploymentScripts',
    apiVersion: '2023-08-01',
    name: [name('ds-{0}-argocd-{1}')],
    location: context.location,
    kind: 'AzureCLI',
    tags: context.tags,
    condition: context.onAks,
    identity: { type: 'UserAssigned', userAssignedIdentities: { [`[${identity.id.text}]`]: {} } },
    comments: `Installs Argo CD (Helm chart ${AKS_ARGO_CD_CHART.chart} ${AKS_ARGO_CD_CHART.version}) and the environment's Argo CD Application`,
    properties: {
      azCliVersion: DEPLOYMENT_SCRIPT_AZ_CLI_VERSION,
      // reruns when the chart pin or the Application changes
      forceUpdateTag: call('uniqueString', AKS_ARGO_CD_CHART.version, application),
      timeout: 'PT30M',
      retentionInterval: 'PT2H',
      cleanupPreference: 'OnSuccess',
      environmentVariables: [
        { name: 'RESOURCE_GROUP', value: call('resourceGroup').property('name') },
        { name: 'CLUSTER_NAME', value: name('aks-{0}-{1}') },
        { name: 'APPLICATION', value: application },
      ],
      scriptContent: bootstrapScript(),
    },
    dependsOn: [cluster, ...assignments],
  });

  // Container Insights: container logs, events and pod inventory only
  const rule = template.resource({
    type: 'Microsoft.Insights/dataCollectionRules',
    apiVersion: '2022-06-01',
    name: [name('dcr-{0}-ci-{1}')],
    location: context.location,
    kind: 'Linux',
    tags: context.tags,
    condition: context.onAks,
    properties: {
      description: 'Container Insights for the API cluster: ContainerLogV2 (the alerts read it), Kubernetes events, pod inventory; no performance counters',
      dataSources: {
        extensions: [
          {
            name: 'ContainerInsightsExtension',
            extensionName: 'ContainerInsights',
            streams: ['Microsoft-ContainerLogV2', 'Microsoft-KubeEvents', 'Microsoft-KubePodInventory'],
            extensionSettings: { dataCollectionSettings: { interval: '1m', namespaceFilteringMode: 'Off', enableContainerLogV2: true } },
          },
        ],
      },
      destinations: { logAnalytics: [{ workspaceResourceId: context.logAnalytics.id, name: 'logs' }] },
      dataFlows: [{ streams: ['Microsoft-ContainerLogV2', 'Microsoft-KubeEvents', 'Microsoft-KubePodInventory'], destinations: ['logs'] }],
    },
    dependsOn: [context.logAnalytics],
  });
  template.resource({
    type: 'Microsoft.Insights/dataCollectionRuleAssociations',
    apiVersion: '2022-06-01',
    name: ['ContainerInsightsExtension'],
    scope: clusterScope,
    condition: context.onAks,
    properties: { dataCollectionRuleId: rule.id, description: 'Container Insights of the API cluster' },
    dependsOn: [cluster, rule],
  });
  return { script, identity };
}

export interface ManagedEndpointParameters {
  readonly instanceType: ArmExpression;
  readonly minInstances: ArmExpression;
  readonly maxInstances: ArmExpression;
  /** `<login server>/<repository>@sha256:…` is built from these. */
  readonly imageRepository: ArmExpression;
  readonly imageDigest: ArmExpression;
  readonly modelVersion: ArmExpression;
}

/** The Azure ML managed online endpoint, its first deployment, and CPU autoscaling (condition: `onAzureMl` and an image digest). */
export function addManagedOnlineEndpoint(context: ApiHostingContext, parameters: ManagedEndpointParameters): { readonly endpoint: ArmResource; readonly deployment: ArmResource } {
  const { template, name, workspace } = context;
  const contract = HOSTING_CONTRACTS.azureml;
  const deploy = call('and', context.onAzureMl, call('not', call('empty', parameters.imageDigest)));
  const endpointName = name('rm-{0}-{1}');
  const image = format('{0}/{1}@{2}', context.containerRegistry.reference().property('loginServer'), parameters.imageRepository, parameters.imageDigest);
  const environmentVersion = template.resource({
    type: 'Microsoft.MachineLearningServices/workspaces/environments/versions',
    apiVersion: '2024-04-01',
    name: [name('mlw-{0}-{1}'), 'retail-mlops-api', call('substring', parameters.imageDigest, 7, 12)],
    condition: deploy,
    comments: 'The API image as a custom-container environment (version: the digest\'s first 12 hex digits)',
    properties: {
      image,
      osType: 'Linux',
      description: 'retail-mlops API (RETAIL_MLOPS_HOSTING=azureml)',
      inferenceConfig: {
        livenessRoute: { path: contract.livenessPath, port: contract.port },
        readinessRoute: { path: contract.readinessPath, port: contract.port },
        scoringRoute: { path: contract.scoringPath, port: contract.port },
      },
    },
    dependsOn: [workspace],
  });
  const endpoint = template.resource({
    type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
    apiVersion: '2024-04-01',
    name: [name('mlw-{0}-{1}'), endpointName],
    location: context.location,
    kind: 'Managed',
    tags: context.tags,
    identity: { type: 'SystemAssigned' },
    condition: deploy,
    properties: { authMode: 'Key', publicNetworkAccess: 'Enabled', description: 'retail-mlops prediction API', traffic: { [FIRST_DEPLOYMENT_NAME]: 100 } },
    dependsOn: [workspace],
  });
  const endpointPrincipal = endpoint.reference(true).property('identity', 'principalId');
  const grants = [
    { label: 'endpoint reads the model registry', scope: format('Microsoft.Storage/storageAccounts/{0}/blobServices/default/containers/registry', name('st{0}{1}')), role: BUILT_IN_ROLES.storageBlobDataReader, on: context.registryContainer },
    { label: 'endpoint pulls the image', scope: format('Microsoft.ContainerRegistry/registries/{0}', name('cr{0}{1}')), role: BUILT_IN_ROLES.acrPull, on: context.containerRegistry },
  ].map((grant) =>
    template.resource({
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      name: [guid(resourceGroupId(), grant.label, grant.role, context.environment)],
      scope: grant.scope,
      condition: deploy,
      comments: grant.label,
      properties: { roleDefinitionId: roleDefinitionId(grant.role), principalId: endpointPrincipal, principalType: 'ServicePrincipal' },
      dependsOn: [grant.on, endpoint],
    }),
  );
  const deployment = template.resource({
    type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments',
    apiVersion: '2024-04-01',
    name: [name('mlw-{0}-{1}'), endpointName, FIRST_DEPLOYMENT_NAME],
    location: context.location,
    kind: 'Managed',
    tags: context.tags,
    sku: { name: 'Default', capacity: parameters.minInstances },
    condition: deploy,
    properties: {
      endpointComputeType: 'Managed',
      environmentId: environmentVersion.id,
      instanceType: parameters.instanceType,
      scaleSettings: { scaleType: 'Default' },
      environmentVariables: {
        [HOSTING_VARIABLE]: 'azureml',
        RETAIL_MLOPS_REGISTRY: context.registryLocation,
        RETAIL_MLOPS_MODEL: parameters.modelVersion,
      },
      requestSettings: { maxConcurrentRequestsPerInstance: 16, requestTimeout: 'PT5S' },
      livenessProbe: { initialDelay: 'PT30S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 3, successThreshold: 1 },
      readinessProbe: { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 30, successThreshold: 1 },
      appInsightsEnabled: true,
      egressPublicNetworkAccess: 'Enabled',
    },
    dependsOn: [endpoint, environmentVersion, ...grants],
  });
  const metric = (direction: 'Increase' | 'Decrease', operator: 'GreaterThan' | 'LessThan', threshold: number, cooldown: string) => ({
    metricTrigger: {
      metricName: 'CpuUtilizationPercentage',
      metricResourceUri: deployment.id,
      timeGrain: 'PT1M',
      statistic: 'Average',
      timeWindow: 'PT5M',
      timeAggregation: 'Average',
      operator,
      threshold,
    },
    scaleAction: { direction, type: 'ChangeCount', value: '1', cooldown },
  });
  template.resource({
    type: 'Microsoft.Insights/autoscalesettings',
    apiVersion: '2022-10-01',
    name: [name('autoscale-{0}-endpoint-{1}')],
    location: context.location,
    tags: context.tags,
    condition: deploy,
    properties: {
      enabled: true,
      targetResourceUri: deployment.id,
      profiles: [
        {
          name: 'cpu',
          capacity: { minimum: call('string', parameters.minInstances), maximum: call('string', parameters.maxInstances), default: call('string', parameters.minInstances) },
          rules: [metric('Increase', 'GreaterThan', 70, 'PT5M'), metric('Decrease', 'LessThan', 25, 'PT15M')],
        },
      ],
    },
    dependsOn: [deployment],
  });
  return { endpoint, deployment };
}
