/**
 * Messages between the server's main thread and a prediction worker (model-worker.ts). The main
 * thread only moves request bodies: a worker parses, validates (the API's zod schemas), computes the
 * features (core/features) and runs ONNX Runtime, for many requests per message.
 *
 * The bytes travel through shared memory, the messages only say where they are: structured-cloning
 * or transferring buffers costs the main thread 15–40 µs a message (measured here: detaching an
 * ArrayBuffer, cloning typed-array views), a message of a few numbers 0.5 µs. Each batch in flight
 * uses one *slot*: a request buffer the main thread fills (a header, then the bodies) and a result
 * buffer the worker fills; both grow when a batch needs more (the grown buffer travels once, in the
 * message that first uses it) and are reused by the next batch of the slot.
 */
import type { ScoringEngine, ScoringEngineName } from '../../core/onnx/row-scorer';
import type { RequestLimits } from '../schemas';

/** ONNX Runtime session settings. */
export interface SessionSettings {
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
}

/** The two request bodies: one basket (`POST /v1/predict`) or `{baskets: [...]}` (`POST /v1/predict/batch`). */
export type BodyShape = 'basket' | 'batch';

/** What a prediction worker starts with (its `workerData`, see core/worker-launcher.ts). */
export interface ModelWorkerData {
  readonly model: Uint8Array;
  /** The `feature-statistics.json` artifact. */
  readonly statistics: Uint8Array;
  readonly limits: RequestLimits;
  readonly session: SessionSettings;
  /** `auto`: a compiled engine when the model has one (checked against ONNX Runtime); `onnxruntime`: ONNX Runtime only. */
  readonly engine: ScoringEngine;
}

/**
 * The request buffer of a slot: REQUEST_HEADER_WORDS 32-bit words per request (the body's byte offset
 * in the buffer, its length, its flags), then the bodies, each at a multiple of 8 bytes.
 */
export const REQUEST_HEADER_WORDS = 3;
/** Flag: the body is a batch (`{baskets}`), else one basket. */
export const FLAG_BATCH = 1;
/** Flag: the body is not in the slot but in `RunRequest.outside` (a large body in its own shared buffer). */
export const FLAG_OUTSIDE = 2;

export interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly slot: number;
  /** Requests in the batch (headers in the slot's request buffer). */
  readonly count: number;
  /** The slot's request buffer, when it is new or grew (the worker keeps it for the slot). */
  readonly requestBuffer?: SharedArrayBuffer;
  /** Bodies that live in a shared buffer of their own (FLAG_OUTSIDE), by request index. */
  readonly outside?: readonly { readonly index: number; readonly body: Uint8Array }[];
}

/** What a prediction worker reports once its model is loaded (see core/worker-launcher.ts). */
export interface ModelWorkerReady {
  /** The engine that scores (a compiled one is checked against ONNX Runtime at load). */
  readonly engine: ScoringEngineName;
  /** Why no compiled engine scores, when none does. */
  readonly fallbackReason?: string;
}

/** Messages to a prediction worker after it started (`null` stops it: see core/worker-launcher.ts). */
export type WorkerRequest = RunRequest;

/** Why a body was refused (the kinds of problems.ts). */
export type BodyProblemKind = 'malformed-json' | 'body-too-complex' | 'invalid-request' | 'limit-exceeded';

export interface BodyProblem {
  readonly kind: BodyProblemKind;
  readonly detail: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}

/**
 * The result buffer of a slot, as the worker writes it for a batch of `count` requests and `rows`
 * baskets: rowsPerRequest (u32 × count), the end of each request's text in `RunReply.text` (u32 ×
 * count), BASKET_IDs (f64 × rows, 8-byte aligned; NaN where none was sent), probabilities (f32 × rows ×
 * classes), features (f32 × rows × features), labels (u8 × rows).
 */
export interface ResultLayout {
  readonly rowsPerRequest: number;
  readonly textEnds: number;
  readonly basketIds: number;
  readonly probabilities: number;
  readonly features: number;
  readonly labels: number;
  readonly bytes: number;
}

/** Byte offsets of the result buffer's parts (both sides compute them alike). */
export function resultLayout(count: number, rows: number, classCount: number, featureCount: number): ResultLayout {
  const rowsPerRequest = 0;
  const textEnds = rowsPerRequest + 4 * count;
  const basketIds = Math.ceil((textEnds + 4 * count) / 8) * 8;
  const probabilities = basketIds + 8 * rows;
  const features = probabilities + 4 * rows * classCount;
  const labels = features + 4 * rows * featureCount;
  return { rowsPerRequest, textEnds, basketIds, probabilities, features, labels, bytes: labels + rows };
}

export interface RunReply {
  readonly type: 'result';
  readonly id: number;
  readonly slot: number;
  readonly rows: number;
  /** Milliseconds the worker spent on the batch (parse, features, ONNX Runtime, answers). */
  readonly computeMs: number;
  /** True when a basket of the batch carried a BASKET_ID (the result buffer holds them). */
  readonly hasBasketIds: boolean;
  /** The slot's result buffer, when it is new or grew (the main thread keeps it for the slot). */
  readonly resultBuffer?: SharedArrayBuffer;
  /**
   * Every valid request's predictions as JSON text, one after the other (ends in the result buffer),
   * built here so the main thread only slices and concatenates: for a basket the members
   * `"label":…,"probabilities":{…}`; for a batch the array `[{…},…]`.
   */
  readonly text: string;
  /** The refused bodies, by request index (absent when none was). */
  readonly problems?: readonly { readonly index: number; readonly problem: BodyProblem }[];
  /** Why the compiled engine gave way to ONNX Runtime during this batch (once; the batch's answers are ONNX Runtime's). */
  readonly engineFallback?: string;
}

/** A batch's answer, as the main thread hands it on (its own buffers, copied out of the slot). */
export interface RunResult {
  /** Baskets per request (0 for a refused body); rows of the matrices below follow request order. */
  readonly rowsPerRequest: Uint32Array;
  /** The refused bodies, by request index. */
  readonly problems: readonly (BodyProblem | null)[];
  /** rows × featureCount, row-major. */
  readonly features: Float32Array;
  /** BASKET_ID per row (NaN where none was sent); undefined when no basket had one. */
  readonly basketIds?: Float64Array;
  /** rows × classes, row-major. */
  readonly probabilities: Float32Array;
  /** Class index per row (ONNX `label` output). */
  readonly labels: Uint8Array;
  /** Each valid request's predictions as JSON text (see RunReply.text). */
  readonly predictionsJson: readonly (string | null)[];
  /** Milliseconds the worker computed (the micro-batcher's estimate of the wait reads it). */
  readonly computeMs: number;
}

export type WorkerResponse =
  | RunReply
  | { readonly type: 'run-failed'; readonly id: number; readonly message: string };
