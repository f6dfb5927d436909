import type { ServerMetrics } from './metrics';
import type { ModelService } from './models/model-service';
import type { PredictionLogSink } from './prediction-log/sink';

/** Wall-clock time (the prediction log's timestamps); injected so tests can fix it. */
export interface Clock {
  /** Epoch milliseconds (prediction-log timestamps). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Wires the model service's events to the metrics (predictions by label, batch rows, reloads by
 * outcome) and every prediction batch to the prediction log, both HTTP paths alike.
 */
export function recordModelEvents(models: ModelService, metrics: ServerMetrics, predictionLog: PredictionLogSink, clock: Clock): void {
  models.subscribe({
    onPredictions(model, batch) {
      metrics.countPredictions(batch.labels);
      metrics.batchRows.observe(batch.rows);
      predictionLog.append({
        time: clock.now(),
        modelVersion: model.id,
        featureSpecVersion: model.info.featureSpecVersion,
        featureCount: batch.features.length / Math.max(batch.rows, 1),
        requestIds: batch.requestIds,
        rowsPerRequest: batch.rowsPerRequest,
        features: batch.features,
        basketIds: batch.basketIds,
        probabilities: batch.probabilities,
        labels: batch.labels,
      });
    },
    onModelLoaded(_model, _previous, trigger) {
      metrics.modelReloads.inc({ outcome: 'loaded', trigger });
    },
    onModelRefused(_error, trigger) {
      metrics.modelReloads.inc({ outcome: 'refused', trigger });
    },
  });
}
