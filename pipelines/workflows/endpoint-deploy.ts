/**
 * Environments served by a managed endpoint instead of a cluster, from the `deploy` section of
 * `.retail-mlops.json` (absent: every environment runs on Kubernetes through Argo CD):
 *
 * ```json
 * "deploy": {
 *   "production": { "target": "sagemaker", "region": "eu-west-1", "endpointName": "retail-mlops-production",
 *                   "imageRepository": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/retail-mlops-production/api" },
 *   "staging":    { "target": "azureml", "subscriptionId": "…", "resourceGroup": "rg-retail-mlops-staging",
 *                   "workspace": "mlw-retailmlops-staging", "endpointName": "rm-retailmlops-staging",
 *                   "imageRepository": "crretailmlopsstaging.azurecr.io/retail-mlops" }
 * }
 * ```
 *
 * The values are the stack's outputs (`EndpointName`, `ApiRepositoryUri`) or the template's
 * (`onlineEndpointName`, `containerRegistryLoginServer`). `promote` rolls such an environment's
 * endpoint over after pushing the pin (the pipeline's approval gates production).
 */
import type { EndpointRelease, EndpointRolloutResult } from '../../core/deployment/endpoint-rollout';
import { ProblemCollector } from '../../core/errors';
// both load their cloud SDK on first use, not here
import { rolloutSageMakerEndpoint } from '../../providers/aws/endpoint-rollout';
import { rolloutAzureMlEndpoint } from '../../providers/azure/endpoint-rollout';

export type EndpointTarget =
  | {
    readonly target: 'sagemaker';
    readonly region: string;
    readonly endpointName: string;
    readonly imageRepository: string;
    /** An emulator's URL. @default the region's SageMaker endpoint */
    readonly endpointUrl?: string;
    /** Share of capacity the canary takes. @default 10 */
    readonly canaryPercent?: number;
    /** @default 300 */
    readonly canaryWaitSeconds?: number;
  }
  | {
    readonly target: 'azureml';
    readonly subscriptionId: string;
    readonly resourceGroup: string;
    readonly workspace: string;
    readonly endpointName: string;
    readonly imageRepository: string;
    /** @default 10 */
    readonly canaryPercent?: number;
    /** @default 300 */
    readonly canaryWaitSeconds?: number;
  };

const FIELDS = {
  sagemaker: { required: ['region', 'endpointName', 'imageRepository'], optional: ['endpointUrl', 'canaryPercent', 'canaryWaitSeconds'] },
  azureml: { required: ['subscriptionId', 'resourceGroup', 'workspace', 'endpointName', 'imageRepository'], optional: ['canaryPercent', 'canaryWaitSeconds'] },
} as const;

/**
 * The endpoint an environment deploys to, or undefined when it runs on Kubernetes.
 * @throws InvalidOptionsError listing every problem of the environment's `deploy` entry
 */
export function endpointTargetOf(deploy: unknown, environment: string): EndpointTarget | undefined {
  if (deploy === undefined) return undefined;
  const problems = new ProblemCollector(`.retail-mlops.json deploy.${environment}`);
  if (typeof deploy !== 'object' || deploy === null || Array.isArray(deploy)) {
    problems.check(false, 'deploy must be an object keyed by environment');
    problems.throwIfAny();
  }
  const entry = (deploy as Record<string, unknown>)[environment];
  if (entry === undefined) return undefined;
  if (typeof entry !== 'object' || entry === null) {
    problems.check(false, 'must be an object with "target"');
    problems.throwIfAny();
  }
  const fields = entry as Record<string, unknown>;
  if (fields.target === 'kubernetes') return undefined;
  problems.check(fields.target === 'sagemaker' || fields.target === 'azureml', `target must be kubernetes, sagemaker or azureml, got ${JSON.stringify(fields.target)}`);
  problems.throwIfAny();
  const shape = FIELDS[fields.target as 'sagemaker' | 'azureml'];
  for (const name of shape.required) problems.check(typeof fields[name] === 'string' && (fields[name] as string).length > 0, `${name} is required (a non-empty string)`);
  for (const name of Object.keys(fields)) {
    problems.check(name === 'target' || (shape.required as readonly string[]).includes(name) || (shape.optional as readonly string[]).includes(name), `unknown field "${name}"`);
  }
  for (const name of ['canaryPercent', 'canaryWaitSeconds'] as const) {
    const value = fields[name];
    problems.check(value === undefined || (Number.isInteger(value) && (value as number) >= 0 && (name !== 'canaryPercent' || ((value as number) >= 1 && (value as number) <= 99))), `${name} must be a whole number (canaryPercent 1–99), got ${JSON.stringify(value)}`);
  }
  problems.throwIfAny();
  return fields as unknown as EndpointTarget;
}

export type EndpointRollout = EndpointRolloutResult;

/** Rolls the endpoint over to the image and model version (the cloud SDKs load only when called). */
export async function rolloutEndpoint(target: EndpointTarget, release: { readonly imageDigest: string; readonly modelVersion: string }): Promise<EndpointRollout> {
  const common: EndpointRelease = {
    endpointName: target.endpointName,
    imageRepository: target.imageRepository,
    canaryPercent: target.canaryPercent,
    canaryWaitSeconds: target.canaryWaitSeconds,
    ...release,
  };
  if (target.target === 'sagemaker') return rolloutSageMakerEndpoint({ ...common, region: target.region, ...(target.endpointUrl ? { endpoint: target.endpointUrl } : {}) });
  return rolloutAzureMlEndpoint({ ...common, subscriptionId: target.subscriptionId, resourceGroup: target.resourceGroup, workspace: target.workspace });
}
