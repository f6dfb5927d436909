import * as path from 'node:path';
import type { Command } from 'commander';
import { InvalidOptionsError } from '../../core/errors';
import type { ModelRegistry } from '../../core/registry/port';
import { openEnvironment, resolveEnvironment, type ResolvedEnvironment } from '../../providers/environment';
import { resolveServerSettings, startServer, type StartServerOptions } from '../../server/main';
import { withGlobalFlags } from '../cli';
import { withEnvironmentFlags } from '../environment';
import { positiveInteger, runCommand, say, UsageError, type GlobalFlags } from '../output';

interface ServeFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly registry?: string;
  readonly model?: string;
  readonly port?: number;
  readonly host: string;
  readonly lake?: string;
  readonly predictionLog?: string;
  readonly pollInterval?: number;
  readonly workers?: number;
  readonly intraOpThreads?: number;
}

/** Stands in for the registry while the settings are checked (nothing is opened before they all hold). */
const UNOPENED_REGISTRY = {} as ModelRegistry;

/** What `serve --json` prints once it is ready (the process then serves until SIGTERM). */
export interface ServeSummary {
  readonly url: string;
  readonly port: number;
  readonly reference: string;
  readonly modelVersion: string;
}

function portNumber(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65_535) throw new UsageError(`--port must be an integer in 0…65535, got '${value}'`);
  return parsed;
}

function nonNegativeInteger(name: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value.replace(/_/g, ''));
    if (!/^\d[\d_]*$/.test(value) || !Number.isSafeInteger(parsed)) throw new UsageError(`${name} must be an integer ≥ 0, got '${value}'`);
    return parsed;
  };
}

/**
 * `retail-mlops serve`: the prediction API, serving from the environment's registry (a directory,
 * S3 or Blob Storage; see providers/environment.ts). Flags override the environment (PORT,
 * RETAIL_MLOPS_REGISTRY, RETAIL_MLOPS_MODEL, RETAIL_MLOPS_API_KEYS / RETAIL_MLOPS_API_KEYS_FILE,
 * RETAIL_MLOPS_ADMIN_KEYS / RETAIL_MLOPS_ADMIN_KEYS_FILE, RETAIL_MLOPS_PREDICTION_LOG). Runs until SIGTERM or SIGINT, then drains and exits 0.
 */
export function registerServe(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program.command('serve').description('serve predictions over HTTP: POST /v1/predict, /v1/predict/batch; GET /healthz, /readyz, /metrics, /openapi.json'),
      ['registry'],
    )
      .option('--model <reference>', 'alias (production), version id (v-…) or #n to serve [env RETAIL_MLOPS_MODEL, default production]')
      .option('--port <port>', 'port to listen on; 0 picks a free one [env PORT, default 8080]', portNumber)
      .option('--host <address>', 'address to bind', '0.0.0.0')
      .option('--lake <dir>', 'write the prediction log to <dir>/predictions/ (a local lake)')
      .option('--prediction-log <dir>', 'write the prediction log to <dir> [env RETAIL_MLOPS_PREDICTION_LOG]')
      .option('--poll-interval <ms>', 'how often to re-resolve an alias; 0 never [default 30000]', nonNegativeInteger('--poll-interval'))
      .option('--workers <n>', 'inference worker threads [default 2]', positiveInteger('--workers'))
      .option('--intra-op-threads <n>', 'ONNX Runtime intra-op threads per worker [default 1]', positiveInteger('--intra-op-threads'))
      .addHelpText(
        'after',
        '\nKeys (bearer tokens, ≥ 16 characters, comma- or newline-separated):\n' +
          '  RETAIL_MLOPS_API_KEYS or RETAIL_MLOPS_API_KEYS_FILE      prediction keys for /v1/* (required)\n' +
          '  RETAIL_MLOPS_ADMIN_KEYS or RETAIL_MLOPS_ADMIN_KEYS_FILE  admin keys for POST /admin/reload, never prediction keys\n' +
          '                                                           (without them /admin/* answers 403)',
      ),
  ).action(async (flags: ServeFlags) => {
    if (flags.lake && flags.predictionLog) throw new UsageError('give --lake or --prediction-log, not both');
    // the environment's problems and the server's are reported together, before anything is opened
    const problems: string[] = [];
    let environment: ResolvedEnvironment | undefined;
    try {
      environment = resolveEnvironment({ flags: { environment: flags.environment, provider: flags.provider, registry: flags.registry }, uses: ['serving'] });
    } catch (error) {
      if (!(error instanceof InvalidOptionsError)) throw error;
      problems.push(...error.problems);
    }
    const settings = {
      model: flags.model,
      port: flags.port,
      host: flags.host,
      predictionLogDirectory: flags.predictionLog ?? (flags.lake ? path.join(flags.lake, 'predictions') : undefined),
      pollIntervalMs: flags.pollInterval,
      inferenceWorkers: flags.workers,
      intraOpThreads: flags.intraOpThreads,
      handleSignals: true,
    };
    try {
      resolveServerSettings({ ...settings, registry: UNOPENED_REGISTRY });
    } catch (error) {
      if (!(error instanceof InvalidOptionsError)) throw error;
      problems.push(...error.problems);
    }
    if (problems.length > 0 || !environment) throw new UsageError(`invalid serve settings: ${problems.join('; ')}`);
    const services = await openEnvironment(environment);
    // the API only reads the registry: no mirror into the cloud's own registry, so no settings or rights for it
    const options: StartServerOptions = { ...settings, registry: await services.registry({ mirror: false }) };
    let closed: Promise<void> | undefined;
    await runCommand(
      flags,
      async (): Promise<ServeSummary> => {
        const server = await startServer(options);
        closed = server.closed;
        return { url: server.url, port: server.port, reference: server.models.reference, modelVersion: server.initialModel.modelVersion };
      },
      (summary) => `serving ${summary.reference} (${summary.modelVersion}) on ${summary.url}; SIGTERM drains and stops`,
    );
    if (closed) {
      await closed;
      say(flags, 'stopped');
    }
  });
}
