/**
 * The Azure infrastructure of one environment (dev, staging or production) as an ARM deployment
 * template, built with the typed builder in arm-template.ts. `npm run azure:template` writes it to
 * `providers/azure/infra/dist/azuredeploy.json` (committed; a test fails when it is stale); the
 * pipelines deploy it with `az deployment group create --template-file … --parameters environment=…`.
 *
 * What it holds, secure by default:
 * - Log Analytics + workspace-based Application Insights; Container Insights' data collection rule
 *   (containers' stdout/stderr into `ContainerLogV2`); scheduled query alerts on the telemetry events
 *   of core/monitoring/telemetry.ts (p95 latency, 5xx rate, drift) to an action group; a monthly
 *   Consumption budget on the resource group
 * - the data lake account (ADLS Gen2: HNS on, TLS 1.2, https only, no public blob access, no shared
 *   keys: Entra ID only; versioning and soft delete; lifecycle: raw → cool → archive, quarantine,
 *   predictions and training-job folders deleted after N days) with the `lake` and `registry` containers
 * - Key Vault (RBAC, purge protection, soft delete), ACR (no admin user, no anonymous pull)
 * - AKS: Entra ID + Azure RBAC, no local accounts, OIDC issuer + workload identity, Azure CNI
 *   (overlay, Cilium), Azure Policy add-on, cluster autoscaler, a spot user pool scaling to zero,
 *   application routing (the manifests' ingress class), Container Insights
 * - the Azure ML workspace (its own HNS-free storage account, as Azure ML requires), identity-based
 *   `lake` and `registry` datastores, an AmlCompute cluster of low-priority nodes scaling to zero
 * - a user-assigned identity for the API and its monitor CronJob, federated with the API's Kubernetes
 *   service account (issuer: the cluster's OIDC issuer; subject `system:serviceaccount:<namespace>:<name>`),
 *   reading the `registry` container and writing the `lake` one (prediction-log segments, drift
 *   reports, the monitor's state); one for the CI pipeline, federated with the Azure DevOps service connection
 */
import { addAksBootstrap, addManagedOnlineEndpoint } from './api-hosting';
import {
  ArmTemplate,
  format,
  guid,
  resourceGroupId,
  resourceGroupLocation,
  roleDefinitionId,
  tenantId,
  call,
  type ArmExpression,
  type ArmResource,
  type ArmValue,
} from './arm-template';
import { ENVIRONMENT_FIELD, TELEMETRY_EVENTS, type TelemetryEventKey } from '../../../core/monitoring/telemetry';
import { BUILT_IN_ROLES } from './built-in-roles';


export { BUILT_IN_ROLES };

/** The names the rest of the project meets: parameters that must agree with the manifests and the pipeline, and outputs to copy. */
export const AZURE_TEMPLATE_NAMES = {
  parameters: {
    environment: 'environment',
    apiNamespace: 'apiNamespace',
    apiServiceAccountName: 'apiServiceAccountName',
    serviceConnectionName: 'azureDevOpsServiceConnectionName',
  },
  outputs: {
    /** → manifests/deployment-targets.ts `managedIdentityClientIds[environment]` (the ServiceAccount's `azure.workload.identity/client-id`). */
    apiWorkloadIdentityClientId: 'apiWorkloadIdentityClientId',
    /** → the pipeline's `azureClientId` (the service connection's identity). */
    pipelineIdentityClientId: 'pipelineIdentityClientId',
    lakeLocation: 'lakeLocation',
    registryLocation: 'registryLocation',
  },
} as const;

