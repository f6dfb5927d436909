/**
 * The server's failures, each with a stable code (see core/errors.ts). HTTP handlers never show
 * these to clients directly: the app's one `onError` maps them to problem documents (problems.ts).
 */
import { RetailMlopsError } from '../core/errors';

/** Where loading a model failed. */
export type ModelLoadStage = 'fetch' | 'check' | 'load' | 'warm-up';

/**
 * A model version could not be served: the registry did not give it (`fetch`), it is not a
 * retail-mlops model for this feature spec (`check`: bad bytes, missing or malformed statistics,
 * feature-spec hash mismatch, unexpected classes), ONNX Runtime refused it (`load`), or its warm-up
 * prediction failed (`warm-up`). The model being served, if any, stays.
 */
export class ModelRefusedError extends RetailMlopsError {
  constructor(
    readonly reference: string,
    readonly stage: ModelLoadStage,
    reason: string,
    options?: { readonly cause?: unknown },
  ) {
    super('MODEL_REFUSED', `model ${reference} refused (${stage}): ${reason}`, options);
  }
}

/** No model is loaded yet (or loading failed and nothing was served before). */
export class ModelNotReadyError extends RetailMlopsError {
  constructor() {
    super('MODEL_NOT_READY', 'no model is loaded yet');
  }
}

/** The inference queue is full (requests or body bytes): the request is refused, not queued. */
export class InferenceQueueFullError extends RetailMlopsError {
  constructor(
    readonly queuedRequests: number,
    readonly queuedBytes: number,
  ) {
    super('INFERENCE_QUEUE_FULL', `the inference queue is full (${queuedRequests} requests, ${queuedBytes} bytes of baskets)`);
  }
}

/** A request waited for inference longer than the request timeout. */
export class InferenceTimeoutError extends RetailMlopsError {
  constructor(readonly timeoutMs: number) {
    super('INFERENCE_TIMEOUT', `inference did not complete within ${timeoutMs} ms`);
  }
}

/** An inference worker failed (crashed, exited, or ONNX Runtime threw on a run). */
export class InferenceWorkerError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('INFERENCE_WORKER_FAILED', message, options);
  }
}

/** The model service is shutting down: no new predictions. */
export class ServiceClosingError extends RetailMlopsError {
  constructor() {
    super('SERVICE_CLOSING', 'the server is shutting down');
  }
}
