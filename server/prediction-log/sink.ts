/**
 * The prediction log: every prediction the server makes (request id, time, model version, basket id,
 * feature values, probabilities, label), for drift monitoring and live accuracy. The app hands the
 * sink one batch per inference run; a sink must never block or fail a request (it buffers, samples
 * or drops, and counts, when it cannot keep up). The shipping sink is prediction-log.ts.
 */
import { round6 } from '../../core/monitoring/prediction-segments';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';

/** The predictions of one inference run. Buffers may be kept (they are the sink's from now on). */
export interface PredictionLogBatch {
  /** When the run completed, epoch milliseconds. */
  readonly time: number;
  readonly modelVersion: string;
  readonly featureSpecVersion: string;
  readonly featureCount: number;
  /** One per request in the run, in row order, with how many rows (baskets) each has. */
  readonly requestIds: readonly string[];
  readonly rowsPerRequest: Uint32Array;
  /** rows × featureCount, row-major. */
  readonly features: Float32Array;
  /** rows × 3 (LA, MM, UM). */
  readonly probabilities: Float32Array;
  /** Class index per row. */
  readonly labels: Uint8Array;
  /** BASKET_ID per row as the client sent it, NaN when it sent none. @default none sent */
  readonly basketIds?: Float64Array;
}

export interface PredictionLogStats {
  /** Records written to the spool (or kept, for the memory sink). */
  readonly written: number;
  /** Records dropped: the writer could not keep up even sampling, a write failed, or the spool overflowed. */
  readonly dropped: number;
  /** Predictions left out on purpose by sampling (the kept records carry their rate). */
  readonly sampledOut: number;
  /** Records accepted and not written yet. */
  readonly pending: number;
  /** Segments uploaded to the lake. */
  readonly shippedSegments: number;
  /** Complete segments waiting in the spool for their upload. */
  readonly waitingSegments: number;
}

export interface PredictionLogSink {
  /** Takes a batch without waiting (buffers it, or drops and counts it when full). */
  append(batch: PredictionLogBatch): void;
  stats(): PredictionLogStats;
  /** Writes what is buffered and stops. */
  close(): Promise<void>;
}

/** One prediction, readable (what the memory sink keeps; the shipped form is core/monitoring/prediction-segments.ts). */
export interface PredictionLogRecord {
  readonly time: string;
  readonly requestId: string;
  /** Position of the basket in its request (0 for single predictions). */
  readonly index: number;
  readonly basketId: number | null;
  readonly modelVersion: string;
  readonly featureSpecVersion: string;
  readonly label: string;
  readonly probabilities: Readonly<Record<string, number>>;
  /** The feature vector in FEATURE_SPEC order, rounded to 6 decimals. */
  readonly features: readonly number[];
}

/** The records of a batch, in row order. */
export function* predictionLogRecords(batch: PredictionLogBatch): Generator<PredictionLogRecord> {
  const time = new Date(batch.time).toISOString();
  const classCount = PRICE_SENSITIVITY_CLASSES.length;
  let row = 0;
  for (let request = 0; request < batch.requestIds.length; request++) {
    for (let index = 0; index < batch.rowsPerRequest[request]; index++, row++) {
      const probabilities: Record<string, number> = {};
      for (let k = 0; k < classCount; k++) probabilities[PRICE_SENSITIVITY_CLASSES[k]] = round6(batch.probabilities[row * classCount + k]);
      const features = new Array<number>(batch.featureCount);
      const offset = row * batch.featureCount;
      for (let feature = 0; feature < batch.featureCount; feature++) features[feature] = round6(batch.features[offset + feature]);
      yield {
        time,
        requestId: batch.requestIds[request],
        index,
        basketId: batch.basketIds && !Number.isNaN(batch.basketIds[row]) ? batch.basketIds[row] : null,
        modelVersion: batch.modelVersion,
        featureSpecVersion: batch.featureSpecVersion,
        label: PRICE_SENSITIVITY_CLASSES[batch.labels[row]],
        probabilities,
        features,
      };
    }
  }
}

/** Keeps records in memory (tests, or no log wanted: `capacity: 0`). */
export function createMemoryPredictionLog(
  options: { readonly capacity?: number } = {},
): PredictionLogSink & { readonly records: PredictionLogRecord[] } {
  const capacity = options.capacity ?? 1_000_000;
  const records: PredictionLogRecord[] = [];
  let dropped = 0;
  return {
    records,
    append(batch) {
      for (const record of predictionLogRecords(batch)) {
        if (records.length < capacity) records.push(record);
        else dropped += 1;
      }
    },
    stats: () => ({ written: records.length, dropped, sampledOut: 0, pending: 0, shippedSegments: 0, waitingSegments: 0 }),
    close: async () => undefined,
  };
}

/** Logs nothing. */
export const disabledPredictionLog: PredictionLogSink = {
  append() {},
  stats: () => ({ written: 0, dropped: 0, sampledOut: 0, pending: 0, shippedSegments: 0, waitingSegments: 0 }),
  close: async () => undefined,
};
