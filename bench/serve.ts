/**
 * `npm run bench:serve [-- --duration 10 --connections 50 --batch-size 100 --processes <cores> --batch-processes 1 --workers <n> --prediction-log --tsx
 *                        --load-generator both|wrk|autocannon --skip-fastapi --skip-bare --fastapi-workers 2]`:
 * the prediction API under load, on loopback. Starts the real CLI (`retail-mlops serve`, a child
 * process, so the load generator does not share its event loop; the single-basket phases on one server
 * process per core, each with one prediction worker, the batch phase on one process with two, as README
 * recommends for each) on the trained test model, compiled
 * with tsc as the image runs it (`--tsx`: from the TypeScript sources instead), and prints req/s,
 * p50/p99 latency and errors for:
 *
 *   1. single baskets  (POST /v1/predict, real baskets of 10–14 lines)   target on 2 cores: ≥ 8,000 req/s,
 *                      p99 ≤ 20 ms, ≥ 60% of the bare node:http ceiling (5)
 *   2. batches         (POST /v1/predict/batch)    target: ≥ 300,000 baskets/s
 *   3. single baskets while the model is swapped twice (alias moved + POST /admin/reload): 0 failed
 *   4. single baskets, our server serving gradient-boosted trees (the work FastAPI does in 6)
 *   5. the ceiling: a bare node:http server that reads the same bodies and answers a fixed JSON
 *      document (bench/bare-http-server.ts)
 *   6. the same load on a FastAPI + XGBoost service doing our work (bench/fastapi/: pydantic
 *      validation, bearer key, the same features from the same statistics, an XGBoost booster
 *      trained with our GBDT's settings on the same matrix), under uvicorn with one worker process
 *      per core.                                   target: ours (4) ≥ 10 × FastAPI's req/s
 *
 * The single-basket phases (1, 4, 5, 6) run with both load generators, autocannon (npm) and wrk (a
 * Debian package: apt-get install -y wrk; without it only autocannon runs, and the bench says so).
 * The servers run one after the other, never two under load at once.
 *
 * Phase 6 needs Debian's python3-fastapi, python3-uvicorn and python3-xgboost (bin/setup installs
 * them); without them it is skipped with a message saying so, as with --skip-fastapi.
 *
 * Numbers on a shared machine are indicative: the load generator and the server share the cores, and
 * other work on the machine takes from both. Compare the ratios of one run, not runs, and read the
 * load average printed beside them; the server's CPU time per request (from /proc; the main thread's share beside it) moves less with
 * load than its req/s.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { FASTAPI_SPEED_PACKAGES, fastApiUnavailableReason, prepareFastApiModel, startFastApiService, type FastApiModel } from './fastapi-service';
import { runLoad, wrkUnavailableReason, type LoadGeneratorName, type LoadResult } from './load-generators';
import { servedModelFixture, type ServedModelFixture } from '../tests/helpers/served-model';

interface BenchSettings {
  readonly durationSeconds: number;
  readonly connections: number;
  readonly batchSize: number;
  readonly predictionLog: boolean;
  /** Prediction worker threads per server process; undefined: the server's default. */
  readonly workers: number | undefined;
  /** Server processes (`serve --processes`) of the single-basket phases. */
  readonly processes: number;
  /** Server processes of the batch phase. */
  readonly batchProcesses: number;
  /** Run the TypeScript sources through tsx instead of the tsc output. */
  readonly tsx: boolean;
  /** The load generators of the single-basket phases. */
  readonly generators: readonly LoadGeneratorName[];
  /** Skip phase 6 (the FastAPI + XGBoost comparison). */
  readonly skipFastApi: boolean;
  /** Skip phase 5 (the bare node:http ceiling). */
  readonly skipBare: boolean;
  /** uvicorn worker processes of the FastAPI service: one per core, as our server spreads over the cores. */
  readonly fastApiWorkers: number;
}

const API_KEY = 'bench-api-key-0123456789';
const ADMIN_KEY = 'bench-admin-key-0123456789';
const repositoryRoot = path.resolve(__dirname, '..');
/** The single-basket phases send real baskets of this many lines (the "a real 12-line basket", ± 2). */
const SINGLE_BASKET_LINES = { min: 10, max: 14 } as const;

