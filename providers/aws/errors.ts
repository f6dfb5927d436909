/**
 * Failures of the aws provider, each a RetailMlopsError with a stable code. The SDK's own error is
 * kept as `cause`; messages name the operation and the resource.
 */
import { errorNameOf } from './connection';
import { RetailMlopsError } from '../../core/errors';

function describe(cause: unknown): string {
  return `${errorNameOf(cause) ?? 'error'}: ${(cause as Error)?.message ?? String(cause)}`;
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
    super('TRAINING_JOB_FAILED', `SageMaker training job ${trainingJobName} ended ${status}${failureReason ? `: ${failureReason}` : ''}`);
  }
}
