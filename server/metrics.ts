/**
 * The server's Prometheus metrics (prom-client), registered on the registry createApp is given:
 * request durations by route and status, predictions by class, the model being served, the inference
 * queue, model reloads, the prediction log, and event-loop lag.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ModelService } from './models/model-service';
import type { PredictionLogSink } from './prediction-log/sink';
import { PRICE_SENSITIVITY_CLASSES } from '../core/schema/lgsr';

export interface ServerMetrics {
  readonly requestDuration: Histogram<'route' | 'method' | 'status'>;
  readonly predictions: Counter<'class'>;
  readonly modelReloads: Counter<'outcome' | 'trigger'>;
  /** Rows (baskets) per ONNX Runtime run: how well micro-batching merges requests. */
  readonly batchRows: Histogram;
  /** Counts labels of one inference run. */
  countPredictions(labels: Uint8Array): void;
}

export interface ServerMetricsSources {
  readonly models: ModelService;
  readonly predictionLog: PredictionLogSink;
  /** A started `monitorEventLoopDelay()` histogram; without one the lag gauges are absent. */
  readonly eventLoopDelay?: IntervalHistogram;
}

export function createServerMetrics(registry: Registry, sources: ServerMetricsSources): ServerMetrics {
  const requestDuration = new Histogram({
    name: 'retail_mlops_http_request_duration_seconds',
    help: 'HTTP request duration by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const predictions = new Counter({
    name: 'retail_mlops_predictions_total',
    help: 'Baskets predicted, by predicted class',
    labelNames: ['class'] as const,
    registers: [registry],
  });
  for (const label of PRICE_SENSITIVITY_CLASSES) predictions.inc({ class: label }, 0);
  const modelReloads = new Counter({
    name: 'retail_mlops_model_reloads_total',
    help: 'Model loads by outcome (loaded, refused) and trigger (start, poll, admin, recovery)',
    labelNames: ['outcome', 'trigger'] as const,
    registers: [registry],
  });
  const batchRows = new Histogram({
    name: 'retail_mlops_inference_batch_rows',
    help: 'Baskets per ONNX Runtime run (micro-batching merges concurrent requests)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 10_000],
    registers: [registry],
  });
  const { models, predictionLog, eventLoopDelay } = sources;
  new Gauge({
    name: 'retail_mlops_model_info',
    help: 'The model being served (value 1), by version, feature spec version and algorithm',
    labelNames: ['version', 'feature_spec_version', 'algorithm', 'reference'] as const,
    registers: [registry],
    // with `serve --processes`: 1 for each version some process serves (others are summed)
    aggregator: 'max',
    collect() {
      this.reset();
      const model = models.current;
      if (model) {
        const { featureSpecVersion, algorithm } = model.info;
        this.set({ version: model.id, feature_spec_version: featureSpecVersion, algorithm, reference: models.reference }, 1);
      }
    },
  });
  new Gauge({
    name: 'retail_mlops_model_ready',
    help: '1 when a model is loaded and warmed and the server accepts predictions',
    registers: [registry],
    // with `serve --processes`: 1 when every process does
    aggregator: 'min',
    collect() {
      this.set(models.ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'retail_mlops_inference_queue_depth',
    help: 'Prediction requests waiting for or in the prediction workers',
    registers: [registry],
    collect() {
      this.set(models.current?.queuedRequests ?? 0);
    },
  });
  new Gauge({
    name: 'retail_mlops_inference_queue_bytes',
    help: 'Request body bytes waiting for or in the prediction workers',
    registers: [registry],
    collect() {
      this.set(models.current?.queuedBytes ?? 0);
    },
  });
  new Counter({
    name: 'retail_mlops_prediction_log_records_total',
    help: 'Prediction records written to the prediction log',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(predictionLog.stats().written);
    },
  });
  new Counter({
    name: 'retail_mlops_prediction_log_dropped_total',
    help: 'Prediction records dropped because the prediction log could not keep up even sampling, a write failed, or the spool overflowed',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(predictionLog.stats().dropped);
    },
  });
  new Counter({
    name: 'retail_mlops_prediction_log_sampled_out_total',
    help: 'Predictions left out of the prediction log by deterministic sampling while its writer was behind (kept records carry their rate)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(predictionLog.stats().sampledOut);
    },
  });
  new Counter({
    name: 'retail_mlops_prediction_log_shipped_segments_total',
    help: 'Prediction-log segments uploaded to the lake',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(predictionLog.stats().shippedSegments);
    },
  });
  new Gauge({
    name: 'retail_mlops_prediction_log_waiting_segments',
    help: 'Complete prediction-log segments waiting in the spool for their upload',
    registers: [registry],
    collect() {
      this.set(predictionLog.stats().waitingSegments);
    },
  });
  if (eventLoopDelay) {
    new Gauge({
      name: 'retail_mlops_event_loop_lag_seconds',
      help: 'Event-loop delay of the main thread since the last scrape, by quantile',
      labelNames: ['quantile'] as const,
      registers: [registry],
      // with `serve --processes`: the slowest process's
      aggregator: 'max',
      collect() {
        const seconds = (nanoseconds: number): number => (Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : 0);
        this.set({ quantile: '0.5' }, seconds(eventLoopDelay.percentile(50)));
        this.set({ quantile: '0.99' }, seconds(eventLoopDelay.percentile(99)));
        this.set({ quantile: '1' }, seconds(eventLoopDelay.max));
        eventLoopDelay.reset();
      },
    });
  }
  return {
    requestDuration,
    predictions,
    modelReloads,
    batchRows,
    countPredictions(labels) {
      const counts = [0, 0, 0];
      for (let row = 0; row < labels.length; row++) counts[labels[row]] += 1;
      for (let k = 0; k < counts.length; k++) if (counts[k] > 0) predictions.inc({ class: PRICE_SENSITIVITY_CLASSES[k] }, counts[k]);
    },
  };
}
