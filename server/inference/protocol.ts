/**
 * Messages between the server's main thread and an inference worker (model-worker.ts). Feature and
 * result buffers are transferred, not copied: the main thread hands a batch's features over and
 * gets them back with the probabilities and labels.
 */

/** ONNX Runtime session settings. */
export interface SessionSettings {
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
}

export type WorkerRequest =
  | {
      readonly type: 'load';
      readonly model: Uint8Array;
      readonly featureCount: number;
      readonly classCount: number;
      readonly session: SessionSettings;
    }
  | {
      readonly type: 'run';
      readonly id: number;
      readonly rows: number;
      /** rows × featureCount, row-major. */
      readonly features: Float32Array;
    };

export type WorkerResponse =
  | { readonly type: 'loaded' }
  | { readonly type: 'load-failed'; readonly message: string }
  | {
      readonly type: 'result';
      readonly id: number;
      /** The run's features, handed back. */
      readonly features: Float32Array;
      /** rows × classes, row-major. */
      readonly probabilities: Float32Array;
      /** Class index per row (ONNX `label` output). */
      readonly labels: Uint8Array;
    }
  | { readonly type: 'run-failed'; readonly id: number; readonly message: string; readonly features: Float32Array };
