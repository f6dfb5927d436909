import type { FeatureStatistics } from '../features/statistics';
import type { ScoringEngine, ScoringEngineName } from '../onnx/row-scorer';

/** What a scoring worker starts with. */
export interface ScoreWorkerData {
  readonly model: Uint8Array;
  readonly statistics: FeatureStatistics;
  readonly engine: ScoringEngine;
  /** Rows of the worker's first task also scored by ONNX Runtime to check the compiled engine. */
  readonly verifyRows: number;
}

/** One unit of work: the gold baskets of a DuckDB relation (one week's files). */
export interface ScoreTask {
  readonly id: number;
  readonly relation: string;
}

export interface ScoredBaskets {
  readonly basketIds: Float64Array;
  readonly weeks: Int32Array;
  /** Baskets × classes. */
  readonly probabilities: Float32Array;
}

/** What a scoring worker reports once it is ready (see core/worker-launcher.ts). */
export interface ScoreWorkerReady {
  readonly engine: ScoringEngineName;
  readonly fallbackReason?: string;
}

export type ScoreWorkerReply =
  | ({ readonly type: 'result'; readonly id: number; readonly verifiedRows: number; readonly maxDifference: number } & ScoredBaskets)
  | { readonly type: 'error'; readonly id?: number; readonly message: string };