function parseSettings(argv: readonly string[]): BenchSettings {
  const value = (flag: string, fallback: number): number => {
    const index = argv.indexOf(flag);
    return index >= 0 ? Number(argv[index + 1]) : fallback;
  };
  const generatorIndex = argv.indexOf('--load-generator');
  const wanted = generatorIndex >= 0 ? argv[generatorIndex + 1] : 'both';
  if (!['both', 'wrk', 'autocannon'].includes(wanted)) throw new Error(`--load-generator must be both, wrk or autocannon, got ${wanted}`);
  let generators: LoadGeneratorName[] = wanted === 'both' ? ['autocannon', 'wrk'] : [wanted as LoadGeneratorName];
  const wrkMissing = generators.includes('wrk') ? wrkUnavailableReason() : undefined;
  if (wrkMissing !== undefined) {
    process.stderr.write(`bench:serve: ${wrkMissing}\n`);
    generators = generators.filter((generator) => generator !== 'wrk');
    if (generators.length === 0) generators = ['autocannon'];
  }
  return {
    durationSeconds: value('--duration', 10),
    connections: value('--connections', 50),
    batchSize: value('--batch-size', 100),
    predictionLog: argv.includes('--prediction-log'),
    workers: argv.includes('--workers') ? value('--workers', 2) : undefined,
    processes: value('--processes', availableParallelism()),
    batchProcesses: value('--batch-processes', 1),
    tsx: argv.includes('--tsx'),
    generators,
    skipFastApi: argv.includes('--skip-fastapi'),
    skipBare: argv.includes('--skip-bare'),
    fastApiWorkers: value('--fastapi-workers', availableParallelism()),
  };
}

