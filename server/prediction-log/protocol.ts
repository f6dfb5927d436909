/** Messages between the server's main thread and the prediction-log writer worker. */
import type { CompletedSegment } from './segment-writer';
import type { PredictionLogBatch } from './sink';

export interface WriterSettings {
  /** The spool directory. */
  readonly directory: string;
  readonly maxSegmentBytes: number;
  readonly maxSegmentAgeMs: number;
  readonly flushIntervalMs: number;
  readonly instance: string;
}

/** A batch as the writer gets it: only the kept rows, and the rate they were kept at. */
export interface SampledBatch extends PredictionLogBatch {
  /** The share of the run's predictions kept (1, ½, ¼, …). */
  readonly rate: number;
  /** When sampled: each kept row's position in its request (else rows are 0… per request). */
  readonly indexes?: Uint32Array;
}

export type LogWriterRequest =
  | { readonly type: 'init'; readonly settings: WriterSettings }
  | { readonly type: 'batch'; readonly batch: SampledBatch }
  | { readonly type: 'close' };

export type LogWriterResponse =
  /** Ready; the complete segments a previous process left in the spool (to upload). */
  | { readonly type: 'ready'; readonly recovered: readonly CompletedSegment[] }
  /** `records` were written (or failed to be: `failed`), and are no longer pending. */
  | { readonly type: 'written'; readonly records: number; readonly failed: number; readonly error?: string }
  /** A segment is complete in the spool, ready to upload. */
  | { readonly type: 'segment'; readonly segment: CompletedSegment }
  /** Everything is written and every segment completed (reported before this). */
  | { readonly type: 'closed' };
