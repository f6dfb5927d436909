/**
 * What rolling a managed model endpoint over to a release means, whatever the cloud: the release (an
 * image digest and a model version), how the traffic moves (a canary share first), and what happened.
 * providers/aws/endpoint-rollout.ts (SageMaker blue/green) and providers/azure/endpoint-rollout.ts
 * (Azure ML traffic split) implement it; `retail-mlops promote` calls them.
 */
import { RetailMlopsError } from '../errors';

/** The endpoint could not be rolled over (missing endpoint, an update still running, a refused request). */
export class EndpointRolloutError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ENDPOINT_ROLLOUT_FAILED', message, options);
  }
}

/** The release an endpoint rolls over to, and how. */
export interface EndpointRelease {
  readonly endpointName: string;
  /** The image repository (ECR or ACR); the digest is appended. */
  readonly imageRepository: string;
  /** `sha256:` and 64 hex digits. */
  readonly imageDigest: string;
  /** The model version the container serves (RETAIL_MLOPS_MODEL). */
  readonly modelVersion: string;
  /** Share (%) of capacity or requests the new release takes first. @default 10 */
  readonly canaryPercent?: number;
  /** How long the canary runs before the rest follows. @default 300 */
  readonly canaryWaitSeconds?: number;
}

export interface EndpointRolloutResult {
  readonly endpointName: string;
  /** False when the endpoint already served this image and model version (nothing was changed). */
  readonly changed: boolean;
  /** What serves now (a SageMaker model, an Azure ML deployment) and what it replaced. */
  readonly model?: string;
  readonly previousModel?: string;
  /** The new configuration (SageMaker endpoint config, Azure ML environment version). */
  readonly configuration?: string;
  /** How the traffic moves, in words. */
  readonly strategy: string;
}

/** Checks a release's digest. @throws EndpointRolloutError */
export function checkImageDigest(imageDigest: string): void {
  if (!/^sha256:[a-f0-9]{64}$/.test(imageDigest)) throw new EndpointRolloutError(`the image digest must be sha256: and 64 hex digits, got ${JSON.stringify(imageDigest)}`);
}
