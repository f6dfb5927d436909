/**
 * Where the API runs on Azure, in the ARM template: `deployTarget=aks` bootstraps the cluster (Argo CD
 * from its pinned Helm chart and the environment's Application, by a deployment script running
 * `az aks command invoke`; Container Insights through a data collection rule), `deployTarget=azureml`
 * replaces the cluster with a managed online endpoint answering the container's Azure ML routes,
 * autoscaled between the parameters' bounds. The bootstrap script itself runs against a stand-in `az`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AKS_ARGO_CD_CHART } from '../../../providers/azure/infra/api-hosting';
import { renderAzureDeploymentTemplate } from '../../../providers/azure/infra/azure-deployment-template';
import { BUILT_IN_ROLES } from '../../../providers/azure/infra/built-in-roles';
import { HOSTING_CONTRACTS } from '../../../server/hosting/managed-hosting';
import { REPO_ROOT, temporaryDirectory } from '../../helpers/paths';

interface TemplateResource {
  type: string;
  name: string;
  condition?: string;
  scope?: string;
  kind?: string;
  sku?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  properties?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  dependsOn?: string[];
}
const template = JSON.parse(renderAzureDeploymentTemplate()) as {
  parameters: Record<string, { defaultValue?: unknown; allowedValues?: unknown[] }>;
  variables: Record<string, unknown>;
  resources: TemplateResource[];
  outputs: Record<string, { value: unknown }>;
};
const ofType = (type: string): TemplateResource[] => template.resources.filter((resource) => resource.type === type);
const ON_AKS = "[equals(parameters('deployTarget'), 'aks')]";
const ON_AZURE_ML = "[and(equals(parameters('deployTarget'), 'azureml'), not(empty(parameters('apiImageDigest'))))]";

describe('deployTarget', () => {
  it('is aks by default or azureml; the cluster and everything that references it exist only on aks', () => {
    expect(template.parameters.deployTarget).toMatchObject({ defaultValue: 'aks', allowedValues: ['aks', 'azureml'] });
    const [cluster] = ofType('Microsoft.ContainerService/managedClusters');
    expect(cluster.condition).toBe(ON_AKS);
    // every resource whose properties read the cluster's runtime state is conditioned the same way
    for (const resource of template.resources.filter((candidate) => JSON.stringify(candidate.properties ?? {}).includes("reference(resourceId('Microsoft.ContainerService/managedClusters'"))) {
      expect(resource.condition, `${resource.type} ${resource.name}`).toBe(ON_AKS);
    }
    expect(template.outputs.aksOidcIssuerUrl.value).toMatch(/^\[if\(equals\(parameters\('deployTarget'\), 'aks'\), reference\(/);
  });
});

describe('AKS bootstrap', () => {
  const [script] = ofType('Microsoft.Resources/deploymentScripts');

  it('installs the pinned Argo CD chart and applies the Application in the cluster (az aks command invoke)', () => {
    expect(script).toMatchObject({ kind: 'AzureCLI', condition: ON_AKS });
    const content = String(script.properties?.scriptContent);
    expect(content).toContain(`helm upgrade --install argo-cd argo/${AKS_ARGO_CD_CHART.chart} --version ${AKS_ARGO_CD_CHART.version} --namespace argocd --create-namespace --wait`);
    expect(content).toContain(`helm repo add argo ${AKS_ARGO_CD_CHART.repository}`);
    expect(content).toMatch(/az aks command invoke .*--file application\.json/);
    expect(script.properties?.environmentVariables).toContainEqual({ name: 'APPLICATION', value: "[variables('argoCdApplications')[parameters('environment')]]" });
  });

  it('applies, per environment, the Application manifests/dist/aks/argocd renders (one definition)', () => {
    const applications = template.variables.argoCdApplications as Record<string, string>;
    expect(Object.keys(applications)).toEqual(['dev', 'staging', 'production']);
    for (const [environment, json] of Object.entries(applications)) {
      const rendered = parse(readFileSync(path.join(REPO_ROOT, `manifests/dist/aks/argocd/retail-mlops-api-${environment}.k8s.yaml`), 'utf8')) as unknown;
      expect(JSON.parse(json)).toEqual(rendered);
    }
  });

  it('runs the script as an identity that may only invoke commands on this cluster', () => {
    const identityId = Object.keys((script.identity as { userAssignedIdentities: Record<string, unknown> }).userAssignedIdentities)[0];
    expect(identityId).toContain('id-{0}-bootstrap-{1}');
    const grants = ofType('Microsoft.Authorization/roleAssignments').filter((assignment) => String(assignment.properties?.principalId).includes('id-{0}-bootstrap-{1}'));
    expect(grants.map((grant) => grant.properties?.roleDefinitionId)).toEqual([BUILT_IN_ROLES.aksClusterAdmin, BUILT_IN_ROLES.aksRbacClusterAdmin].map((role) => `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${role}')]`));
    for (const grant of grants) expect(grant.scope).toBe("[format('Microsoft.ContainerService/managedClusters/{0}', format('aks-{0}-{1}', parameters('namePrefix'), parameters('environment')))]");
  });

  it('collects Container Insights through a rule that keeps ContainerLogV2 (what the alerts query) and no performance counters', () => {
    const [rule] = ofType('Microsoft.Insights/dataCollectionRules');
    const streams = rule.properties?.dataSources.extensions[0].streams as string[];
    expect(streams).toContain('Microsoft-ContainerLogV2');
    expect(streams.some((stream) => /Perf|InsightsMetrics/.test(stream))).toBe(false);
    expect(rule.properties?.dataSources.extensions[0].extensionSettings.dataCollectionSettings.enableContainerLogV2).toBe(true);
    const [association] = ofType('Microsoft.Insights/dataCollectionRuleAssociations');
    expect(association).toMatchObject({ name: 'ContainerInsightsExtension', condition: ON_AKS });
    expect(association.scope).toContain('Microsoft.ContainerService/managedClusters');
  });

  describe('the script, against a stand-in az', () => {
    const scratch = temporaryDirectory('aks-bootstrap-');
    afterAll(() => scratch.remove());
    const run = (exitCode: number): { status: number; invoked: string } => {
      const directory = path.join(scratch.path, `exit-${exitCode}`);
      mkdirSync(path.join(directory, 'bin'), { recursive: true });
      writeFileSync(path.join(directory, 'bin', 'az'), `#!/bin/sh\necho "$*" > "${directory}/az.args"\ncat application.json > "${directory}/sent.json"\necho '{"exitCode": ${exitCode}, "logs": "helm and kubectl output"}'\n`);
      chmodSync(path.join(directory, 'bin', 'az'), 0o755);
      const env = {
        PATH: `${directory}/bin:${process.env.PATH}`,
        RESOURCE_GROUP: 'rg-retail-mlops-dev',
        CLUSTER_NAME: 'aks-retailmlops-dev',
        APPLICATION: (template.variables.argoCdApplications as Record<string, string>).dev,
        AZ_SCRIPTS_OUTPUT_PATH: path.join(directory, 'outputs.json'),
      };
      let status = 0;
      try {
        execFileSync('bash', ['-c', String(script.properties?.scriptContent)], { cwd: directory, env, stdio: 'pipe' });
      } catch (error) {
        status = (error as { status: number }).status;
      }
      expect(JSON.parse(readFileSync(path.join(directory, 'sent.json'), 'utf8'))).toMatchObject({ kind: 'Application' });
      return { status, invoked: readFileSync(path.join(directory, 'az.args'), 'utf8') };
    };

    it('succeeds when the in-cluster command does, and fails the deployment when it does not', () => {
      const ok = run(0);
      expect(ok.status).toBe(0);
      expect(ok.invoked).toMatch(/^aks command invoke --resource-group rg-retail-mlops-dev --name aks-retailmlops-dev --file application\.json --command helm repo add/);
      expect(run(1).status).not.toBe(0);
    });
  });
});

describe('Azure ML managed online endpoint (deployTarget azureml)', () => {
  it('declares the image with the container\'s Azure ML routes, an endpoint and its first deployment, once a digest is given', () => {
    const [environment] = ofType('Microsoft.MachineLearningServices/workspaces/environments/versions');
    const contract = HOSTING_CONTRACTS.azureml;
    expect(environment.condition).toBe(ON_AZURE_ML);
    expect(environment.properties?.inferenceConfig).toEqual({
      livenessRoute: { path: contract.livenessPath, port: contract.port },
      readinessRoute: { path: contract.readinessPath, port: contract.port },
      scoringRoute: { path: contract.scoringPath, port: contract.port },
    });
    expect(environment.properties?.image).toContain("parameters('apiImageDigest')");
    const [endpoint] = ofType('Microsoft.MachineLearningServices/workspaces/onlineEndpoints');
    expect(endpoint).toMatchObject({ kind: 'Managed', condition: ON_AZURE_ML, identity: { type: 'SystemAssigned' } });
    expect(endpoint.properties).toMatchObject({ authMode: 'Key', traffic: { blue: 100 } });
    const [deployment] = ofType('Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments');
    expect(deployment.sku).toEqual({ name: 'Default', capacity: "[parameters('endpointMinInstances')]" });
    expect(deployment.properties).toMatchObject({
      endpointComputeType: 'Managed',
      instanceType: "[parameters('endpointInstanceType')]",
      environmentVariables: { RETAIL_MLOPS_HOSTING: 'azureml', RETAIL_MLOPS_MODEL: "[parameters('modelVersion')]" },
    });
  });

  it('scales the deployment on CPU between endpointMinInstances and endpointMaxInstances', () => {
    const [autoscale] = ofType('Microsoft.Insights/autoscalesettings');
    expect(autoscale.condition).toBe(ON_AZURE_ML);
    const profile = autoscale.properties?.profiles[0];
    const bound = (name: string): string => `[string(parameters('${name}'))]`;
    expect(profile.capacity).toEqual({ minimum: bound('endpointMinInstances'), maximum: bound('endpointMaxInstances'), default: bound('endpointMinInstances') });
    expect(profile.rules.map((rule: { scaleAction: { direction: string } }) => rule.scaleAction.direction)).toEqual(['Increase', 'Decrease']);
    expect(String(autoscale.properties?.targetResourceUri)).toContain('onlineEndpoints/deployments');
  });

  it('lets the endpoint read the registry container and pull the image, nothing else', () => {
    const grants = ofType('Microsoft.Authorization/roleAssignments').filter((assignment) => assignment.condition === ON_AZURE_ML);
    const roles = grants.map((grant) => String(grant.properties?.roleDefinitionId).match(/'([0-9a-f-]{36})'/)?.[1]);
    expect(roles.sort()).toEqual([BUILT_IN_ROLES.acrPull, BUILT_IN_ROLES.storageBlobDataReader].sort());
  });
});

describe('cost guards', () => {
  it('notifies at 80% and 100% of the budget (actual) and 100% forecast', () => {
    const [budget] = ofType('Microsoft.Consumption/budgets');
    const notifications = Object.values(budget.properties?.notifications as Record<string, { threshold: number; thresholdType: string }>);
    expect(notifications.map((notification) => `${notification.thresholdType} ${notification.threshold}`)).toEqual(['Actual 80', 'Actual 100', 'Forecasted 100']);
  });

  it('locks production\'s lake account against deletion (and so its resource group)', () => {
    const [lock] = ofType('Microsoft.Authorization/locks');
    expect(lock).toMatchObject({ condition: "[equals(parameters('environment'), 'production')]", properties: { level: 'CanNotDelete' } });
    expect(lock.scope).toContain('Microsoft.Storage/storageAccounts');
  });
});
