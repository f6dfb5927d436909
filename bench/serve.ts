/**
 * `npm run bench:serve [-- --duration 10 --connections 50 --batch-size 100 --workers 2 --prediction-log --tsx
 *                        --skip-fastapi --fastapi-workers 2]`:
 * the prediction API under load, on loopback. Starts the real CLI (`retail-mlops serve`, a child
 * process, so the load generator does not share its event loop) on the trained test model, compiled
 * with tsc as the image runs it (`--tsx`: from the TypeScript sources instead), drives it with
 * autocannon, and prints req/s, p50/p99 latency and errors for:
 *
 *   1. single baskets  (POST /v1/predict)          target on 2 cores: ≥ 8,000 req/s, p99 ≤ 20 ms
 *   2. batches         (POST /v1/predict/batch)    target: ≥ 300,000 baskets/s
 *   3. single baskets while the model is swapped twice (alias moved + POST /admin/reload): 0 failed
 *   4. single baskets, our server serving gradient-boosted trees, then the same load on a FastAPI +
 *      XGBoost service doing the same work (bench/fastapi/: pydantic validation, bearer key, the same
 *      features from the same statistics, an XGBoost booster trained with our GBDT's settings on
 *      the same matrix), under uvicorn with one worker process per core; one after the other, never
 *      both at once.                          target: ours ≥ 10 × FastAPI's req/s
 *
 * Phase 4 needs Debian's python3-fastapi, python3-uvicorn and python3-xgboost (bin/setup installs
 * them); without them it is skipped with a message saying so, as with --skip-fastapi.
 *
 * Numbers on a shared machine are indicative: the load generator and the server share the cores.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { FASTAPI_SPEED_PACKAGES, fastApiUnavailableReason, prepareFastApiModel, startFastApiService, type FastApiModel, type FastApiService } from './fastapi-service';
import { servedModelFixture, type ServedModelFixture } from '../tests/helpers/served-model';

interface BenchSettings {
  readonly durationSeconds: number;
  readonly connections: number;
  readonly batchSize: number;
  readonly predictionLog: boolean;
  /** Prediction worker threads; undefined: the server's default. */
  readonly workers: number | undefined;
  /** Run the TypeScript sources through tsx instead of the tsc output. */
  readonly tsx: boolean;
  /** Skip phase 4 (the FastAPI + XGBoost comparison). */
  readonly skipFastApi: boolean;
  /** uvicorn worker processes of the FastAPI service: one per core, as our server spreads over the cores. */
  readonly fastApiWorkers: number;
}

const API_KEY = 'bench-api-key-0123456789';
const ADMIN_KEY = 'bench-admin-key-0123456789';
const repositoryRoot = path.resolve(__dirname, '..');

function parseSettings(argv: readonly string[]): BenchSettings {
  const value = (flag: string, fallback: number): number => {
    const index = argv.indexOf(flag);
    return index >= 0 ? Number(argv[index + 1]) : fallback;
  };
  return {
    durationSeconds: value('--duration', 10),
    connections: value('--connections', 50),
    batchSize: value('--batch-size', 100),
    predictionLog: argv.includes('--prediction-log'),
    workers: argv.includes('--workers') ? value('--workers', 2) : undefined,
    tsx: argv.includes('--tsx'),
    skipFastApi: argv.includes('--skip-fastapi'),
    fastApiWorkers: value('--fastapi-workers', availableParallelism()),
  };
}

interface RunningServer {
  readonly url: string;
  readonly child: ChildProcess;
}

