/**
 * This repository's deployments: the clouds it renders and, per environment, the values only the
 * team that adopts the template knows (host names, image, IAM role, managed identity, certificate,
 * the environment's model registry on that cloud). The pinned model version is not here: it comes
 * from `manifests/pins.json`, which the promotion tool rewrites.
 *
 * The values below are placeholders (example.com, AWS's documentation account, zero GUIDs):
 * replace them, then run `npm run synth:manifests` and commit `manifests/dist/`.
 */
import type { AksApiChartProps } from './aks-api-chart';
import type { ArgoCdApplicationChartProps } from './argo-cd-application-chart';
import type { EksApiChartProps } from './eks-api-chart';
import type { Cloud, Environment } from './environments';
import type { EnvironmentPin } from './model-pins';

/** What `renderManifests` needs besides the pins: which clouds, and each chart's props. */
export interface DeploymentTargets {
  /** The clouds rendered into `manifests/dist/<cloud>/` (a team usually keeps one). */
  readonly clouds: readonly Cloud[];
  /** The EKS chart's props for an environment, given its pin (the chart's registry is the environment's on AWS). */
  readonly eks: (environment: Environment, pin: EnvironmentPin) => EksApiChartProps;
  /** The AKS chart's props for an environment, given its pin (the chart's registry is the environment's on Azure). */
  readonly aks: (environment: Environment, pin: EnvironmentPin) => AksApiChartProps;
  /** The Argo CD Application's props for a cloud and environment. */
  readonly argoCd: (cloud: Cloud, environment: Environment) => ArgoCdApplicationChartProps;
}

const gitRepositoryUrl = 'https://github.com/example-org/retail-mlops.git';
const imageRepository = 'example-org/retail-mlops-api';
/** The released image every environment runs (bumped by the release, promoted like the model). */
const imageTag = '0.1.0';

const hosts: { readonly [E in Environment]: string } = {
  dev: 'predict.dev.retail.example.com',
  staging: 'predict.staging.retail.example.com',
  production: 'predict.retail.example.com',
};

/**
 * The client id of each environment's API identity: the output `apiWorkloadIdentityClientId` of
 * `az deployment group create --template-file providers/azure/infra/dist/azuredeploy.json --parameters environment=<env>`.
 * That identity trusts exactly the ServiceAccount this chart renders (namespace `retail-mlops-<env>`,
 * name `retail-mlops-api`: the template's `apiNamespace` and `apiServiceAccountName` defaults).
 */
const managedIdentityClientIds: { readonly [E in Environment]: string } = {
  dev: '00000000-0000-0000-0000-000000000001',
  staging: '00000000-0000-0000-0000-000000000002',
  production: '00000000-0000-0000-0000-000000000003',
};

/**
 * Each environment's model registry per cloud: the aws stack's `DataBucket` output + `/registry` (the
 * environment's `registry` in `.retail-mlops.json`), and the Azure template's `registryLocation` output.
 */
const registries: { readonly [C in Cloud]: { readonly [E in Environment]: string } } = {
  eks: {
    dev: 's3://example-retail-mlops-dev/registry',
    staging: 's3://example-retail-mlops-staging/registry',
    production: 's3://example-retail-mlops-production/registry',
  },
  aks: {
    dev: 'https://stretailmlopsdev.blob.core.windows.net/registry',
    staging: 'https://stretailmlopsstaging.blob.core.windows.net/registry',
    production: 'https://stretailmlopsproduction.blob.core.windows.net/registry',
  },
};

export const repositoryDeploymentTargets: DeploymentTargets = {
  clouds: ['eks', 'aks'],
  eks: (environment, pin) => ({
    environment,
    modelPin: { registry: registries.eks[environment], model: pin.model },
    imageRepository,
    imageTag,
    host: hosts[environment],
    iamRoleArn: `arn:aws:iam::111122223333:role/retail-mlops-api-${environment}`,
  }),
  aks: (environment, pin) => ({
    environment,
    modelPin: { registry: registries.aks[environment], model: pin.model },
    imageRepository,
    imageTag,
    host: hosts[environment],
    workloadIdentityClientId: managedIdentityClientIds[environment],
    // the Key Vault the Azure template creates for the environment (`kv<namePrefix><environment>`), whose
    // certificates the application routing add-on may read
    keyVaultCertificateUri: `https://kvretailmlops${environment}.vault.azure.net/certificates/predict-${environment}`,
    // Workload identity exchanges its token at login.microsoftonline.com: list Microsoft Entra ID's
    // ranges (service tag AzureActiveDirectory) here, or route egress through a proxy and list that.
    additionalHttpsEgressCidrs: [],
  }),
  argoCd: (cloud, environment) => ({ cloud, environment, gitRepositoryUrl }),
};
