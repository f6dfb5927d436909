/** Messages between the server's main thread and the prediction-log writer worker. */
import type { PredictionLogBatch } from './sink';

export interface WriterSettings {
  readonly directory: string;
  readonly maxFileBytes: number;
  readonly maxFileAgeMs: number;
  readonly flushIntervalMs: number;
  readonly instance: string;
}

export type LogWriterRequest =
  | { readonly type: 'init'; readonly settings: WriterSettings }
  | { readonly type: 'batch'; readonly batch: PredictionLogBatch }
  | { readonly type: 'close' };

export type LogWriterResponse =
  | { readonly type: 'ready' }
  /** `records` were written (or failed to be: `failed`), and are no longer pending. */
  | { readonly type: 'written'; readonly records: number; readonly failed: number; readonly error?: string }
  | { readonly type: 'closed' };
