/**
 * The custom CloudWatch metrics the API publishes on AWS (PutMetricData, dimension `Environment`),
 * which the infra stack's dashboard and alarms read. Plain constants: the server, the infra and the
 * tests share the names, and nothing here loads an SDK.
 */
export const API_METRICS_NAMESPACE = 'RetailMlops/Api';

export const API_METRICS = {
  /** Milliseconds per prediction request (the alarms read its p95). */
  latency: 'Latency',
  /** Requests served (count). */
  requests: 'Requests',
  /** Responses with a 5xx status (count). */
  serverErrors: 'ServerErrors',
  /** Drift score of the recent predictions against the training distribution (population stability index). */
  drift: 'Drift',
} as const;

/** The dimension every API metric carries. */
export const API_METRICS_DIMENSION = 'Environment';
