import type { Command } from 'commander';
import { InvalidOptionsError } from '../../core/errors';
import type { ModelRegistry } from '../../core/registry/port';
import { openEnvironment, resolveEnvironment, type ResolvedEnvironment } from '../../providers/environment';
import { createLocalObjectStorage } from '../../providers/local/object-storage';
import { createJsonLogger } from '../../server/logger';
import { resolveServerSettings, startServer, type StartServerOptions } from '../../server/main';
import { joinProcessGroup, ServerProcessFailedError, superviseServerProcesses, type ServerProcesses } from '../../server/server-processes';
import { fileVariable, SERVER_DEFAULTS, SERVER_VARIABLES } from '../../server/settings';
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
  readonly drainDelay?: number;
  readonly latencyBudget?: number;
  readonly processes?: number;
}

/** Stands in for the registry while the settings are checked (nothing is opened before they all hold). */
const UNOPENED_REGISTRY = {} as ModelRegistry;

/** What `serve --json` prints once it is ready (the process then serves until SIGTERM). */
export interface ServeSummary {
  readonly url: string;
  readonly port: number;
  readonly reference: string;
  readonly modelVersion: string;
  /** Server processes sharing the port, and their pids. */
  readonly processes: number;
  readonly pids: readonly number[];
}

/** The number of server processes: the flag, else the variable, else 1; adds a problem when it is not a positive integer. */
function processCount(flag: number | undefined, problems: string[]): number {
  if (flag !== undefined) return flag;
  const variable = process.env[SERVER_VARIABLES.processes];
  if (variable === undefined || variable.trim() === '') return SERVER_DEFAULTS.processes;
  const parsed = Number(variable);
  if (/^\s*\d+\s*$/.test(variable) && parsed >= 1) return parsed;
  problems.push(`${SERVER_VARIABLES.processes} must be a positive integer, got ${JSON.stringify(variable)}`);
  return SERVER_DEFAULTS.processes;
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
 * S3 or Blob Storage; see providers/environment.ts). Flags override the environment (the variables of
 * server/settings.ts). Runs until SIGTERM or SIGINT, then drains and exits 0.
 */