/** The audience every Entra workload identity federation uses. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

export function buildAzureDeploymentTemplate(): ArmTemplate {
  const template = new ArmTemplate('retail-mlops on Azure: data lake, model registry, Azure ML training, AKS for the prediction API, monitoring and budget');
  const names = AZURE_TEMPLATE_NAMES.parameters;

  // --- parameters -------------------------------------------------------------------------------
  const prefix = template.parameter('namePrefix', {
    type: 'string',
    description: 'Lowercase letters and digits, 3–11: makes the globally unique names (storage, Key Vault, registry) — pick one for your team',
    defaultValue: 'retailmlops',
    minLength: 3,
    maxLength: 11,
  });
  const environment = template.parameter(names.environment, { type: 'string', description: 'The environment this deployment is', allowedValues: ['dev', 'staging', 'production'] });
  const location = template.parameter('location', { type: 'string', description: 'Region of every resource', defaultValue: resourceGroupLocation() });
  const apiNamespace = template.parameter(names.apiNamespace, {
    type: 'string',
    description: 'Kubernetes namespace of the prediction API (manifests: `retail-mlops-<environment>`)',
    defaultValue: format('retail-mlops-{0}', environment),
  });
  const apiServiceAccountName = template.parameter(names.apiServiceAccountName, {
    type: 'string',
    description: 'Kubernetes ServiceAccount of the prediction API (manifests: the chart name)',
    defaultValue: 'retail-mlops-api',
  });
  const azureDevOpsOrganizationId = template.parameter('azureDevOpsOrganizationId', { type: 'string', description: 'Azure DevOps organization id (GUID): the issuer of the service connection\'s tokens' });
  const azureDevOpsOrganizationName = template.parameter('azureDevOpsOrganizationName', { type: 'string', description: 'Azure DevOps organization name' });
  const azureDevOpsProjectName = template.parameter('azureDevOpsProjectName', { type: 'string', description: 'Azure DevOps project name' });
  const serviceConnectionName = template.parameter(names.serviceConnectionName, {
    type: 'string',
    description: 'The workload-identity-federation service connection the pipeline uses (pipelines: azureServiceConnection)',
    defaultValue: 'retail-mlops',
  });
  const alertEmail = template.parameter('alertEmail', { type: 'string', description: 'Who receives alerts and budget notifications' });
  const aksAdminGroupObjectIds = template.parameter('aksAdminGroupObjectIds', { type: 'array', description: 'Entra groups that administer the cluster', defaultValue: [] });
  const aksTier = template.parameter('aksTier', { type: 'string', description: 'AKS control plane tier (Standard: uptime SLA, for production)', defaultValue: 'Free', allowedValues: ['Free', 'Standard'] });
  const systemNodeVmSize = template.parameter('systemNodeVmSize', { type: 'string', description: 'VM size of the on-demand system pool (also runs the API)', defaultValue: 'Standard_D2s_v5' });
  const systemNodeMinCount = template.parameter('systemNodeMinCount', { type: 'int', description: 'Autoscaler minimum of the system pool', defaultValue: 1, minValue: 1 });
  const systemNodeMaxCount = template.parameter('systemNodeMaxCount', { type: 'int', description: 'Autoscaler maximum of the system pool', defaultValue: 3, minValue: 1 });
  const spotNodeVmSize = template.parameter('spotNodeVmSize', { type: 'string', description: 'VM size of the spot pool (interruptible work: batch scoring, drift reports)', defaultValue: 'Standard_D4s_v5' });
  const spotNodeMaxCount = template.parameter('spotNodeMaxCount', { type: 'int', description: 'Autoscaler maximum of the spot pool (minimum 0)', defaultValue: 3, minValue: 1 });
  const trainingVmSize = template.parameter('trainingVmSize', { type: 'string', description: 'VM size of the Azure ML training cluster', defaultValue: 'Standard_D4s_v3' });
  const trainingMaxNodes = template.parameter('trainingMaxNodes', { type: 'int', description: 'Maximum nodes of the training cluster (minimum 0)', defaultValue: 2, minValue: 1 });
  const storageSku = template.parameter('storageSku', {
    type: 'string',
    description: 'Replication of the data lake (the archive tier needs LRS, GRS or RA-GRS)',
    defaultValue: 'Standard_LRS',
    allowedValues: ['Standard_LRS', 'Standard_GRS', 'Standard_RAGRS'],
  });
  const acrSku = template.parameter('acrSku', { type: 'string', description: 'Container registry tier', defaultValue: 'Standard', allowedValues: ['Basic', 'Standard', 'Premium'] });
  const rawCoolAfterDays = template.parameter('rawCoolAfterDays', { type: 'int', description: 'Raw input files move to the cool tier after this many days', defaultValue: 30, minValue: 1 });
  const rawArchiveAfterDays = template.parameter('rawArchiveAfterDays', { type: 'int', description: 'Raw input files move to the archive tier after this many days', defaultValue: 180, minValue: 1 });
  const quarantineDeleteAfterDays = template.parameter('quarantineDeleteAfterDays', { type: 'int', description: 'Quarantined rows are deleted after this many days', defaultValue: 90, minValue: 1 });
  const predictionsDeleteAfterDays = template.parameter('predictionsDeleteAfterDays', { type: 'int', description: 'Prediction logs are deleted after this many days', defaultValue: 30, minValue: 1 });
  const trainingJobsDeleteAfterDays = template.parameter('trainingJobsDeleteAfterDays', { type: 'int', description: 'Training job folders are deleted after this many days', defaultValue: 90, minValue: 1 });
  const logRetentionDays = template.parameter('logRetentionDays', { type: 'int', description: 'Log Analytics retention', defaultValue: 30, minValue: 30, maxValue: 730 });
  const monthlyBudget = template.parameter('monthlyBudget', { type: 'int', description: 'Monthly cost budget of the resource group, in the billing currency', defaultValue: 500, minValue: 1 });
  const budgetStartDate = template.parameter('budgetStartDate', {
    type: 'string',
    description: 'First day of the budget (the first of a month, yyyy-MM-dd); keep it fixed on redeployments',
    defaultValue: call('utcNow', 'yyyy-MM-01'),
  });
  const p95LatencyThresholdMs = template.parameter('p95LatencyThresholdMs', { type: 'int', description: 'Alert when the API\'s p95 latency exceeds this', defaultValue: 200, minValue: 1 });
  const serverErrorPercentThreshold = template.parameter('serverErrorPercentThreshold', { type: 'int', description: 'Alert when more than this percentage of requests end 5xx', defaultValue: 1, minValue: 0 });
  const driftPsiThreshold = template.parameter('driftPsiThreshold', { type: 'string', description: 'Alert when a drift report\'s largest PSI exceeds this (a decimal)', defaultValue: '0.2' });
  const deployTarget = template.parameter('deployTarget', {
    type: 'string',
    description: 'Where the API runs: aks (a cluster that Argo CD syncs) or azureml (a managed online endpoint, no cluster)',
    defaultValue: 'aks',
    allowedValues: ['aks', 'azureml'],
  });
  const endpointInstanceType = template.parameter('endpointInstanceType', { type: 'string', description: 'VM size of the managed online endpoint (deployTarget azureml)', defaultValue: 'Standard_F2s_v2' });
  const endpointMinInstances = template.parameter('endpointMinInstances', { type: 'int', description: 'Instances of the endpoint at rest (autoscale minimum)', defaultValue: 1, minValue: 1 });
  const endpointMaxInstances = template.parameter('endpointMaxInstances', { type: 'int', description: 'Autoscale maximum of the endpoint', defaultValue: 3, minValue: 1 });
  const apiImageRepository = template.parameter('apiImageRepository', { type: 'string', description: 'The API image\'s repository in the registry (deployTarget azureml)', defaultValue: 'retail-mlops' });
  const apiImageDigest = template.parameter('apiImageDigest', {
    type: 'string',
    description: 'The API image digest the endpoint runs (manifests/pins.json imageDigest); empty: no endpoint yet (deployTarget azureml)',
    defaultValue: '',
  });
  const modelVersion = template.parameter('modelVersion', { type: 'string', description: 'The model version the endpoint serves (manifests/pins.json model; deployTarget azureml)', defaultValue: '' });
  const onAks = call('equals', deployTarget, 'aks');
  const onAzureMl = call('equals', deployTarget, 'azureml');

  // --- names ------------------------------------------------------------------------------------
  const name = (pattern: string): ArmExpression => format(pattern, prefix, environment);
  const tags = template.variable('tags', { 'application': 'retail-mlops', environment, 'managed-by': 'providers/azure/infra' });

  // --- monitoring -------------------------------------------------------------------------------
  const logAnalytics = template.resource({
    type: 'Microsoft.OperationalInsights/workspaces',
    apiVersion: '2022-10-01',
    name: [name('log-{0}-{1}')],
    location,
    tags,
    properties: { sku: { name: 'PerGB2018' }, retentionInDays: logRetentionDays, features: { disableLocalAuth: true } },
  });
  const applicationInsights = template.resource({
    type: 'Microsoft.Insights/components',
    apiVersion: '2020-02-02',
    name: [name('appi-{0}-{1}')],
    location,
    kind: 'web',
    tags,
    properties: { Application_Type: 'web', WorkspaceResourceId: logAnalytics.id, DisableLocalAuth: true },
    dependsOn: [logAnalytics],
  });

  // --- the data lake (lake + registry containers) -------------------------------------------------
  const secureStorage = {
    minimumTlsVersion: 'TLS1_2',
    supportsHttpsTrafficOnly: true,
    allowBlobPublicAccess: false,
    allowCrossTenantReplication: false,
    defaultToOAuthAuthentication: true,
    encryption: { keySource: 'Microsoft.Storage', requireInfrastructureEncryption: true, services: { blob: { enabled: true }, file: { enabled: true } } },
  };
  const lakeAccount = template.resource({
    type: 'Microsoft.Storage/storageAccounts',
    apiVersion: '2023-01-01',
    name: [name('st{0}{1}')],
    location,
    kind: 'StorageV2',
    sku: { name: storageSku },
    tags,
    properties: { ...secureStorage, accessTier: 'Hot', isHnsEnabled: true, allowSharedKeyAccess: false, networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' } },
  });
  const lakeBlobService = template.resource({
    type: 'Microsoft.Storage/storageAccounts/blobServices',
    apiVersion: '2023-01-01',
    name: [name('st{0}{1}'), 'default'],
    properties: {
      isVersioningEnabled: true,
      deleteRetentionPolicy: { enabled: true, days: 14 },
      containerDeleteRetentionPolicy: { enabled: true, days: 14 },
    },
    dependsOn: [lakeAccount],
  });
  const containers = ['lake', 'registry'].map((container) =>
    template.resource({
      type: 'Microsoft.Storage/storageAccounts/blobServices/containers',
      apiVersion: '2023-01-01',
      name: [name('st{0}{1}'), 'default', container],
      properties: { publicAccess: 'None' },
      dependsOn: [lakeBlobService],
    }),
  );
  const [lakeContainer, registryContainer] = containers;
  const lifecycleRule = (ruleName: string, prefixes: readonly string[], baseBlob: { readonly [action: string]: ArmValue }): ArmValue => ({
    enabled: true,
    name: ruleName,
    type: 'Lifecycle',
    definition: { filters: { blobTypes: ['blockBlob'], prefixMatch: prefixes }, actions: { baseBlob, version: { delete: { daysAfterCreationGreaterThan: 30 } } } },
  });
  template.resource({
    type: 'Microsoft.Storage/storageAccounts/managementPolicies',
    apiVersion: '2023-01-01',
    name: [name('st{0}{1}'), 'default'],
    comments: 'The lake sits at the root of the lake container; training jobs write below training-jobs/ of the same container.',
    properties: {
      policy: {
        rules: [
          lifecycleRule('raw-to-cool-then-archive', ['lake/raw/'], {
            tierToCool: { daysAfterModificationGreaterThan: rawCoolAfterDays },
            tierToArchive: { daysAfterModificationGreaterThan: rawArchiveAfterDays },
          }),
          lifecycleRule('delete-quarantine', ['lake/quarantine/'], { delete: { daysAfterModificationGreaterThan: quarantineDeleteAfterDays } }),
          lifecycleRule('delete-predictions', ['lake/predictions/'], { delete: { daysAfterModificationGreaterThan: predictionsDeleteAfterDays } }),
          lifecycleRule('delete-training-jobs', ['lake/training-jobs/'], { delete: { daysAfterModificationGreaterThan: trainingJobsDeleteAfterDays } }),
        ],
      },
    },
    dependsOn: [lakeAccount],
  });

  // --- secrets and images -----------------------------------------------------------------------
  const keyVault = template.resource({
    type: 'Microsoft.KeyVault/vaults',
    apiVersion: '2023-07-01',
    name: [name('kv{0}{1}')],
    location,
    tags,
    properties: {
      tenantId: tenantId(),
      sku: { family: 'A', name: 'standard' },
      enableRbacAuthorization: true,
      enablePurgeProtection: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      publicNetworkAccess: 'Enabled',
      networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' },
    },
  });
  const containerRegistry = template.resource({
    type: 'Microsoft.ContainerRegistry/registries',
    apiVersion: '2023-07-01',
    name: [name('cr{0}{1}')],
    location,
    sku: { name: acrSku },
    tags,
    properties: { adminUserEnabled: false, anonymousPullEnabled: false, publicNetworkAccess: 'Enabled', policies: { retentionPolicy: { status: 'disabled', days: 7 } } },
  });

  // --- AKS --------------------------------------------------------------------------------------
  const cluster = template.resource({
    type: 'Microsoft.ContainerService/managedClusters',
    apiVersion: '2024-02-01',
    name: [name('aks-{0}-{1}')],
    condition: onAks,
    location,
    tags,
    sku: { name: 'Base', tier: aksTier },
    identity: { type: 'SystemAssigned' },
    properties: {
      dnsPrefix: name('aks-{0}-{1}'),
      enableRBAC: true,
      disableLocalAccounts: true,
      aadProfile: { managed: true, enableAzureRBAC: true, tenantID: tenantId(), adminGroupObjectIDs: aksAdminGroupObjectIds },
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true }, imageCleaner: { enabled: true, intervalHours: 168 } },
      networkProfile: {
        networkPlugin: 'azure',
        networkPluginMode: 'overlay',
        networkDataplane: 'cilium',
        networkPolicy: 'cilium',
        loadBalancerSku: 'standard',
        outboundType: 'loadBalancer',
      },
      autoUpgradeProfile: { upgradeChannel: 'patch', nodeOSUpgradeChannel: 'NodeImage' },
      autoScalerProfile: { 'expander': 'least-waste', 'scale-down-unneeded-time': '10m', 'skip-nodes-with-local-storage': 'false' },
      agentPoolProfiles: [
        {
          name: 'system',
          mode: 'System',
          type: 'VirtualMachineScaleSets',
          osType: 'Linux',
          osSKU: 'AzureLinux',
          vmSize: systemNodeVmSize,
          count: systemNodeMinCount,
          enableAutoScaling: true,
          minCount: systemNodeMinCount,
          maxCount: systemNodeMaxCount,
          availabilityZones: ['1', '2', '3'],
          maxPods: 110,
        },
        {
          name: 'spot',
          mode: 'User',
          type: 'VirtualMachineScaleSets',
          osType: 'Linux',
          osSKU: 'AzureLinux',
          vmSize: spotNodeVmSize,
          count: 0,
          enableAutoScaling: true,
          minCount: 0,
          maxCount: spotNodeMaxCount,
          scaleSetPriority: 'Spot',
          scaleSetEvictionPolicy: 'Delete',
          spotMaxPrice: -1,
          nodeLabels: { 'kubernetes.azure.com/scalesetpriority': 'spot' },
          nodeTaints: ['kubernetes.azure.com/scalesetpriority=spot:NoSchedule'],
          availabilityZones: ['1', '2', '3'],
        },
      ],
      addonProfiles: {
        azurepolicy: { enabled: true, config: { version: 'v2' } },
        omsagent: { enabled: true, config: { logAnalyticsWorkspaceResourceID: logAnalytics.id, useAADAuth: 'true' } },
        azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: 'true' } },
      },
      ingressProfile: { webAppRouting: { enabled: true } },
    },
    dependsOn: [logAnalytics],
  });

  // Container Insights' data collection rule (every container's stdout/stderr into ContainerLogV2, which the
  // telemetry alerts below read) is in api-hosting.ts, with the rest of what the API cluster runs

  // --- identities -------------------------------------------------------------------------------
  const apiIdentity = template.resource({
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    apiVersion: '2023-01-31',
    name: [name('id-{0}-api-{1}')],
    location,
    tags,
  });
  template.resource({
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    apiVersion: '2023-01-31',
    name: [name('id-{0}-api-{1}'), 'aks-service-account'],
    condition: onAks,
    properties: {
      issuer: cluster.reference().property('oidcIssuerProfile', 'issuerURL'),
      subject: format('system:serviceaccount:{0}:{1}', apiNamespace, apiServiceAccountName),
      audiences: [TOKEN_EXCHANGE_AUDIENCE],
    },
    dependsOn: [apiIdentity, cluster],
  });
  const pipelineIdentity = template.resource({
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    apiVersion: '2023-01-31',
    name: [name('id-{0}-pipeline-{1}')],
    location,
    tags,
  });
  template.resource({
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    apiVersion: '2023-01-31',
    name: [name('id-{0}-pipeline-{1}'), 'azure-devops-service-connection'],
    properties: {
      issuer: format('https://vstoken.dev.azure.com/{0}', azureDevOpsOrganizationId),
      subject: format('sc://{0}/{1}/{2}', azureDevOpsOrganizationName, azureDevOpsProjectName, serviceConnectionName),
      audiences: [TOKEN_EXCHANGE_AUDIENCE],
    },
    dependsOn: [pipelineIdentity],
  });

  // --- Azure ML ---------------------------------------------------------------------------------
  const workspaceStorage = template.resource({
    type: 'Microsoft.Storage/storageAccounts',
    apiVersion: '2023-01-01',
    name: [name('stw{0}{1}')],
    location,
    kind: 'StorageV2',
    sku: { name: 'Standard_LRS' },
    tags,
    comments: 'Azure ML\'s own storage (snapshots, logs): no hierarchical namespace, which Azure ML does not support on its default account.',
    properties: { ...secureStorage, accessTier: 'Hot', isHnsEnabled: false, allowSharedKeyAccess: false },
  });
  const workspace = template.resource({
    type: 'Microsoft.MachineLearningServices/workspaces',
    apiVersion: '2024-04-01',
    name: [name('mlw-{0}-{1}')],
    location,
    tags,
    sku: { name: 'Basic', tier: 'Basic' },
    identity: { type: 'SystemAssigned' },
    properties: {
      friendlyName: name('retail-mlops ({1})'),
      storageAccount: workspaceStorage.id,
      keyVault: keyVault.id,
      applicationInsights: applicationInsights.id,
      containerRegistry: containerRegistry.id,
      systemDatastoresAuthMode: 'identity',
      publicNetworkAccess: 'Enabled',
      v1LegacyMode: false,
    },
    dependsOn: [workspaceStorage, keyVault, applicationInsights, containerRegistry],
  });
  for (const container of ['lake', 'registry']) {
    template.resource({
      type: 'Microsoft.MachineLearningServices/workspaces/datastores',
      apiVersion: '2024-04-01',
      name: [name('mlw-{0}-{1}'), container],
      properties: {
        datastoreType: 'AzureBlob',
        accountName: name('st{0}{1}'),
        containerName: container,
        endpoint: 'core.windows.net',
        protocol: 'https',
        credentials: { credentialsType: 'None' },
        serviceDataAccessAuthIdentity: 'WorkspaceSystemAssignedIdentity',
        description: `retail-mlops ${container} (identity-based access: no keys)`,
      },
      dependsOn: [workspace, container === 'lake' ? lakeContainer : registryContainer],
    });
  }
  const trainingCluster = template.resource({
    type: 'Microsoft.MachineLearningServices/workspaces/computes',
    apiVersion: '2024-04-01',
    name: [name('mlw-{0}-{1}'), 'cpu-cluster'],
    location,
    identity: { type: 'SystemAssigned' },
    properties: {
      computeType: 'AmlCompute',
      description: 'retail-mlops training: low-priority nodes, scales to zero',
      disableLocalAuth: true,
      properties: {
        osType: 'Linux',
        vmSize: trainingVmSize,
        vmPriority: 'LowPriority',
        scaleSettings: { minNodeCount: 0, maxNodeCount: trainingMaxNodes, nodeIdleTimeBeforeScaleDown: 'PT5M' },
        remoteLoginPortPublicAccess: 'Disabled',
      },
    },
    dependsOn: [workspace],
  });

  // --- role assignments -------------------------------------------------------------------------
  const containerScope = (container: string): ArmExpression => format('Microsoft.Storage/storageAccounts/{0}/blobServices/default/containers/{1}', name('st{0}{1}'), container);
  const assign = (
    label: string,
    scope: { readonly value: ArmExpression | string; readonly resource: ArmResource },
    role: string,
    principalId: ArmExpression,
    dependsOn: readonly ArmResource[],
    condition?: ArmExpression,
  ): ArmResource =>
    template.resource({
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      name: [guid(resourceGroupId(), label, role, environment)],
      scope: scope.value,
      ...(condition ? { condition } : {}),
      comments: label,
      properties: { roleDefinitionId: roleDefinitionId(role), principalId, principalType: 'ServicePrincipal' },
      dependsOn: [scope.resource, ...dependsOn],
    });
  const identityPrincipal = (identity: ArmResource): ArmExpression => identity.reference().property('principalId');
  const systemPrincipal = (resource: ArmResource): ArmExpression => resource.reference(true).property('identity', 'principalId');
  const accountScope = { value: format('Microsoft.Storage/storageAccounts/{0}', name('st{0}{1}')), resource: lakeAccount };
  const registryScope = { value: format('Microsoft.ContainerRegistry/registries/{0}', name('cr{0}{1}')), resource: containerRegistry };
  assign('api reads the model registry', { value: containerScope('registry'), resource: registryContainer }, BUILT_IN_ROLES.storageBlobDataReader, identityPrincipal(apiIdentity), [apiIdentity]);
  assign(
    'api ships predictions, its monitor reads the lake and writes reports',
    { value: containerScope('lake'), resource: lakeContainer },
    BUILT_IN_ROLES.storageBlobDataContributor,
    identityPrincipal(apiIdentity),
    [apiIdentity],
  );
  assign('kubelet pulls images', registryScope, BUILT_IN_ROLES.acrPull, cluster.reference().property('identityProfile', 'kubeletidentity', 'objectId'), [cluster], onAks);
  assign(
    'application routing reads TLS certificates',
    { value: format('Microsoft.KeyVault/vaults/{0}', name('kv{0}{1}')), resource: keyVault },
    BUILT_IN_ROLES.keyVaultSecretsUser,
    cluster.reference().property('ingressProfile', 'webAppRouting', 'identity', 'objectId'),
    [cluster],
    onAks,
  );
  assign('training reads the lake and writes job outputs', accountScope, BUILT_IN_ROLES.storageBlobDataContributor, systemPrincipal(trainingCluster), [trainingCluster]);
  assign('training pulls the image', registryScope, BUILT_IN_ROLES.acrPull, systemPrincipal(trainingCluster), [trainingCluster]);
  assign('workspace reads its datastores', accountScope, BUILT_IN_ROLES.storageBlobDataContributor, systemPrincipal(workspace), [workspace]);
  assign('workspace pulls the image', registryScope, BUILT_IN_ROLES.acrPull, systemPrincipal(workspace), [workspace]);
  assign('pipeline writes the lake and the registry', accountScope, BUILT_IN_ROLES.storageBlobDataContributor, identityPrincipal(pipelineIdentity), [pipelineIdentity]);
  assign('pipeline pushes images', registryScope, BUILT_IN_ROLES.acrPush, identityPrincipal(pipelineIdentity), [pipelineIdentity]);
  assign(
    'pipeline runs training jobs and registers models',
    { value: format('Microsoft.MachineLearningServices/workspaces/{0}', name('mlw-{0}-{1}')), resource: workspace },
    BUILT_IN_ROLES.azureMlDataScientist,
    identityPrincipal(pipelineIdentity),
    [pipelineIdentity],
  );

  // --- alerts and budget ------------------------------------------------------------------------
  const actionGroup = template.resource({
    type: 'Microsoft.Insights/actionGroups',
    apiVersion: '2023-01-01',
    name: [name('ag-{0}-{1}')],
    location: 'global',
    tags,
    properties: { groupShortName: 'retailmlops', enabled: true, emailReceivers: [{ name: 'owners', emailAddress: alertEmail, useCommonAlertSchema: true }] },
  });
  /**
   * The lines of one telemetry event (core/monitoring/telemetry.ts), from the container that logs it
   * in the environment's namespace, parsed as `entry`. ContainerLogV2 holds each line as written.
   */
  const telemetryLines = (event: TelemetryEventKey): ArmExpression =>
    format(
      `ContainerLogV2 | where PodNamespace == '{0}' and ContainerName == '${TELEMETRY_EVENTS[event].source}' | extend entry = parse_json(LogMessage) | where tostring(entry.event) == '${TELEMETRY_EVENTS[event].name}' and tostring(entry.${ENVIRONMENT_FIELD}) == '{1}'`,
      apiNamespace,
      environment,
    );
  const alert = (
    alertName: string,
    description: string,
    severity: number,
    query: ArmExpression,
    measure: string,
    threshold: ArmExpression | number,
  ): ArmResource =>
    template.resource({
      type: 'Microsoft.Insights/scheduledQueryRules',
      apiVersion: '2022-06-15',
      name: [format(`${alertName}-{0}-{1}`, prefix, environment)],
      location,
      tags,
      properties: {
        displayName: format(`${alertName} ({0})`, environment),
        description,
        severity,
        enabled: true,
        evaluationFrequency: 'PT5M',
        windowSize: 'PT15M',
        scopes: [logAnalytics.id],
        criteria: {
          allOf: [
            {
              query,
              timeAggregation: 'Maximum',
              metricMeasureColumn: measure,
              operator: 'GreaterThan',
              threshold,
              failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
            },
          ],
        },
        autoMitigate: true,
        actions: { actionGroups: [actionGroup.id] },
      },
      dependsOn: [logAnalytics, actionGroup],
    });
  // the API logs one `http.window` event a minute per pod (server/request-window.ts): requests, errors5xx, p95Ms, …
  alert(
    'api-p95-latency',
    `The prediction API's p95 request latency (event ${TELEMETRY_EVENTS.httpWindow.name}, field p95Ms: the worst pod's minute) is above the threshold`,
    2,
    format('{0} | summarize p95 = max(todouble(entry.p95Ms)) by bin(TimeGenerated, 5m)', telemetryLines('httpWindow')),
    'p95',
    p95LatencyThresholdMs,
  );
  alert(
    'api-5xx-rate',
    `More than the threshold percentage of the prediction API's responses are 5xx (event ${TELEMETRY_EVENTS.httpWindow.name}, fields errors5xx and requests)`,
    1,
    format(
      '{0} | summarize errors = sum(toint(entry.errors5xx)), total = sum(toint(entry.requests)) by bin(TimeGenerated, 5m) | where total > 0 | extend percent = 100.0 * errors / total',
      telemetryLines('httpWindow'),
    ),
    'percent',
    serverErrorPercentThreshold,
  );
  // the monitor CronJob (retail-mlops monitor) logs one `drift.report` event per run
  alert(
    'model-drift',
    `A drift report (retail-mlops monitor) found a feature whose PSI is above the threshold (event ${TELEMETRY_EVENTS.driftReport.name}, field maxPsi): the monitor starts a retrain`,
    3,
    format('{0} | summarize maxPsi = max(todouble(entry.maxPsi)) by bin(TimeGenerated, 5m) | where maxPsi > {1}', telemetryLines('driftReport'), driftPsiThreshold),
    'maxPsi',
    0,
  );
  template.resource({
    type: 'Microsoft.Consumption/budgets',
    apiVersion: '2023-05-01',
    name: [name('budget-{0}-{1}')],
    properties: {
      category: 'Cost',
      amount: monthlyBudget,
      timeGrain: 'Monthly',
      timePeriod: { startDate: budgetStartDate },
      filter: {},
      notifications: {
        actualAbove80Percent: { enabled: true, operator: 'GreaterThan', threshold: 80, thresholdType: 'Actual', contactEmails: [alertEmail], contactGroups: [actionGroup.id] },
        actualAbove100Percent: { enabled: true, operator: 'GreaterThan', threshold: 100, thresholdType: 'Actual', contactEmails: [alertEmail], contactGroups: [actionGroup.id] },
        forecastAbove100Percent: { enabled: true, operator: 'GreaterThan', threshold: 100, thresholdType: 'Forecasted', contactEmails: [alertEmail], contactGroups: [actionGroup.id] },
      },
    },
    dependsOn: [actionGroup],
  });

  // --- where the API runs: AKS bootstrapped with Argo CD, or an Azure ML managed online endpoint ---
  const registryLocation = format('https://{0}.blob.core.windows.net/registry', name('st{0}{1}'));
  const hosting = { template, environment, location, tags, name, onAks, onAzureMl, cluster, logAnalytics, workspace, containerRegistry, registryContainer, registryLocation };
  addAksBootstrap(hosting);
  const { endpoint } = addManagedOnlineEndpoint(hosting, {
    instanceType: endpointInstanceType,
    minInstances: endpointMinInstances,
    maxInstances: endpointMaxInstances,
    imageRepository: apiImageRepository,
    imageDigest: apiImageDigest,
    modelVersion,
  });
  // production keeps its data: the lake account cannot be deleted (nor its resource group) until the lock is removed
  template.resource({
    type: 'Microsoft.Authorization/locks',
    apiVersion: '2020-05-01',
    name: [name('lock-{0}-lake-{1}')],
    scope: format('Microsoft.Storage/storageAccounts/{0}', name('st{0}{1}')),
    condition: call('equals', environment, 'production'),
    properties: { level: 'CanNotDelete', notes: 'retail-mlops: production keeps its lake and model registry; remove this lock on purpose before deleting the resource group' },
    dependsOn: [lakeAccount],
  });

  // --- outputs ----------------------------------------------------------------------------------
  const outputs = AZURE_TEMPLATE_NAMES.outputs;
  template.output(outputs.apiWorkloadIdentityClientId, {
    type: 'string',
    value: apiIdentity.reference().property('clientId'),
    description: 'Put it in manifests/deployment-targets.ts (managedIdentityClientIds) for this environment: the ServiceAccount annotation',
  });
  template.output(outputs.pipelineIdentityClientId, {
    type: 'string',
    value: pipelineIdentity.reference().property('clientId'),
    description: 'The service connection\'s identity: the pipeline\'s azureClientId',
  });
  template.output('aksOidcIssuerUrl', {
    type: 'string',
    value: call('if', onAks, cluster.reference().property('oidcIssuerProfile', 'issuerURL'), ''),
    description: 'The issuer the API identity trusts (empty with deployTarget azureml)',
  });
  template.output('aksName', { type: 'string', value: name('aks-{0}-{1}'), description: 'az aks get-credentials --name …' });
  template.output('containerRegistryLoginServer', { type: 'string', value: containerRegistry.reference().property('loginServer'), description: 'The pipeline\'s imageRepository host' });
  template.output('onlineEndpointName', {
    type: 'string',
    value: call('if', call('and', onAzureMl, call('not', call('empty', apiImageDigest))), endpoint.definition.name[1], ''),
    description: 'The managed online endpoint (deployTarget azureml): retail-mlops promote rolls new versions out on it',
  });
  template.output(outputs.lakeLocation, { type: 'string', value: format('https://{0}.blob.core.windows.net/lake', name('st{0}{1}')), description: 'RETAIL_MLOPS lake location (provider option lake)' });
  template.output(outputs.registryLocation, {
    type: 'string',
    value: format('https://{0}.blob.core.windows.net/registry', name('st{0}{1}')),
    description: 'RETAIL_MLOPS_REGISTRY and manifests/pins.json registry on Azure (provider option registry)',
  });
  template.output('machineLearningWorkspace', { type: 'string', value: name('mlw-{0}-{1}'), description: 'Provider option workspace' });
  template.output('keyVaultUri', { type: 'string', value: keyVault.reference().property('vaultUri'), description: 'Where the ingress TLS certificate lives (manifests: keyVaultCertificateUri)' });
  return template;
}

/** The committed template's text. */
export function renderAzureDeploymentTemplate(): string {
  return `${JSON.stringify(buildAzureDeploymentTemplate().toJson(), null, 2)}\n`;
}
