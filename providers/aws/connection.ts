/**
 * How the aws provider reaches AWS: region, optional endpoint (an emulator or a VPC endpoint),
 * credentials. Every client of the provider (S3, SageMaker, Glue) takes these same options.
 *
 * Credentials come from the SDK's default chain unless given: environment, web identity (EKS IRSA
 * or a CI system's OIDC token), EKS Pod Identity, SSO, the instance role. Static keys exist for
 * emulators and tests only; pipelines assume roles through OIDC (see providers/aws/README.md).
 *
 * The SDK modules themselves are loaded lazily here, inside functions: creating the local
 * provider, or importing the provider registry, never loads them.
 */
import type { ProblemCollector } from '../../core/errors';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** @default - none */
  readonly sessionToken?: string;
}

export interface AwsConnectionOptions {
  /** The AWS region, e.g. `eu-west-1`. */
  readonly region: string;
  /**
   * An endpoint URL to send requests to instead of the region's public endpoint (an emulator on
   * loopback, or an interface VPC endpoint's DNS name).
   * @default - the service's endpoint in `region`
   */
  readonly endpoint?: string;
  /**
   * Fixed credentials (emulators, tests).
   * @default - the SDK's default credential chain (environment, web identity / IRSA, Pod Identity, SSO, instance role)
   */
  readonly credentials?: AwsCredentials;
  /**
   * Attempts per request, first one included (the SDK retries throttling and transient errors).
   * @default 3
   */
  readonly maxAttempts?: number;
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** Adds the problems of connection options to `problems` (callers report all problems at once). */
export function checkConnectionOptions(options: AwsConnectionOptions, problems: ProblemCollector): void {
  problems.check(typeof options?.region === 'string' && REGION_PATTERN.test(options.region), `region must be an AWS region such as eu-west-1, got ${JSON.stringify(options?.region)}`);
  if (options?.endpoint !== undefined) {
    let valid = false;
    try {
      valid = ['http:', 'https:'].includes(new URL(options.endpoint).protocol);
    } catch {
      valid = false;
    }
    problems.check(valid, `endpoint must be an http(s) URL, got ${JSON.stringify(options.endpoint)}`);
  }
  if (options?.credentials !== undefined) {
    problems.check(
      typeof options.credentials.accessKeyId === 'string' && options.credentials.accessKeyId.length > 0 &&
        typeof options.credentials.secretAccessKey === 'string' && options.credentials.secretAccessKey.length > 0,
      'credentials need a non-empty accessKeyId and secretAccessKey',
    );
  }
  problems.check(
    options?.maxAttempts === undefined || (Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1 && options.maxAttempts <= 20),
    `maxAttempts must be an integer from 1 to 20, got ${options?.maxAttempts}`,
  );
}

/** The configuration every SDK client of the provider shares. */
export function clientConfiguration(options: AwsConnectionOptions): {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentials;
  maxAttempts: number;
} {
  return {
    region: options.region,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: options.maxAttempts ?? 3,
  };
}

/** The lazily loaded SDK modules. */
export const loadS3 = (): Promise<typeof import('@aws-sdk/client-s3')> => import('@aws-sdk/client-s3');
export const loadMultipartUpload = (): Promise<typeof import('@aws-sdk/lib-storage')> => import('@aws-sdk/lib-storage');
export const loadSageMaker = (): Promise<typeof import('@aws-sdk/client-sagemaker')> => import('@aws-sdk/client-sagemaker');
export const loadGlue = (): Promise<typeof import('@aws-sdk/client-glue')> => import('@aws-sdk/client-glue');

/** The HTTP status of an SDK error, when it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** The service's error name (`NoSuchKey`, `ValidationException`, …), when it has one. */
export function errorNameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown; Code?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}