export function registerServe(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program.command('serve').description('serve predictions over HTTP: POST /v1/predict, /v1/predict/batch; GET /healthz, /readyz, /metrics, /openapi.json'),
      ['registry', 'lake'],
    )
      .option('--model <reference>', `alias (production), version id (v-…) or #n to serve [env ${SERVER_VARIABLES.model}, default ${SERVER_DEFAULTS.model}]`)
      .option('--port <port>', `port to listen on; 0 picks a free one [env ${SERVER_VARIABLES.port}, default ${SERVER_DEFAULTS.port}]`, portNumber)
      .option('--host <address>', 'address to bind', SERVER_DEFAULTS.host)
      .option('--prediction-log <dir>', `write the prediction log to <dir> [env ${SERVER_VARIABLES.predictionLog}]`)
      .option('--poll-interval <ms>', 'how often to re-resolve an alias; 0 never [default 30000]', nonNegativeInteger('--poll-interval'))
      .option(
        '--processes <n>',
        `server processes sharing the port, each parsing, scoring and answering on its own core [env ${SERVER_VARIABLES.processes}, default ${SERVER_DEFAULTS.processes}]`,
        positiveInteger('--processes'),
      )
      .option('--workers <n>', 'inference worker threads per process [default 2; 1 with --processes > 1]', positiveInteger('--workers'))
      .option('--intra-op-threads <n>', 'ONNX Runtime intra-op threads per worker [default 1]', positiveInteger('--intra-op-threads'))
      .option(
        '--drain-delay <ms>',
        `on SIGTERM, keep answering (with Connection: close) this long before closing the listener [env ${SERVER_VARIABLES.drainDelayMs}, default ${SERVER_DEFAULTS.drainDelayMs}]`,
        nonNegativeInteger('--drain-delay'),
      )
      .option(
        '--latency-budget <ms>',
        `refuse a prediction at once (503 + Retry-After) when the requests ahead would keep it waiting longer [env ${SERVER_VARIABLES.latencyBudgetMs}, default ${SERVER_DEFAULTS.latencyBudgetMs}]`,
        positiveInteger('--latency-budget'),
      )
      .addHelpText(
        'after',
        '\nKeys (bearer tokens, ≥ 16 characters, comma- or newline-separated):\n' +
          `  ${`${SERVER_VARIABLES.apiKeys} or ${fileVariable(SERVER_VARIABLES.apiKeys)}`.padEnd(57)}prediction keys for /v1/* (required)\n` +
          `  ${`${SERVER_VARIABLES.adminKeys} or ${fileVariable(SERVER_VARIABLES.adminKeys)}`.padEnd(57)}admin keys for POST /admin/reload, never prediction keys\n` +
          '                                                           (without them /admin/* answers 403)',
      ),
  ).action(async (flags: ServeFlags) => {
    if (flags.lake && flags.predictionLog) throw new UsageError('give --lake or --prediction-log, not both');
    // the environment's problems and the server's are reported together, before anything is opened
    const problems: string[] = [];
    let environment: ResolvedEnvironment | undefined;
    try {
      environment = resolveEnvironment({ flags: { environment: flags.environment, provider: flags.provider, registry: flags.registry, lake: flags.lake }, uses: ['serving'] });
    } catch (error) {
      if (!(error instanceof InvalidOptionsError)) throw error;
      problems.push(...error.problems);
    }
    const processes = processCount(flags.processes, problems);
    const member = processes > 1 ? joinProcessGroup() : undefined;
    const settings = {
      model: flags.model,
      port: flags.port,
      host: flags.host,
      predictionLogDirectory: flags.predictionLog,
      pollIntervalMs: flags.pollInterval,
      inferenceWorkers: flags.workers ?? (processes > 1 ? 1 : undefined),
      intraOpThreads: flags.intraOpThreads,
      drainDelayMs: flags.drainDelay,
      latencyBudgetMs: flags.latencyBudget,
      handleSignals: true,
    };
    let logDirectory: string | undefined;
    try {
      logDirectory = resolveServerSettings({ ...settings, registry: UNOPENED_REGISTRY }).predictionLogDirectory;
    } catch (error) {
      if (!(error instanceof InvalidOptionsError)) throw error;
      problems.push(...error.problems);
    }
    if (problems.length > 0 || !environment) throw new UsageError(`invalid serve settings: ${problems.join('; ')}`);
    if (processes > 1 && !member) {
      await superviseGroup(flags, processes);
      return;
    }
    const services = await openEnvironment(environment);
    // the API only reads the registry: no mirror into the cloud's own registry, so no settings or rights for it
    // predictions ship to the environment's lake (<lake>/predictions/) when one is named — by flag, variable or
    // .retail-mlops.json, as in a cluster — never to the embedded default a bare `serve` would invent
    const shipsToLake = !flags.predictionLog && environment.origins.lake !== undefined && environment.origins.lake !== 'default';
    const options: StartServerOptions = {
      ...settings,
      registry: await services.registry({ mirror: false }),
      environmentName: environment.name,
      ...(member ? { processGroup: member } : {}),
      ...(shipsToLake
        ? { predictionLogStorage: await services.lake().storage() }
        : logDirectory !== undefined
          ? { predictionLogStorage: createLocalObjectStorage({ root: logDirectory }), predictionLogPrefix: '' }
          : {}),
    };
    let closed: Promise<void> | undefined;
    await runCommand(
      // a member of a group prints nothing but its errors: the primary prints the summary
      member ? { ...flags, json: false, quiet: true } : flags,
      async (): Promise<ServeSummary> => {
        const server = await startServer(options);
        closed = server.closed;
        const summary = { url: server.url, port: server.port, reference: server.models.reference, modelVersion: server.initialModel.modelVersion };
        member?.ready(summary);
        return { ...summary, processes: 1, pids: [process.pid] };
      },
      describeServing,
    );
    if (closed) await closed;
    if (member) {
      // the channel to the primary would keep this process alive
      process.exit(process.exitCode ?? 0);
    }
    if (closed) say(flags, 'stopped');
  });
}

function describeServing(summary: ServeSummary): string {
  const processes = summary.processes > 1 ? ` (${summary.processes} processes)` : '';
  return `serving ${summary.reference} (${summary.modelVersion}) on ${summary.url}${processes}; SIGTERM drains and stops`;
}

/**
 * `serve --processes n` in the process the user started: starts the n server processes (this same
 * command line, each a whole server), prints the summary once they all serve, and drains them on
 * SIGTERM or SIGINT. Exits with the code of a process that failed to start.
 */
async function superviseGroup(flags: ServeFlags, processes: number): Promise<void> {
  let group: ServerProcesses | undefined;
  try {
    group = await superviseServerProcesses({ processes, logger: createJsonLogger() });
  } catch (error) {
    // the process that failed printed why
    if (error instanceof ServerProcessFailedError) {
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
  const started = group;
  await runCommand(flags, async (): Promise<ServeSummary> => ({ ...started.summary, processes, pids: started.pids() }), describeServing);
  process.exitCode = await started.closed;
  say(flags, 'stopped');
}
