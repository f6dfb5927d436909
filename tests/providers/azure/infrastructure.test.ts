/**
 * The ARM template of providers/azure/infra: valid (schema, parameters, variables, dependsOn,
 * api versions, expression syntax), up to date with its TypeScript, and secure resource by resource.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { calls, parseExpression, templateExpressions } from './arm-expressions';
import { ENVIRONMENT_FIELD, eventNamed, TELEMETRY_EVENTS } from '../../../core/monitoring/telemetry';
import { BUILT_IN_ROLES, renderAzureDeploymentTemplate, TOKEN_EXCHANGE_AUDIENCE } from '../../../providers/azure/infra/azure-deployment-template';
import { REPO_ROOT } from '../../helpers/paths';

interface TemplateResource {
  type: string;
  apiVersion: string;
  name: string;
  location?: string;
  kind?: string;
  sku?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  scope?: string;
  properties?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  dependsOn?: string[];
  comments?: string;
}
interface Template {
  $schema: string;
  contentVersion: string;
  parameters: Record<string, { type: string; defaultValue?: unknown }>;
  variables: Record<string, unknown>;
  resources: TemplateResource[];
  outputs: Record<string, { type: string; value: unknown }>;
}

const committedFile = path.join(REPO_ROOT, 'providers/azure/infra/dist/azuredeploy.json');
const template = JSON.parse(renderAzureDeploymentTemplate()) as Template;
const ofType = (type: string): TemplateResource[] => template.resources.filter((resource) => resource.type === type);
const one = (type: string): TemplateResource => {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0];
};
const lakeAccount = (): TemplateResource => ofType('Microsoft.Storage/storageAccounts').find((resource) => resource.name.includes("'st{0}{1}'"))!;

describe('the ARM template', () => {
  it('is committed as rendered (run `npm run azure:template` after changing the TypeScript)', () => {
    expect(readFileSync(committedFile, 'utf8')).toBe(renderAzureDeploymentTemplate());
  });

  it('is a deployment template: schema, content version, typed parameters', () => {
    expect(template.$schema).toBe('https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#');
    expect(template.contentVersion).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    for (const [name, parameter] of Object.entries(template.parameters)) {
      expect(['string', 'securestring', 'int', 'bool', 'object', 'array'], name).toContain(parameter.type);
    }
  });

  it('parses every expression, and references only declared parameters and variables', () => {
    const expressions = templateExpressions(template);
    expect(expressions.length).toBeGreaterThan(100);
    const referenced = { parameters: new Set<string>(), variables: new Set<string>() };
    for (const { path: at, text } of expressions) {
      const node = parseExpression(text);
      for (const call of calls(node)) {
        if (call.name === 'parameters' || call.name === 'variables') {
          const argument = call.args[0];
          expect(argument.kind, at).toBe('string');
          referenced[call.name].add((argument as { value: string }).value);
        }
        if (call.name === 'utcNow') expect(at, 'utcNow is only allowed in parameter defaults').toMatch(/^\$\.parameters\.[^.]+\.defaultValue$/);
      }
    }
    for (const name of referenced.parameters) expect(Object.keys(template.parameters), `parameters('${name}')`).toContain(name);
    for (const name of referenced.variables) expect(Object.keys(template.variables), `variables('${name}')`).toContain(name);
    // and nothing declared is left unused
    expect([...referenced.parameters].sort()).toEqual(Object.keys(template.parameters).sort());
  });

  it('has an api version on every resource, and every dependsOn resolves to a resource of the template', () => {
    const resourceIds = new Set<string>();
    for (const resource of template.resources) {
      expect(resource.apiVersion, resource.type).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
      expect(resource.type).toMatch(/^Microsoft\.[A-Za-z]+\/[A-Za-z]+(\/[A-Za-z]+)*$/);
      const name = resource.name.startsWith('[') ? parseExpression(resource.name.slice(1, -1)) : { kind: 'string' as const, value: resource.name };
      const segments = name.kind === 'call' && name.name === 'format' && /^(\{\d+\}\/)+\{\d+\}$/.test((name.args[0] as { value: string }).value) ? name.args.slice(1) : [name];
      expect(segments.length, `${resource.type}: one name segment per type level`).toBe(resource.type.split('/').length - 1);
      resourceIds.add(`[resourceId('${resource.type}', ${segments.map(textOf).join(', ')})]`);
    }
    for (const resource of template.resources) {
      for (const dependency of resource.dependsOn ?? []) expect([...resourceIds], `${resource.type} dependsOn ${dependency}`).toContain(dependency);
    }
  });

  it('gives the lake account HNS, TLS 1.2, https only, no public blob access, no shared keys, versioning and lifecycle rules', () => {
    const account = lakeAccount();
    expect(account.kind).toBe('StorageV2');
    expect(account.properties).toMatchObject({
      isHnsEnabled: true,
      minimumTlsVersion: 'TLS1_2',
      supportsHttpsTrafficOnly: true,
      allowBlobPublicAccess: false,
      allowSharedKeyAccess: false,
      allowCrossTenantReplication: false,
      defaultToOAuthAuthentication: true,
    });
    const blobService = one('Microsoft.Storage/storageAccounts/blobServices');
    expect(blobService.properties).toMatchObject({
      isVersioningEnabled: true,
      deleteRetentionPolicy: { enabled: true },
      containerDeleteRetentionPolicy: { enabled: true },
    });
    const containers = ofType('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(containers.map((container) => container.properties?.publicAccess)).toEqual(['None', 'None']);
    const rules = one('Microsoft.Storage/storageAccounts/managementPolicies').properties?.policy.rules as { name: string; definition: any }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const byName = Object.fromEntries(rules.map((rule) => [rule.name, rule.definition]));
    expect(byName['raw-to-cool-then-archive'].filters.prefixMatch).toEqual(['lake/raw/']);
    expect(Object.keys(byName['raw-to-cool-then-archive'].actions.baseBlob)).toEqual(['tierToCool', 'tierToArchive']);
    expect(byName['delete-quarantine'].filters.prefixMatch).toEqual(['lake/quarantine/']);
    expect(byName['delete-quarantine'].actions.baseBlob.delete.daysAfterModificationGreaterThan).toBe("[parameters('quarantineDeleteAfterDays')]");
    expect(byName['delete-predictions'].filters.prefixMatch).toEqual(['lake/predictions/']);
    // the workspace's own account is just as locked down, without HNS (Azure ML does not support it there)
    const workspaceAccount = ofType('Microsoft.Storage/storageAccounts').find((resource) => resource !== account)!;
    expect(workspaceAccount.properties).toMatchObject({ isHnsEnabled: false, minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: false, allowSharedKeyAccess: false });
  });

  it('makes Key Vault RBAC-only with purge protection and soft delete, and ACR without an admin user', () => {
    expect(one('Microsoft.KeyVault/vaults').properties).toMatchObject({ enableRbacAuthorization: true, enablePurgeProtection: true, enableSoftDelete: true, softDeleteRetentionInDays: 90 });
    expect(one('Microsoft.ContainerRegistry/registries').properties).toMatchObject({ adminUserEnabled: false, anonymousPullEnabled: false });
  });

  it('builds AKS with Entra RBAC, workload identity + OIDC issuer, Azure CNI, Azure Policy, autoscaling and a spot pool', () => {
    const aks = one('Microsoft.ContainerService/managedClusters');
    const properties = aks.properties!;
    expect(aks.identity).toEqual({ type: 'SystemAssigned' });
    expect(properties).toMatchObject({
      enableRBAC: true,
      disableLocalAccounts: true,
      aadProfile: { managed: true, enableAzureRBAC: true },
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true } },
      networkProfile: { networkPlugin: 'azure', networkPolicy: 'cilium' },
      addonProfiles: { azurepolicy: { enabled: true }, omsagent: { enabled: true } },
      ingressProfile: { webAppRouting: { enabled: true } },
    });
    const pools = properties.agentPoolProfiles as Record<string, unknown>[];
    expect(pools.every((pool) => pool.enableAutoScaling === true)).toBe(true);
    expect(pools.find((pool) => pool.mode === 'System')).toBeDefined();
    expect(pools.find((pool) => pool.scaleSetPriority === 'Spot')).toMatchObject({
      mode: 'User',
      minCount: 0,
      scaleSetEvictionPolicy: 'Delete',
      spotMaxPrice: -1,
      nodeTaints: ['kubernetes.azure.com/scalesetpriority=spot:NoSchedule'],
    });
  });

  it('gives Azure ML its workspace, identity-based datastores and a low-priority cluster scaling to zero', () => {
    const workspace = one('Microsoft.MachineLearningServices/workspaces');
    expect(workspace.identity).toEqual({ type: 'SystemAssigned' });
    expect(workspace.properties).toMatchObject({ v1LegacyMode: false, systemDatastoresAuthMode: 'identity' });
    const datastores = ofType('Microsoft.MachineLearningServices/workspaces/datastores');
    expect(datastores.map((datastore) => [datastore.properties?.containerName, datastore.properties?.credentials])).toEqual([
      ['lake', { credentialsType: 'None' }],
      ['registry', { credentialsType: 'None' }],
    ]);
    const compute = one('Microsoft.MachineLearningServices/workspaces/computes').properties!;
    expect(compute.computeType).toBe('AmlCompute');
    expect(compute.properties).toMatchObject({ vmPriority: 'LowPriority', scaleSettings: { minNodeCount: 0 }, remoteLoginPortPublicAccess: 'Disabled' });
  });

  it('federates the API identity with the cluster\'s OIDC issuer: it reads the registry container and writes the lake one (predictions, reports)', () => {
    const credentials = ofType('Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials');
    const api = credentials.find((credential) => credential.name.includes('aks-service-account'))!;
    expect(api.properties).toEqual({
      issuer: "[reference(resourceId('Microsoft.ContainerService/managedClusters', format('aks-{0}-{1}', parameters('namePrefix'), parameters('environment'))), '2024-02-01').oidcIssuerProfile.issuerURL]",
      subject: "[format('system:serviceaccount:{0}:{1}', parameters('apiNamespace'), parameters('apiServiceAccountName'))]",
      audiences: [TOKEN_EXCHANGE_AUDIENCE],
    });
    const apiPrincipal = "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', format('id-{0}-api-{1}', parameters('namePrefix'), parameters('environment'))), '2023-01-31').principalId]";
    const apiRoles = ofType('Microsoft.Authorization/roleAssignments').filter((assignment) => assignment.properties?.principalId === apiPrincipal);
    const container = (name: string): string =>
      `[format('Microsoft.Storage/storageAccounts/{0}/blobServices/default/containers/{1}', format('st{0}{1}', parameters('namePrefix'), parameters('environment')), '${name}')]`;
    const role = (id: string): string => `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${id}')]`;
    expect(apiRoles.map((assignment) => [assignment.scope, assignment.properties?.roleDefinitionId])).toEqual([
      [container('registry'), role(BUILT_IN_ROLES.storageBlobDataReader)],
      [container('lake'), role(BUILT_IN_ROLES.storageBlobDataContributor)],
    ]);
    for (const assignment of ofType('Microsoft.Authorization/roleAssignments')) expect(assignment.properties?.principalType).toBe('ServicePrincipal');
  });

  it('collects every container\'s output into ContainerLogV2 through Container Insights\' data collection rule on the cluster', () => {
    const rule = one('Microsoft.Insights/dataCollectionRules');
    expect(rule.properties?.dataSources.extensions[0]).toMatchObject({ extensionName: 'ContainerInsights', extensionSettings: { dataCollectionSettings: { enableContainerLogV2: true } } });
    expect(rule.properties?.dataFlows[0].streams).toContain('Microsoft-ContainerLogV2');
    expect(rule.properties?.destinations.logAnalytics[0].workspaceResourceId).toContain('Microsoft.OperationalInsights/workspaces');
    const association = one('Microsoft.Insights/dataCollectionRuleAssociations');
    expect(association.scope).toContain('Microsoft.ContainerService/managedClusters/');
    expect(association.properties?.dataCollectionRuleId).toContain('Microsoft.Insights/dataCollectionRules');
  });

  it('watches the API and the model: Log Analytics, three scheduled query alerts, a $500 monthly budget by default', () => {
    expect(one('Microsoft.OperationalInsights/workspaces').properties).toMatchObject({ retentionInDays: "[parameters('logRetentionDays')]" });
    const alerts = ofType('Microsoft.Insights/scheduledQueryRules');
    expect(alerts.map((alert) => alert.properties?.criteria.allOf[0].metricMeasureColumn)).toEqual(['p95', 'percent', 'maxPsi']);
    // every alert reads one event of the telemetry contract, from the container that logs it, and only fields that event carries
    // (the server logs http.window: tests/server/request-window.test.ts; the monitor drift.report: tests/bin/monitor.test.ts)
    const events: string[] = [];
    for (const alert of alerts) {
      const query = String(alert.properties?.criteria.allOf[0].query).replace(/''/g, "'");
      const event = eventNamed(/tostring\(entry\.event\) == '([^']+)'/.exec(query)?.[1] ?? '');
      expect(event, `${alert.name} reads an event of the telemetry contract`).toBeDefined();
      events.push(event!.name);
      expect(query).toContain(`ContainerName == '${event!.source}'`);
      expect(query).toContain(`tostring(entry.${ENVIRONMENT_FIELD}) == '{1}'`);
      const fields = [...query.matchAll(/entry\.(\w+)/g)].map((match) => match[1]).filter((field) => field !== 'event' && field !== ENVIRONMENT_FIELD);
      expect(fields.length).toBeGreaterThan(0);
      for (const field of fields) expect(event!.numericFields as readonly string[], `${alert.name} reads ${field} of ${event!.name}`).toContain(field);
    }
    expect(events).toEqual([TELEMETRY_EVENTS.httpWindow.name, TELEMETRY_EVENTS.httpWindow.name, TELEMETRY_EVENTS.driftReport.name]);
    for (const alert of alerts) expect(alert.properties?.actions.actionGroups).toHaveLength(1);
    const budget = one('Microsoft.Consumption/budgets');
    expect(template.parameters.monthlyBudget.defaultValue).toBe(500);
    expect(budget.properties).toMatchObject({ category: 'Cost', timeGrain: 'Monthly', amount: "[parameters('monthlyBudget')]" });
  });
});

/** The text of a parsed node, for comparing resource ids. */
function textOf(node: ReturnType<typeof parseExpression>): string {
  if (node.kind === 'string') return `'${node.value.replace(/'/g, "''")}'`;
  if (node.kind === 'number') return String(node.value);
  if (node.kind === 'property') return /^[A-Za-z_]\w*$/.test(node.name) ? `${textOf(node.target)}.${node.name}` : `${textOf(node.target)}['${node.name}']`;
  if (node.kind === 'index') return `${textOf(node.target)}[${textOf(node.key)}]`;
  return `${node.name}(${node.args.map(textOf).join(', ')})`;
}
