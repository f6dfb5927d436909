/**
 * The FastAPI + XGBoost baseline (bench/fastapi/) from TypeScript: prepares its model directory from a
 * registry version and a training matrix, and starts and stops the service (uvicorn, N worker
 * processes) on a loopback port. `npm run bench:serve` compares our server with it; the tests check
 * that it does the same work (tests/bench/fastapi-baseline.test.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { BENCH_BOOSTING_SETTINGS, SYSTEM_PYTHON, trainXGBoost, type BoostingSettings } from './xgboost';
import { VOCABULARIES } from '../core/features/basket-batch';
import { FEATURE_SPEC } from '../core/features/spec';
import { parseStatisticsArtifact } from '../core/features/statistics-artifact';
import type { ModelRegistry } from '../core/registry/port';
import { ARTIFACT_NAMES } from '../core/registry/types';
import { PRICE_SENSITIVITY_CLASSES } from '../core/schema/lgsr';

/** The Debian packages the baseline runs on (bin/setup installs them). */
export const FASTAPI_PACKAGES = ['python3-fastapi', 'python3-uvicorn', 'python3-xgboost'] as const;
/** What uvicorn[standard] adds, as a FastAPI deployment runs it: faster, so the baseline uses them when installed. */
export const FASTAPI_SPEED_PACKAGES = ['python3-uvloop', 'python3-httptools'] as const;

const SERVICE_DIRECTORY = path.join(__dirname, 'fastapi');

/** Why the baseline cannot run here (a sentence saying how to install what is missing), or undefined when it can. */
export function fastApiUnavailableReason(python: string = SYSTEM_PYTHON): string | undefined {
  const result = spawnSync(python, ['-c', 'import fastapi, uvicorn, xgboost, numpy, pydantic'], { encoding: 'utf8' });
  if (result.status === 0) return undefined;
  const why = (result.stderr || result.error?.message || '').trim().split('\n').at(-1);
  return (
    `${python} cannot run the FastAPI + XGBoost baseline (${why}). Install Debian's ${FASTAPI_PACKAGES.join(' ')}: ` +
    `bin/setup does, or apt-get install -y --no-install-recommends ${FASTAPI_PACKAGES.join(' ')}`
  );
}

export interface FastApiModelOptions {
  readonly registry: ModelRegistry;
  /** The registry version (or alias) whose feature statistics the service computes features from. */
  readonly reference: string;
  /** The matrix that version was trained on (bench/training-matrix.ts's layout); XGBoost trains on its training rows. */
  readonly trainingMatrixDirectory: string;
  /** Where the model directory is written (it must exist). */
  readonly directory: string;
  /** @default BENCH_BOOSTING_SETTINGS */
  readonly settings?: BoostingSettings;
  /** @default SYSTEM_PYTHON */
  readonly python?: string;
}

export interface FastApiModel {
  readonly directory: string;
  /** What the service answers as `modelVersion`: `xgboost-` + the booster's SHA-256 prefix. */
  readonly modelVersion: string;
  /** The registry version whose statistics it uses. */
  readonly statisticsVersion: string;
}

/**
 * Writes the baseline's model directory: the version's `feature-statistics.json` exactly as the
 * registry stores it (checked as our server checks it), an XGBoost booster trained with `settings`
 * on the same matrix, and serving.json (the feature spec, classes and vocabularies the service checks).
 */
