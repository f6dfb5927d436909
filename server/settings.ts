/**
 * The prediction server's runtime contract: the environment variables it reads, their defaults and the
 * port. `serve` (bin/commands/serve.ts: its help), the server (server/main.ts: it reads them), the API's
 * Kubernetes chart (manifests/api-chart.ts: it sets them) and the container image (pipelines/
 * container-image.ts: its port and health check) all take the names and defaults from here, so each
 * variable is spelled once. Constants only (no side effects on import).
 *
 * The registry, the provider and the environment name are settings of every command, not only the
 * server's: core/config/settings.ts declares them, and they are taken from there.
 */
import { ENVIRONMENT_VARIABLE, settingVariable } from '../core/config/settings';

/** The environment variables the server reads. */
export const SERVER_VARIABLES = {
  /** The port to listen on (0 picks a free one). */
  port: 'PORT',
  /** Where models are registered (a directory, s3://… or https://….blob.core.windows.net/…). */
  registry: settingVariable('registry'),
  /** The alias, version id or `#n` to serve. */
  model: 'RETAIL_MLOPS_MODEL',
  /** The prediction keys, comma-separated (or `<name>_FILE`: a file of them). */
  apiKeys: 'RETAIL_MLOPS_API_KEYS',
  /** The admin keys (POST /admin/reload), comma-separated (or `<name>_FILE`). */
  adminKeys: 'RETAIL_MLOPS_ADMIN_KEYS',
  /** A directory the prediction log ships to. */
  predictionLog: 'RETAIL_MLOPS_PREDICTION_LOG',
  /** Where the prediction log spools its segments before they ship. */
  predictionSpool: 'RETAIL_MLOPS_PREDICTION_SPOOL',
  /** On SIGTERM, how long to keep answering (with Connection: close) before closing the listener, in milliseconds. */
  drainDelayMs: 'RETAIL_MLOPS_DRAIN_DELAY_MS',
  /** A prediction is refused at once when the requests ahead would keep it waiting longer (milliseconds). */
  latencyBudgetMs: 'RETAIL_MLOPS_LATENCY_BUDGET_MS',
  /** Server processes sharing the port (`serve --processes`; server/server-processes.ts). */
  processes: 'RETAIL_MLOPS_PROCESSES',
  /** `kubernetes`, `sagemaker` or `azureml` (server/hosting/managed-hosting.ts). */
  hosting: 'RETAIL_MLOPS_HOSTING',
  /** The environment named in telemetry events. */
  environment: ENVIRONMENT_VARIABLE,
  /** The retail-mlops provider of the lake and registry. */
  provider: settingVariable('provider'),
} as const;

/** The variable naming a file that holds the value of `variable` (keys from a mounted Secret). */
export function fileVariable<Name extends string>(variable: Name): `${Name}_FILE` {
  return `${variable}_FILE`;
}

/** What the server does when a variable is unset. */
export const SERVER_DEFAULTS = {
  port: 8080,
  model: 'production',
  host: '0.0.0.0',
  drainDelayMs: 0,
  latencyBudgetMs: 100,
  processes: 1,
  environment: 'local',
  hosting: 'kubernetes',
} as const;
