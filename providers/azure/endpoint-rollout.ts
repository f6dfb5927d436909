/**
 * Rolls an Azure ML managed online endpoint (the template's, deployTarget azureml) over to a new model
 * version and image by traffic split: the image becomes an environment version (with the container's
 * Azure ML routes copied from the serving one), a second deployment (the other colour of blue/green,
 * same size and settings) is created and must provision, then takes `canaryPercent` of the traffic,
 * then all of it after `canaryWaitSeconds`; the old deployment is deleted last. Until the new one
 * takes traffic nothing serving changes, and a failed provisioning leaves the old one at 100%.
 *
 * Nothing changes when the serving deployment already runs that image and version (idempotent).
 */
import type { ManagedOnlineDeployment, OnlineEndpoint, EnvironmentVersion } from '@azure/arm-machinelearning' with { 'resolution-mode': 'import' };
import type { TokenCredential } from '@azure/identity' with { 'resolution-mode': 'import' };
import { createDefaultCredential } from './credential';
import { createManagementClient } from './management-client';
import { checkImageDigest, EndpointRolloutError, type EndpointRelease, type EndpointRolloutResult } from '../../core/deployment/endpoint-rollout';

/** The release (the canary is a share of the requests) and where the workspace is. */
export interface AzureMlRolloutOptions extends EndpointRelease {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  /** @default DefaultAzureCredential */
  readonly credential?: TokenCredential;
  /** Resource Manager's URL (tests: a loopback stand-in). @default https://management.azure.com */
  readonly managementEndpoint?: string;
  /** PEM certificates trusted besides the system's (a stand-in's self-signed one). */
  readonly trustedCertificates?: string;
  /** Waits between the traffic steps. @default setTimeout */
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

const MODEL_VARIABLE = 'RETAIL_MLOPS_MODEL';
const ENVIRONMENT_NAME = 'retail-mlops-api';

/** The rollout's `model` is the deployment serving afterwards (`blue` or `green`), `previousModel` the one it replaced. */
export async function rolloutAzureMlEndpoint(options: AzureMlRolloutOptions): Promise<EndpointRolloutResult> {
  checkImageDigest(options.imageDigest);
  const { client } = await createManagementClient({
    subscriptionId: options.subscriptionId,
    credential: options.credential ?? (await createDefaultCredential()),
    endpoint: options.managementEndpoint,
    trustedCertificates: options.trustedCertificates,
  });
  const sleep = options.sleep ?? ((milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds)));
  const { resourceGroup, workspace, endpointName } = options;
  const call = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw new EndpointRolloutError(`Azure ML ${what} failed: ${(error as Error).message}`, { cause: error });
    }
  };

  const endpoint = await call(`get endpoint ${endpointName}`, () => client.onlineEndpoints.get(resourceGroup, workspace, endpointName));
  const traffic = endpoint.properties.traffic ?? {};
  const serving = Object.entries(traffic).sort(([, a], [, b]) => b - a)[0]?.[0];
  if (!serving) throw new EndpointRolloutError(`endpoint ${endpointName} sends no traffic to any deployment`);
  const current = await call(`get deployment ${serving}`, () => client.onlineDeployments.get(resourceGroup, workspace, endpointName, serving));
  const properties = current.properties as ManagedOnlineDeployment;
  const image = `${options.imageRepository}@${options.imageDigest}`;
  const version = options.imageDigest.slice('sha256:'.length, 'sha256:'.length + 12);
  const environmentId = properties.environmentId ?? '';
  if (environmentId.endsWith(`/environments/${ENVIRONMENT_NAME}/versions/${version}`) && properties.environmentVariables?.[MODEL_VARIABLE] === options.modelVersion) {
    return { endpointName, changed: false, model: serving, strategy: 'already serving' };
  }

  // the new image as an environment version, with the serving one's routes
  const currentEnvironment = /\/environments\/([^/]+)\/versions\/([^/]+)$/.exec(environmentId);
  const routes = currentEnvironment
    ? (await call(`get environment ${currentEnvironment[1]}:${currentEnvironment[2]}`, () => client.environmentVersions.get(resourceGroup, workspace, currentEnvironment[1], currentEnvironment[2]))).properties.inferenceConfig
    : undefined;
  const environmentBody: EnvironmentVersion = {
    properties: { image, osType: 'Linux', description: `retail-mlops API ${options.modelVersion}`, ...(routes ? { inferenceConfig: routes } : {}) },
  };
  const created = await call(`create environment ${ENVIRONMENT_NAME}:${version}`, () => client.environmentVersions.createOrUpdate(resourceGroup, workspace, ENVIRONMENT_NAME, version, environmentBody));

  // the other colour, the same size and settings, the new environment and model version
  const next = serving === 'blue' ? 'green' : 'blue';
  const deploymentBody = {
    location: current.location,
    kind: current.kind,
    sku: current.sku,
    tags: { ...current.tags, 'retail-mlops:model': options.modelVersion },
    properties: {
      ...properties,
      provisioningState: undefined,
      environmentId: created.id ?? `${environmentId.replace(/\/environments\/.*$/, '')}/environments/${ENVIRONMENT_NAME}/versions/${version}`,
      environmentVariables: { ...properties.environmentVariables, [MODEL_VARIABLE]: options.modelVersion },
    },
  };
  await call(`create deployment ${next}`, () => client.onlineDeployments.beginCreateOrUpdateAndWait(resourceGroup, workspace, endpointName, next, deploymentBody as never));

  const canaryPercent = options.canaryPercent ?? 10;
  const withTraffic = (split: Record<string, number>): OnlineEndpoint => ({ ...endpoint, properties: { ...endpoint.properties, provisioningState: undefined, traffic: split } as OnlineEndpoint['properties'] });
  await call('canary traffic', () => client.onlineEndpoints.beginCreateOrUpdateAndWait(resourceGroup, workspace, endpointName, withTraffic({ [serving]: 100 - canaryPercent, [next]: canaryPercent })));
  await sleep((options.canaryWaitSeconds ?? 300) * 1000);
  await call('full traffic', () => client.onlineEndpoints.beginCreateOrUpdateAndWait(resourceGroup, workspace, endpointName, withTraffic({ [next]: 100 })));
  await call(`delete deployment ${serving}`, () => client.onlineDeployments.beginDeleteAndWait(resourceGroup, workspace, endpointName, serving));
  return {
    endpointName,
    changed: true,
    model: next,
    previousModel: serving,
    configuration: `${ENVIRONMENT_NAME}:${version}`,
    strategy: `traffic split: ${canaryPercent}% to ${next} for ${options.canaryWaitSeconds ?? 300} s, then 100%; ${serving} deleted`,
  };
}