export async function prepareFastApiModel(options: FastApiModelOptions): Promise<FastApiModel> {
  const version = await options.registry.get(options.reference);
  const statistics = await options.registry.getArtifact(version.id, ARTIFACT_NAMES.featureStatistics);
  parseStatisticsArtifact(statistics);
  writeFileSync(path.join(options.directory, 'feature-statistics.json'), statistics);
  const boosterFile = path.join(options.directory, 'booster.json');
  await trainXGBoost({
    matrixDirectory: options.trainingMatrixDirectory,
    classCount: PRICE_SENSITIVITY_CLASSES.length,
    settings: options.settings ?? BENCH_BOOSTING_SETTINGS,
    threads: 1,
    modelFile: boosterFile,
    python: options.python,
  });
  const modelVersion = `xgboost-${createHash('sha256').update(readFileSync(boosterFile)).digest('hex').slice(0, 12)}`;
  const serving = {
    modelVersion,
    statisticsVersion: version.id,
    featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash, names: FEATURE_SPEC.names },
    classes: PRICE_SENSITIVITY_CLASSES,
    vocabularies: {
      storeFormat: VOCABULARIES.storeFormat,
      storeRegion: VOCABULARIES.storeRegion,
      basketType: VOCABULARIES.basketType,
      mission: VOCABULARIES.mission,
    },
  };
  writeFileSync(path.join(options.directory, 'serving.json'), `${JSON.stringify(serving, null, 2)}\n`);
  return { directory: options.directory, modelVersion, statisticsVersion: version.id };
}

export interface FastApiServiceOptions {
  readonly modelDirectory: string;
  readonly apiKeys: readonly string[];
  /** uvicorn worker processes. */
  readonly workers: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** uvicorn's event loop. @default 'auto' (uvloop when installed) */
  readonly loop?: 'auto' | 'asyncio' | 'uvloop';
  /** uvicorn's HTTP parser. @default 'auto' (httptools when installed) */
  readonly http?: 'auto' | 'h11' | 'httptools';
  /** Give up when not every worker is ready by then. @default 60_000 */
  readonly startTimeoutMs?: number;
  /** @default SYSTEM_PYTHON */
  readonly python?: string;
}

export interface FastApiService {
  readonly url: string;
  readonly workers: number;
  /** The event loop and HTTP parser uvicorn picked (uvloop/asyncio, httptools/h11). */
  readonly loop: string;
  readonly http: string;
  /** SIGTERM (uvicorn stops its workers), SIGKILL to the process group after 10 s. */
  stop(): Promise<void>;
}

/** Starts bench/fastapi/serve.py on an OS-chosen loopback port; resolves once every worker has loaded the model. */
export async function startFastApiService(options: FastApiServiceOptions): Promise<FastApiService> {
  const args = [path.join(SERVICE_DIRECTORY, 'serve.py'), '--model', options.modelDirectory, '--host', options.host ?? '127.0.0.1', '--port', '0', '--workers', String(options.workers)];
  if (options.loop !== undefined) args.push('--loop', options.loop);
  if (options.http !== undefined) args.push('--http', options.http);
  // its own process group, so that stop() can reach the workers too if the supervisor does not answer
  const child = spawn(options.python ?? SYSTEM_PYTHON, args, {
    env: { ...process.env, RETAIL_MLOPS_API_KEYS: options.apiKeys.join(','), PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        resolve();
      }, 10_000);
    });
    await Promise.race([exited, forced]);
    clearTimeout(timer);
    await exited;
  };

  const lines = createInterface({ input: child.stdout! });
  let timeout: NodeJS.Timeout | undefined;
  try {
    const started = new Promise<FastApiService>((resolve, reject) => {
      let listening: { url: string; workers: number; loop: string; http: string } | undefined;
      let ready = 0;
      lines.on('line', (line) => {
        let event: { event?: string; url?: string; workers?: number; loop?: string; http?: string };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          return; // not one of ours
        }
        if (event.event === 'listening') listening = event as typeof listening;
        if (event.event === 'ready') ready += 1;
        if (listening !== undefined && ready >= options.workers) resolve({ ...listening, stop });
      });
      void exited.then(() => reject(new Error(`the FastAPI service exited before it was ready (code ${child.exitCode}, signal ${child.signalCode}):\n${stderr}`)));
      timeout = setTimeout(
        () => reject(new Error(`the FastAPI service was not ready after ${(options.startTimeoutMs ?? 60_000) / 1000} s:\n${stderr}`)),
        options.startTimeoutMs ?? 60_000,
      );
    });
    return await started;
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timeout);
  }
}