/** The CLI as the image runs it: tsc's output, plain node (node_modules linked from the repository). */
async function compiledCli(directory: string): Promise<readonly [string, string]> {
  await promisify(execFile)(path.join(repositoryRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--outDir', path.join(directory, 'lib')], { cwd: repositoryRoot });
  symlinkSync(path.join(repositoryRoot, 'node_modules'), path.join(directory, 'node_modules'), 'dir');
  copyFileSync(path.join(repositoryRoot, 'package.json'), path.join(directory, 'package.json'));
  return [process.execPath, path.join(directory, 'lib/bin/retail-mlops.js')];
}

async function startServerProcess(
  fixture: ServedModelFixture,
  settings: BenchSettings,
  logDirectory: string,
  buildDirectory: string,
): Promise<RunningServer> {
  const [command, entry] = settings.tsx
    ? [path.join(repositoryRoot, 'node_modules/.bin/tsx'), path.join(repositoryRoot, 'bin/retail-mlops.ts')]
    : await compiledCli(buildDirectory);
  const args = [
    entry,
    'serve',
    '--registry',
    fixture.registryRoot,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--poll-interval',
    '0',
    '--json',
  ];
  if (settings.workers !== undefined) args.push('--workers', String(settings.workers));
  if (settings.predictionLog) args.push('--prediction-log', logDirectory);
  const child = spawn(command, args, {
    env: { ...process.env, RETAIL_MLOPS_API_KEYS: API_KEY, RETAIL_MLOPS_ADMIN_KEYS: ADMIN_KEY, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // `serve --json` prints one JSON document once the model is loaded and warmed
  let text = '';
  for await (const line of createInterface({ input: child.stdout! })) {
    text += line;
    try {
      const summary = JSON.parse(text) as { url: string };
      return { url: summary.url, child };
    } catch {
      // the document spans several lines
    }
  }
  throw new Error(`the server did not start:\n${stderr}`);
}

interface PhaseResult {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly basketsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly timeouts: number;
  readonly total: number;
}

async function runPhase(
  name: string,
  url: string,
  requestPath: string,
  bodies: readonly string[],
  basketsPerRequest: number,
  settings: BenchSettings,
  during?: () => Promise<void>,
): Promise<PhaseResult> {
  const instance = autocannon({
    url,
    connections: settings.connections,
    duration: settings.durationSeconds,
    timeout: 10,
    requests: bodies.map((body) => ({
      method: 'POST' as const,
      path: requestPath,
      headers: { 'content-type': 'application/json', 'authorization': `Bearer ${API_KEY}` },
      body,
    })),
  });
  const sideTask = during?.();
  const result = await instance;
  await sideTask;
  return {
    name,
    requestsPerSecond: result.requests.average,
    basketsPerSecond: result.requests.average * basketsPerRequest,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
    total: result.requests.total,
  };
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

async function bench(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const fixture = await servedModelFixture();
  const logDirectory = path.join(fixture.registryRoot, '..', `${path.basename(fixture.registryRoot)}-predictions`);
  const buildDirectory = await mkdtemp(path.join(tmpdir(), 'bench-serve-'));
  const loadBefore = loadavg();
  // the baseline's model is trained before any load, so that it never competes with a phase
  const baseline = await prepareBaseline(fixture, settings, buildDirectory);
  const server = await startServerProcess(fixture, settings, logDirectory, buildDirectory);
  let serverStopped = false;
  const stopServer = async (): Promise<void> => {
    if (serverStopped) return;
    serverStopped = true;
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
  };
  const results: PhaseResult[] = [];
  let comparison: { readonly ours: PhaseResult; readonly fastApi: PhaseResult; readonly service: FastApiService } | undefined;
  try {
    const singleBodies = fixture.baskets.slice(0, 500).map((basket) => JSON.stringify(basket));
    const basketAt = (position: number) => fixture.baskets[position % fixture.baskets.length];
    const batchBodies = Array.from({ length: 20 }, (_, index) =>
      JSON.stringify({ baskets: Array.from({ length: settings.batchSize }, (__, offset) => basketAt(index * settings.batchSize + offset)) }),
    );
    const how = `${settings.tsx ? 'tsx sources' : 'compiled'}${settings.predictionLog ? ', prediction log on' : ''}`;
    process.stderr.write(`server ${server.url} (${how}); ${settings.connections} connections, ${settings.durationSeconds} s per phase\n`);

    // a short warm-up (JIT, connection setup), not reported
    await runPhase('warm-up', server.url, '/v1/predict', singleBodies, 1, { ...settings, durationSeconds: 2 });
    results.push(await runPhase('single  POST /v1/predict', server.url, '/v1/predict', singleBodies, 1, settings));
    results.push(await runPhase(`batch   POST /v1/predict/batch (${settings.batchSize}/req)`, server.url, '/v1/predict/batch', batchBodies, settings.batchSize, settings));

    const swaps: string[] = [];
    const swap = async (target: string): Promise<void> => {
      await fixture.registry.setAlias('production', target, { actor: 'bench', reason: 'swap under load' });
      const response = await fetch(`${server.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const body = (await response.json()) as { modelVersion?: string; changed?: boolean; type?: string };
      swaps.push(`${response.status} → ${body.modelVersion ?? body.type} (changed: ${body.changed})`);
    };
    const third = (settings.durationSeconds * 1000) / 3;
    results.push(
      await runPhase('swap    POST /v1/predict, 2 model swaps', server.url, '/v1/predict', singleBodies, 1, settings, async () => {
        await sleep(third);
        await swap(fixture.versions.candidate);
        await sleep(third);
        await swap(fixture.versions.production);
      }),
    );
    process.stderr.write(`swaps: ${swaps.join('; ')}\n`);

    if (baseline !== undefined) {
      // 4. the same work on both sides: our server serving the GBDT, then FastAPI + XGBoost
      await swap(fixture.versions.gbdt);
      if (!swaps.at(-1)!.includes(fixture.versions.gbdt)) throw new Error(`could not serve the GBDT version: ${swaps.at(-1)}`);
      await runPhase('warm-up', server.url, '/v1/predict', singleBodies, 1, { ...settings, durationSeconds: 2 });
      const ours = await runPhase('single  POST /v1/predict, gbdt (ours)', server.url, '/v1/predict', singleBodies, 1, settings);
      results.push(ours);
      await stopServer();
      const service = await startFastApiService({ modelDirectory: baseline.directory, apiKeys: [API_KEY], workers: settings.fastApiWorkers });
      try {
        process.stderr.write(`FastAPI ${service.url} (${service.workers} uvicorn workers, ${service.loop}, ${service.http}; ${baseline.modelVersion})\n`);
        if (service.loop !== 'uvloop' || service.http !== 'httptools') {
          process.stderr.write(`bench:serve: uvicorn runs without uvloop/httptools, slower than a uvicorn[standard] deployment: bin/setup installs ${FASTAPI_SPEED_PACKAGES.join(' ')}\n`);
        }
        await runPhase('warm-up', service.url, '/v1/predict', singleBodies, 1, { ...settings, durationSeconds: 2 });
        const fastApi = await runPhase('single  POST /v1/predict, FastAPI + XGBoost', service.url, '/v1/predict', singleBodies, 1, settings);
        results.push(fastApi);
        comparison = { ours, fastApi, service };
      } finally {
        await service.stop();
      }
    }
  } finally {
    await stopServer();
    fixture.remove();
    await rm(buildDirectory, { recursive: true, force: true });
    await rm(logDirectory, { recursive: true, force: true });
  }

  const rows = results.map((result) => [
    result.name,
    Math.round(result.requestsPerSecond).toLocaleString('en'),
    Math.round(result.basketsPerSecond).toLocaleString('en'),
    `${result.p50} ms`,
    `${result.p99} ms`,
    String(result.errors + result.timeouts),
    String(result.non2xx),
    result.total.toLocaleString('en'),
  ]);
  const header = ['phase', 'req/s', 'baskets/s', 'p50', 'p99', 'errors', 'non-2xx', 'requests'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: readonly string[]): string => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  process.stdout.write(`${format(header)}\n${rows.map(format).join('\n')}\n`);
  const swapPhase = results[2];
  process.stdout.write(`failed during the swaps: ${swapPhase.errors + swapPhase.timeouts + swapPhase.non2xx}\n`);
  if (comparison !== undefined) {
    const { ours, fastApi, service } = comparison;
    const ratio = (value: number): string => (fastApi.requestsPerSecond > 0 ? `${(value / fastApi.requestsPerSecond).toFixed(1)}×` : 'n/a');
    process.stdout.write(
      `ours (gbdt) / FastAPI + XGBoost (${service.workers} uvicorn workers, ${service.loop}, ${service.http}): ` +
        `${ratio(ours.requestsPerSecond)} the req/s (target ≥ 10×); p99 ${ours.p99} ms vs ${fastApi.p99} ms\n` +
        `  for reference, the production logistic regression: ${ratio(results[0].requestsPerSecond)} FastAPI's req/s\n`,
    );
  }
  const load = (values: readonly number[]): string => values.map((value) => value.toFixed(2)).join(' ');
  process.stdout.write(`load average (1/5/15 min): ${load(loadBefore)} before, ${load(loadavg())} after; ${availableParallelism()} cores\n`);
}

/** The FastAPI baseline's model, or undefined (with the reason on stderr) when phase 4 is skipped. */
async function prepareBaseline(fixture: ServedModelFixture, settings: BenchSettings, directory: string): Promise<FastApiModel | undefined> {
  if (settings.skipFastApi) return undefined;
  const unavailable = fastApiUnavailableReason();
  if (unavailable !== undefined) {
    process.stderr.write(`bench:serve: skipping the FastAPI + XGBoost comparison: ${unavailable}\n`);
    return undefined;
  }
  const modelDirectory = path.join(directory, 'fastapi-model');
  mkdirSync(modelDirectory);
  const started = performance.now();
  const model = await prepareFastApiModel({
    registry: fixture.registry,
    reference: fixture.versions.gbdt,
    trainingMatrixDirectory: fixture.trainingMatrixDirectory,
    directory: modelDirectory,
  });
  process.stderr.write(`FastAPI baseline: ${model.modelVersion} trained in ${((performance.now() - started) / 1000).toFixed(1)} s on the matrix of ${model.statisticsVersion}\n`);
  return model;
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench:serve: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
