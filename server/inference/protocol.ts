/**
 * Messages between the server's main thread and a prediction worker (model-worker.ts). The main
 * thread only moves request bodies: a worker parses, validates (the API's zod schemas), computes the
 * features (core/features) and runs ONNX Runtime, for many requests per message. Buffers are
 * transferred, not copied.
 */
import type { RequestLimits } from '../schemas';

/** ONNX Runtime session settings. */
export interface SessionSettings {
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
}

/** The two request bodies: one basket (`POST /v1/predict`) or `{baskets: [...]}` (`POST /v1/predict/batch`). */
export type BodyShape = 'basket' | 'batch';

export interface LoadRequest {
  readonly type: 'load';
  readonly model: Uint8Array;
  /** The `feature-statistics.json` artifact. */
  readonly statistics: Uint8Array;
  readonly limits: RequestLimits;
  readonly session: SessionSettings;
}

export interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly shapes: readonly BodyShape[];
  /**
   * The UTF-8 JSON bodies, one per request. Small bodies are views into one shared buffer (one
   * transfer for many: transferring many small buffers costs the main thread more than copying them
   * into one); a large body that owns its whole buffer is transferred as it is (no copy).
   */
  readonly bodies: readonly Uint8Array[];
}

export type WorkerRequest = LoadRequest | RunRequest;

/** Why a body was refused (the kinds of problems.ts). */
export type BodyProblemKind = 'malformed-json' | 'invalid-request' | 'limit-exceeded';

export interface BodyProblem {
  readonly kind: BodyProblemKind;
  readonly detail: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}

export interface RunResult {
  readonly type: 'result';
  readonly id: number;
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
  /**
   * Each valid request's predictions as JSON text, built here so the main thread only concatenates:
   * for a basket the members `"label":…,"probabilities":{…}`; for a batch the array `[{…},…]`.
   */
  readonly predictionsJson: readonly (string | null)[];
}

export type WorkerResponse =
  | { readonly type: 'loaded' }
  | { readonly type: 'load-failed'; readonly message: string }
  | RunResult
  | { readonly type: 'run-failed'; readonly id: number; readonly message: string };
