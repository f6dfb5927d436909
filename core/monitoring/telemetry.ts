/**
 * The telemetry contract: every log event the API and `retail-mlops monitor` write for machines to
 * read, the fields they carry, which container writes them, and the metrics derived from them. The
 * server and the monitor log these names; the AWS metric filters, alarms and dashboard
 * (providers/aws/infra/observability.ts) and the Azure log alerts (providers/azure/infra) are built
 * from this table, and tests tie each alarm, widget and alert to a name here and each name to a line
 * the code really logs.
 *
 * One path from code to a metric: structured JSON log lines. The cluster's log agent ships container
 * output (CloudWatch observability add-on → `/aws/containerinsights/<cluster>/application`, JSON lines
 * parsed under `log_processed`; Container Insights → Log Analytics `ContainerLogV2`), and CloudWatch
 * metric filters turn fields into metrics. Nothing calls PutMetricData, so there is no second path
 * that could drift from this one.
 */

/** The containers that log telemetry (the manifests name their containers with these). */
export const TELEMETRY_SOURCES = { api: 'api', monitor: 'monitor' } as const;
export type TelemetrySource = (typeof TELEMETRY_SOURCES)[keyof typeof TELEMETRY_SOURCES];

/** Every telemetry event carries the environment it ran in under this field (the metrics' dimension). */
export const ENVIRONMENT_FIELD = 'environment';

export interface TelemetryEventDefinition {
  /** The value of the line's `event` field. */
  readonly name: string;
  readonly source: TelemetrySource;
  /** Numeric fields every line of the event carries (besides `environment`). */
  readonly numericFields: readonly string[];
  readonly description: string;
}

/** The events, by key. */
export const TELEMETRY_EVENTS = {
  httpWindow: {
    name: 'http.window',
    source: 'api',
    numericFields: ['windowSeconds', 'requests', 'errors5xx', 'p50Ms', 'p95Ms', 'p99Ms', 'maxMs'],
    description: 'one a minute per API pod: prediction requests of the window, how many answered 5xx, latency percentiles',
  },
  driftReport: {
    name: 'drift.report',
    source: 'monitor',
    numericFields: ['maxPsi', 'classPsi', 'predictions', 'driftedFeatures'],
    description: 'one per drift run (`retail-mlops monitor` or `drift`): the largest feature PSI, the predicted-class PSI, how many predictions',
  },
  liveAccuracy: {
    name: 'live.accuracy',
    source: 'monitor',
    numericFields: ['accuracy', 'macroF1', 'labelledBaskets'],
    description: 'one per monitor run that found labelled baskets among the shipped predictions: accuracy and macro-F1 on them',
  },
  retrain: {
    name: 'retrain.trigger',
    source: 'monitor',
    numericFields: ['triggered'],
    description: 'one per monitor run: whether it started the training pipeline (1) or not (0), and why (`outcome`: triggered, cooldown, not-needed, disabled, failed)',
  },
  predictionLogDropping: {
    name: 'prediction-log.dropping',
    source: 'api',
    numericFields: ['dropped'],
    description: 'an API pod dropped prediction records (the writer could not keep up even sampling, a write failed, or the spool was full)',
  },
  predictionLogSampling: {
    name: 'prediction-log.sampling',
    source: 'api',
    numericFields: ['sampleRate', 'sampledOut'],
    description: 'an API pod logs only a deterministic sample of its predictions (each record carries its rate)',
  },
  predictionLogShipFailed: {
    name: 'prediction-log.ship-failed',
    source: 'api',
    numericFields: ['segments'],
    description: 'an API pod could not upload prediction-log segments to the lake (they stay in its spool and are retried)',
  },
} as const satisfies Readonly<Record<string, TelemetryEventDefinition>>;

export type TelemetryEventKey = keyof typeof TELEMETRY_EVENTS;

/** The namespace of the CloudWatch metrics derived from the events. */
export const METRICS_NAMESPACE = 'RetailMlops';

/** The one dimension of every metric: its value is the event's `environment` field. */
export const METRIC_DIMENSION = 'Environment';

export type MetricUnit = 'Count' | 'Milliseconds' | 'None';
export type MetricStatistic = 'Sum' | 'Maximum' | 'Minimum' | 'Average';

export interface TelemetryMetricDefinition {
  /** The CloudWatch metric name. */
  readonly name: string;
  /** The event the metric is read from … */
  readonly event: TelemetryEventKey;
  /** … and its field (one of the event's numericFields). */
  readonly field: string;
  readonly unit: MetricUnit;
  /** How alarms and widgets aggregate a period's values (one value per line). */
  readonly statistic: MetricStatistic;
  readonly description: string;
}

/** The metrics, by key. */
export const TELEMETRY_METRICS = {
  requests: { name: 'Requests', event: 'httpWindow', field: 'requests', unit: 'Count', statistic: 'Sum', description: 'prediction requests' },
  serverErrors: { name: 'ServerErrors', event: 'httpWindow', field: 'errors5xx', unit: 'Count', statistic: 'Sum', description: 'prediction requests answered 5xx' },
  latencyP95: { name: 'LatencyP95', event: 'httpWindow', field: 'p95Ms', unit: 'Milliseconds', statistic: 'Maximum', description: "p95 latency of a pod's minute (the worst pod)" },
  latencyP99: { name: 'LatencyP99', event: 'httpWindow', field: 'p99Ms', unit: 'Milliseconds', statistic: 'Maximum', description: "p99 latency of a pod's minute (the worst pod)" },
  drift: { name: 'Drift', event: 'driftReport', field: 'maxPsi', unit: 'None', statistic: 'Maximum', description: 'the largest feature PSI of a drift run' },
  liveAccuracy: { name: 'LiveAccuracy', event: 'liveAccuracy', field: 'accuracy', unit: 'None', statistic: 'Minimum', description: 'accuracy on labelled baskets' },
  retrainTriggered: { name: 'RetrainTriggered', event: 'retrain', field: 'triggered', unit: 'Count', statistic: 'Sum', description: 'training pipelines started by the monitor' },
  predictionLogDropped: { name: 'PredictionLogDropped', event: 'predictionLogDropping', field: 'dropped', unit: 'Count', statistic: 'Sum', description: 'prediction records dropped' },
} as const satisfies Readonly<Record<string, TelemetryMetricDefinition>>;

export type TelemetryMetricKey = keyof typeof TELEMETRY_METRICS;

/** The definition of the metric named `name` (a CloudWatch metric name), or undefined. */
export function metricNamed(name: string): (TelemetryMetricDefinition & { readonly key: TelemetryMetricKey }) | undefined {
  for (const [key, metric] of Object.entries(TELEMETRY_METRICS) as [TelemetryMetricKey, TelemetryMetricDefinition][]) {
    if (metric.name === name) return { key, ...metric };
  }
  return undefined;
}

/** The definition of the event whose lines say `event: name`, or undefined. */
export function eventNamed(name: string): (TelemetryEventDefinition & { readonly key: TelemetryEventKey }) | undefined {
  for (const [key, event] of Object.entries(TELEMETRY_EVENTS) as [TelemetryEventKey, TelemetryEventDefinition][]) {
    if (event.name === name) return { key, ...event };
  }
  return undefined;
}

/** The environment a process reports under: `$RETAIL_MLOPS_ENVIRONMENT`, else `local`. */
export function telemetryEnvironment(variables: NodeJS.ProcessEnv = process.env): string {
  const name = variables.RETAIL_MLOPS_ENVIRONMENT?.trim();
  return name ? name : 'local';
}
