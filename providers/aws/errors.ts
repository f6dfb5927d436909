/**
 * Failures of the aws provider, each a RetailMlopsError with a stable code. The SDK's own error is
 * kept as `cause`; each message is one line that names the operation and the resource, the
 * service's error, and what it means (denied, missing, throttled or failing after the SDK's
 * retries). The SDK retries throttling and 5xx answers itself, with backoff (`maxAttempts`).
 */
import { errorNameOf, httpStatusOf } from './connection';
import { RetailMlopsError } from '../../core/errors';

/** The error names AWS services use for throttling (the SDK retries them). */
const THROTTLING_ERRORS = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
  'SlowDown', 'ProvisionedThroughputExceededException', 'RequestThrottled', 'BandwidthLimitExceeded', 'LimitExceededException', 'PriorRequestNotComplete',
]);

/** How many attempts the SDK made, when it says. */
function attemptsOf(error: unknown): number | undefined {
  return (error as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
}

/** True for throttling, a 5xx answer or no answer at all: worth trying again later. */
export function isTransientAwsFailure(error: unknown): boolean {
  const cause = RetailMlopsError.isInstance(error) ? (error as { cause?: unknown }).cause : error;
  const status = httpStatusOf(cause);
  return THROTTLING_ERRORS.has(errorNameOf(cause) ?? '') || status === 429 || (status !== undefined && status >= 500) || (status === undefined && !RetailMlopsError.isInstance(cause));
}

/** `<Name>: <message> (<what it means>)`, on one line. */
function describe(cause: unknown): string {
  const name = errorNameOf(cause) ?? 'error';
  const message = String((cause as Error)?.message ?? cause).split('\n')[0];
  const status = httpStatusOf(cause);
  const attempts = attemptsOf(cause);
  const afterRetries = attempts !== undefined && attempts > 1 ? `, after ${attempts} attempts` : '';
  let meaning = '';
  if (status === 401 || status === 403 || /AccessDenied|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch/.test(name)) {
    meaning = ' (denied: check the credentials in use and their IAM permissions on this resource)';
  } else if (status === 404 || /NotFound|NoSuch/.test(name)) {
    meaning = ' (not found: check its name, region and account)';
  } else if (THROTTLING_ERRORS.has(name) || status === 429) {
    meaning = ` (throttled${afterRetries})`;
  } else if (status !== undefined && status >= 500) {
    meaning = ` (the service failed${afterRetries})`;
  } else if (status === undefined) {
    meaning = ' (no answer: check the endpoint and the network)';
  }
  return `${name}: ${message}${meaning}`;
}

/** An S3 request failed for a reason other than a missing object. */
export class S3RequestError extends RetailMlopsError {
  constructor(readonly operation: string, readonly location: string, options: { readonly cause: unknown }) {
    super('S3_REQUEST_FAILED', `${operation} on ${location} failed: ${describe(options.cause)}`, options);
  }
}

/** A SageMaker API call failed. */
export class SageMakerRequestError extends RetailMlopsError {
  constructor(readonly operation: string, readonly resource: string, options: { readonly cause: unknown }) {
    super('SAGEMAKER_REQUEST_FAILED', `SageMaker ${operation} (${resource}) failed: ${describe(options.cause)}`, options);
  }
}

/** A Glue Data Catalog API call failed. */
export class GlueRequestError extends RetailMlopsError {
  constructor(readonly operation: string, readonly resource: string, options: { readonly cause: unknown }) {
    super('GLUE_REQUEST_FAILED', `Glue ${operation} (${resource}) failed: ${describe(options.cause)}`, options);
  }
}

/** A SageMaker training job ended Failed, or Stopped without being asked to. */
export class TrainingJobFailedError extends RetailMlopsError {
  constructor(readonly trainingJobName: string, readonly status: string, readonly failureReason: string | undefined) {
    super('TRAINING_JOB_FAILED', `SageMaker training job ${trainingJobName} ended ${status}${failureReason ? `: ${failureReason.split('\n').join(' ')}` : ''}`);
  }
}
