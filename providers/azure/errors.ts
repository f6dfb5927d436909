/**
 * Failures of the Azure provider, each with a stable `code`. Failures the ports define (a missing
 * object, an unknown model version, …) are raised with the core's own error classes instead.
 */
import { RetailMlopsError } from '../../core/errors';

/** A call to an Azure service failed for a reason the port has no error for (authorization, throttling, outage, …). */
export class AzureRequestError extends RetailMlopsError {
  constructor(
    /** What was being done, e.g. `upload blob 'gold/part-0.parquet'`. */
    readonly operation: string,
    /** The HTTP status, when there was a response. */
    readonly statusCode: number | undefined,
    /** The service's own error code (`AuthorizationFailure`, `ResourceNotFound`, …), when it gave one. */
    readonly serviceCode: string | undefined,
    options?: { readonly cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message.split('\n')[0]}` : '';
    super('AZURE_REQUEST_FAILED', `${operation} failed (${statusCode ?? 'no response'}${serviceCode ? ` ${serviceCode}` : ''})${cause}${meaningOf(statusCode)}`, options);
  }
}

/** What a status means for the caller (the SDK has already retried throttling and 5xx answers, with backoff). */
function meaningOf(statusCode: number | undefined): string {
  if (statusCode === 401 || statusCode === 403) return ' (denied: check the identity in use and its role assignments on this resource)';
  if (statusCode === 404) return ' (not found: check its name, resource group and workspace)';
  if (statusCode === 429) return ' (throttled, after the SDK\'s retries)';
  if (statusCode !== undefined && statusCode >= 500) return ' (the service failed, after the SDK\'s retries)';
  if (statusCode === undefined) return ' (no answer: check the endpoint and the network)';
  return '';
}

/** True for throttling (429), a 5xx answer or no answer at all: worth trying again later. */
export function isTransientAzureFailure(error: unknown): boolean {
  if (RetailMlopsError.isInstance(error) && !(error instanceof AzureRequestError)) return false;
  const cause = error instanceof AzureRequestError ? (error as { cause?: unknown }).cause : error;
  const { statusCode } = describeAzureFailure(cause);
  // no status: a RestError without a response is a connection failure; anything else is a bug, not weather
  if (statusCode === undefined) return (cause as { name?: unknown } | undefined)?.name === 'RestError';
  return statusCode === 429 || statusCode >= 500;
}

/** An Azure ML job ended without completing (Failed, Canceled, NotResponding …). */
export class AzureMlJobError extends RetailMlopsError {
  constructor(
    readonly jobName: string,
    readonly status: string,
    detail: string,
  ) {
    super('AZUREML_JOB_FAILED', `Azure ML job '${jobName}' ended ${status}${detail ? `: ${detail}` : ''}`);
  }
}

/** The job's output folder lacks what `retail-mlops train-job` writes (model.onnx, trained-model.json). */
export class AzureMlJobOutputError extends RetailMlopsError {
  constructor(readonly jobName: string, message: string, options?: { readonly cause?: unknown }) {
    super('AZUREML_JOB_OUTPUT_INVALID', `Azure ML job '${jobName}': ${message}`, options);
  }
}

/** The HTTP status and the service's error code of an SDK error (a RestError), without importing the SDK. */
export function describeAzureFailure(error: unknown): { readonly statusCode: number | undefined; readonly serviceCode: string | undefined } {
  if (typeof error !== 'object' || error === null) return { statusCode: undefined, serviceCode: undefined };
  const record = error as { statusCode?: unknown; code?: unknown; details?: { errorCode?: unknown } };
  const statusCode = typeof record.statusCode === 'number' ? record.statusCode : undefined;
  const detailCode = typeof record.details?.errorCode === 'string' ? record.details.errorCode : undefined;
  const serviceCode = detailCode ?? (typeof record.code === 'string' ? record.code : undefined);
  return { statusCode, serviceCode };
}

/** True for an SDK error with this HTTP status. */
export function hasStatus(error: unknown, statusCode: number): boolean {
  return describeAzureFailure(error).statusCode === statusCode;
}

/** Wraps an SDK failure as an AzureRequestError (a RetailMlopsError passes through unchanged). */
export function azureFailure(operation: string, error: unknown): Error {
  if (RetailMlopsError.isInstance(error)) return error;
  const { statusCode, serviceCode } = describeAzureFailure(error);
  return new AzureRequestError(operation, statusCode, serviceCode, { cause: error });
}