interface RunningServer {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The CLI as the image runs it: tsc's output, plain node (node_modules linked from the repository);
 * the bare ceiling server (outside the package's folders) compiled beside it.
 */
async function compile(directory: string): Promise<void> {
  const tsc = path.join(repositoryRoot, 'node_modules/.bin/tsc');
  await promisify(execFile)(tsc, ['-p', 'tsconfig.json', '--outDir', path.join(directory, 'lib')], { cwd: repositoryRoot });
  await promisify(execFile)(
    tsc,
    ['bench/bare-http-server.ts', '--ignoreConfig', '--outDir', path.join(directory, 'lib', 'bench'), '--module', 'nodenext', '--target', 'ES2022', '--types', 'node', '--skipLibCheck'],
    { cwd: repositoryRoot },
  );
  symlinkSync(path.join(repositoryRoot, 'node_modules'), path.join(directory, 'node_modules'), 'dir');
  copyFileSync(path.join(repositoryRoot, 'package.json'), path.join(directory, 'package.json'));
}

/** How to run a TypeScript entry point: compiled (plain node on tsc's output) or through tsx. */
function entryCommand(settings: BenchSettings, buildDirectory: string, source: string): readonly [string, string] {
  return settings.tsx
    ? [path.join(repositoryRoot, 'node_modules/.bin/tsx'), path.join(repositoryRoot, source)]
    : [process.execPath, path.join(buildDirectory, 'lib', source.replace(/\.ts$/, '.js'))];
}

/** `2 processes × 1 prediction worker` */
function layout(settings: BenchSettings, processes: number): string {
  const workers = settings.workers ?? (processes > 1 ? 1 : 2);
  return `${processes} process${processes > 1 ? 'es' : ''} × ${workers} prediction worker${workers > 1 ? 's' : ''}`;
}

/** Starts a process that prints one JSON document with its `url` on stdout once it serves. */
async function startProcess(command: string, args: readonly string[], environment: NodeJS.ProcessEnv): Promise<RunningServer> {
  const child = spawn(command, args, { env: { ...process.env, ...environment, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  // the JSON document may span several lines
  let text = '';
  for await (const line of createInterface({ input: child.stdout! })) {
    text += line;
    try {
      const summary = JSON.parse(text) as { url: string };
      return { url: summary.url, child, stop };
    } catch {
      // not complete yet
    }
  }
  throw new Error(`${path.basename(args[0])} did not start:\n${stderr}`);
}

function startApiServer(fixture: ServedModelFixture, settings: BenchSettings, logDirectory: string, buildDirectory: string, processes: number): Promise<RunningServer> {
  const [command, entry] = entryCommand(settings, buildDirectory, 'bin/retail-mlops.ts');
  const args = [entry, 'serve', '--registry', fixture.registryRoot, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0', '--json'];
  if (settings.workers !== undefined) args.push('--workers', String(settings.workers));
  args.push('--processes', String(processes));
  if (settings.predictionLog) args.push('--prediction-log', logDirectory);
  return startProcess(command, args, { RETAIL_MLOPS_API_KEYS: API_KEY, RETAIL_MLOPS_ADMIN_KEYS: ADMIN_KEY });
}

/** CPU seconds a process (`/proc/<pid>/stat`) or one of its threads (`/proc/<pid>/task/<tid>/stat`) has used so far (user + system), or undefined off Linux. */
function cpuSecondsOf(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  // the fields after the command name (which may hold spaces); utime and stime are the 12th and 13th
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process and its descendants (the server processes `serve --processes` forks), from /proc. */
function processTree(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  const children = existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
  return [pid, ...children.flatMap(processTree)];
}

/**
 * CPU seconds of a process with its descendants, and of their main threads (each process's event
 * loop: the thread whose id is its pid).
 */
function cpuSeconds(pid: number | undefined): { readonly total: number; readonly main: number } | undefined {
  if (pid === undefined) return undefined;
  let total = 0;
  let main = 0;
  for (const member of processTree(pid)) {
    const memberTotal = cpuSecondsOf(`/proc/${member}/stat`);
    const memberMain = cpuSecondsOf(`/proc/${member}/task/${member}/stat`);
    if (memberTotal === undefined || memberMain === undefined) return undefined;
    total += memberTotal;
    main += memberMain;
  }
  return { total, main };
}

interface PhaseResult extends LoadResult {
  readonly name: string;
  readonly basketsPerSecond: number;
  /** The server process's CPU time per answered request, in microseconds (undefined when not measured). */
  readonly cpuMicroseconds: number | undefined;
  /** The part of it on the main thread (the event loop: HTTP, auth, hand-off, answers), in microseconds. */
  readonly mainCpuMicroseconds: number | undefined;
}

interface Phase {
  readonly name: string;
  readonly server: RunningServer | { readonly url: string; readonly child?: undefined };
  readonly path: string;
  readonly bodies: readonly string[];
  readonly basketsPerRequest: number;
  readonly generator: LoadGeneratorName;
  readonly durationSeconds?: number;
  readonly during?: () => Promise<void>;
}

async function runPhase(phase: Phase, settings: BenchSettings, scratchDirectory: string): Promise<PhaseResult> {
  const cpuBefore = cpuSeconds(phase.server.child?.pid);
  const loading = runLoad(phase.generator, {
    url: phase.server.url,
    path: phase.path,
    headers: { 'content-type': 'application/json', 'authorization': `Bearer ${API_KEY}` },
    bodies: phase.bodies,
    connections: settings.connections,
    durationSeconds: phase.durationSeconds ?? settings.durationSeconds,
    scratchDirectory,
  });
  const sideTask = phase.during?.();
  const result = await loading;
  await sideTask;
  const cpuAfter = cpuSeconds(phase.server.child?.pid);
  const measured = cpuBefore !== undefined && cpuAfter !== undefined && result.total > 0;
  const cpuMicroseconds = measured ? ((cpuAfter.total - cpuBefore.total) * 1e6) / result.total : undefined;
  const mainCpuMicroseconds = measured ? ((cpuAfter.main - cpuBefore.main) * 1e6) / result.total : undefined;
  return { ...result, name: `${phase.name} [${phase.generator}]`, basketsPerSecond: result.requestsPerSecond * phase.basketsPerRequest, cpuMicroseconds, mainCpuMicroseconds };
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

async function bench(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const fixture = await servedModelFixture();
  const logDirectory = path.join(fixture.registryRoot, '..', `${path.basename(fixture.registryRoot)}-predictions`);
  const buildDirectory = await mkdtemp(path.join(tmpdir(), 'bench-serve-'));
  const loadBefore = loadavg();
  if (!settings.tsx) await compile(buildDirectory);
  // the baseline's model is trained before any load, so that it never competes with a phase
  const baseline = await prepareBaseline(fixture, settings, buildDirectory);
  const results: PhaseResult[] = [];
  const servers: RunningServer[] = [];
  const started = async (server: Promise<RunningServer>): Promise<RunningServer> => {
    const running = await server;
    servers.push(running);
    return running;
  };
  const single = fixture.baskets.filter((basket) => basket.lines.length >= SINGLE_BASKET_LINES.min && basket.lines.length <= SINGLE_BASKET_LINES.max);
  const singleBodies = single.map((basket) => JSON.stringify(basket));
  const basketAt = (position: number) => fixture.baskets[position % fixture.baskets.length];
  const batchBodies = Array.from({ length: 20 }, (_, index) =>
    JSON.stringify({ baskets: Array.from({ length: settings.batchSize }, (__, offset) => basketAt(index * settings.batchSize + offset)) }),
  );
  const run = async (phase: Phase): Promise<PhaseResult> => {
    const result = await runPhase(phase, settings, buildDirectory);
    if (!phase.name.startsWith('warm-up')) results.push(result);
    return result;
  };
  const warmUp = (server: RunningServer, generator: LoadGeneratorName = 'autocannon') =>
    run({ name: 'warm-up', server, path: '/v1/predict', bodies: singleBodies, basketsPerRequest: 1, generator, durationSeconds: 2 });
  const swaps: string[] = [];
  let swapFailures = 0;
  let fastApiDescription: string | undefined;
  try {
    const api = await started(startApiServer(fixture, settings, logDirectory, buildDirectory, settings.processes));
    const how = `${settings.tsx ? 'tsx sources' : 'compiled'}, ${layout(settings, settings.processes)}${settings.predictionLog ? ', prediction log on' : ''}`;
    process.stderr.write(
      `server ${api.url} (${how}); ${settings.connections} connections, ${settings.durationSeconds} s per phase; ` +
        `${singleBodies.length} real baskets of ${SINGLE_BASKET_LINES.min}–${SINGLE_BASKET_LINES.max} lines; load generators: ${settings.generators.join(', ')}\n`,
    );
    // 1. single baskets, the production model (logistic regression)
    await warmUp(api);
    for (const generator of settings.generators) {
      await run({ name: 'single   POST /v1/predict', server: api, path: '/v1/predict', bodies: singleBodies, basketsPerRequest: 1, generator });
    }
    // 2. batches, on a server laid out for them (--batch-processes; README: one process and its workers do more for batches)
    const batches = (server: RunningServer) =>
      run({
        name: `batch    POST /v1/predict/batch (${settings.batchSize}/req; ${layout(settings, settings.batchProcesses)})`,
        server,
        path: '/v1/predict/batch',
        bodies: batchBodies,
        basketsPerRequest: settings.batchSize,
        generator: 'autocannon',
      });
    if (settings.batchProcesses === settings.processes) await batches(api);
    // 3. two model swaps under load
    const swap = async (target: string): Promise<void> => {
      await fixture.registry.setAlias('production', target, { actor: 'bench', reason: 'swap under load' });
      const response = await fetch(`${api.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const body = (await response.json()) as { modelVersion?: string; changed?: boolean; type?: string };
      swaps.push(`${response.status} → ${body.modelVersion ?? body.type} (changed: ${body.changed})`);
    };
    const third = (settings.durationSeconds * 1000) / 3;
    const swapped = await run({
      name: 'swap     POST /v1/predict, 2 model swaps',
      server: api,
      path: '/v1/predict',
      bodies: singleBodies,
      basketsPerRequest: 1,
      generator: 'autocannon',
      during: async () => {
        await sleep(third);
        await swap(fixture.versions.candidate);
        await sleep(third);
        await swap(fixture.versions.production);
      },
    });
    swapFailures = swapped.errors + swapped.non2xx;
    process.stderr.write(`swaps: ${swaps.join('; ')}\n`);
    // 4. single baskets, gradient-boosted trees (the work of the FastAPI baseline)
    await swap(fixture.versions.gbdt);
    if (!swaps.at(-1)!.includes(fixture.versions.gbdt)) throw new Error(`could not serve the GBDT version: ${swaps.at(-1)}`);
    await warmUp(api);
    for (const generator of settings.generators) {
      await run({ name: 'single   POST /v1/predict, gbdt', server: api, path: '/v1/predict', bodies: singleBodies, basketsPerRequest: 1, generator });
    }
    await api.stop();
    if (settings.batchProcesses !== settings.processes) {
      await fixture.registry.setAlias('production', fixture.versions.production, { actor: 'bench', reason: 'batches' });
      const batchApi = await started(startApiServer(fixture, settings, logDirectory, buildDirectory, settings.batchProcesses));
      await warmUp(batchApi);
      await batches(batchApi);
      await batchApi.stop();
    }

    // 5. the bare node:http ceiling
    if (!settings.skipBare) {
      const [command, entry] = entryCommand(settings, buildDirectory, 'bench/bare-http-server.ts');
      const bare = await started(startProcess(command, [entry, '0'], {}));
      await warmUp(bare);
      for (const generator of settings.generators) {
        await run({ name: 'ceiling  bare node:http (reads the body, fixed answer)', server: bare, path: '/v1/predict', bodies: singleBodies, basketsPerRequest: 1, generator });
      }
      await bare.stop();
    }

    // 6. FastAPI + XGBoost
    if (baseline !== undefined) {
      const service = await startFastApiService({ modelDirectory: baseline.directory, apiKeys: [API_KEY], workers: settings.fastApiWorkers });
      try {
        fastApiDescription = `${service.workers} uvicorn workers, ${service.loop}, ${service.http}`;
        process.stderr.write(`FastAPI ${service.url} (${fastApiDescription}; ${baseline.modelVersion})\n`);
        if (service.loop !== 'uvloop' || service.http !== 'httptools') {
          process.stderr.write(`bench:serve: uvicorn runs without uvloop/httptools, slower than a uvicorn[standard] deployment: bin/setup installs ${FASTAPI_SPEED_PACKAGES.join(' ')}\n`);
        }
        const fastApi = { url: service.url };
        await run({ name: 'warm-up', server: fastApi, path: '/v1/predict', bodies: singleBodies, basketsPerRequest: 1, generator: 'autocannon', durationSeconds: 2 });
        for (const generator of settings.generators) {
          await run({ name: 'single   POST /v1/predict, FastAPI + XGBoost', server: fastApi, path: '/v1/predict', bodies: singleBodies, basketsPerRequest: 1, generator });
        }
      } finally {
        await service.stop();
      }
    }
  } finally {
    for (const server of servers) await server.stop();
    fixture.remove();
    await rm(buildDirectory, { recursive: true, force: true });
    await rm(logDirectory, { recursive: true, force: true });
  }
  report(results, settings, { swapFailures, fastApiDescription, loadBefore });
}

function report(
  results: readonly PhaseResult[],
  settings: BenchSettings,
  context: { readonly swapFailures: number; readonly fastApiDescription: string | undefined; readonly loadBefore: readonly number[] },
): void {
  const rows = results.map((result) => [
    result.name,
    Math.round(result.requestsPerSecond).toLocaleString('en'),
    Math.round(result.basketsPerSecond).toLocaleString('en'),
    `${result.p50} ms`,
    `${result.p99} ms`,
    String(result.errors),
    String(result.non2xx),
    result.total.toLocaleString('en'),
    result.cpuMicroseconds === undefined ? '' : `${result.cpuMicroseconds.toFixed(1)} µs`,
    result.mainCpuMicroseconds === undefined ? '' : `${result.mainCpuMicroseconds.toFixed(1)} µs`,
  ]);
  const header = ['phase', 'req/s', 'baskets/s', 'p50', 'p99', 'errors', 'non-2xx', 'requests', 'server CPU/req', 'main thread'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: readonly string[]): string => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  process.stdout.write(`${format(header)}\n${rows.map(format).join('\n')}\n`);
  process.stdout.write(`failed during the swaps: ${context.swapFailures}\n`);
  const find = (prefix: string, generator: LoadGeneratorName) => results.find((result) => result.name.startsWith(prefix) && result.name.endsWith(`[${generator}]`));
  for (const generator of settings.generators) {
    const ours = find('single   POST /v1/predict [', generator);
    const gbdt = find('single   POST /v1/predict, gbdt', generator);
    const bare = find('ceiling', generator);
    const fastApi = find('single   POST /v1/predict, FastAPI', generator);
    const parts: string[] = [];
    if (ours && bare) {
      parts.push(`ours / bare node:http: ${percent(ours, bare)} (lr), ${gbdt ? percent(gbdt, bare) : 'n/a'} (gbdt) of its req/s (target ≥ 60%)`);
      if (ours.cpuMicroseconds !== undefined && bare.cpuMicroseconds !== undefined) {
        parts.push(`server CPU per request ${ours.cpuMicroseconds.toFixed(1)} µs (main thread ${ours.mainCpuMicroseconds?.toFixed(1)} µs) vs ${bare.cpuMicroseconds.toFixed(1)} µs`);
      }
    }
    if (gbdt && fastApi) {
      parts.push(`ours (gbdt) / FastAPI + XGBoost (${context.fastApiDescription}): ${(gbdt.requestsPerSecond / fastApi.requestsPerSecond).toFixed(1)}× the req/s (target ≥ 10×), p99 ${gbdt.p99} ms vs ${fastApi.p99} ms`);
    }
    if (parts.length > 0) process.stdout.write(`${generator}: ${parts.join('; ')}\n`);
  }
  const load = (values: readonly number[]): string => values.map((value) => value.toFixed(2)).join(' ');
  process.stdout.write(`load average (1/5/15 min): ${load(context.loadBefore)} before, ${load(loadavg())} after; ${availableParallelism()} cores\n`);
}

function percent(ours: PhaseResult, ceiling: PhaseResult): string {
  return ceiling.requestsPerSecond > 0 ? `${Math.round((100 * ours.requestsPerSecond) / ceiling.requestsPerSecond)}%` : 'n/a';
}

/** The FastAPI baseline's model, or undefined (with the reason on stderr) when phase 6 is skipped. */
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
