/**
 * Azure Blob Storage on loopback: azurite's Blob service (a devDependency) as a child process, with
 * telemetry off. Two ways:
 *
 * - plain (tests): http, in memory, shared-key auth with azurite's published development key;
 * - as the Azure emulator runs it: https with the emulator's certificate and `--oauth basic`, so the
 *   production code's own bearer tokens (DefaultAzureCredential → the emulator's managed-identity
 *   endpoint) are accepted, the objects kept in a directory.
 *
 * `--skipApiVersionCheck`: the installed @azure/storage-blob speaks a newer service version than
 * azurite 3.35 (the last line that runs on Node 20) knows; the operations the provider uses exist in both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { StorageSharedKeyCredential } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { EmulatorError } from '../../emulation/errors';
import { LOOPBACK } from '../../emulation/http';

/** Azurite's well-known development account (documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /**
   * Keep the blobs in this directory.
   * @default - in memory
   */
  readonly location?: string;
  /**
   * Serve https with this certificate and accept bearer tokens (`--oauth basic`).
   * @default - plain http, shared key only
   */
  readonly https?: { readonly certificatePath: string; readonly privateKeyPath: string };
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default - silent */
  readonly log?: (line: string) => void;
}

export interface RunningAzurite {
  /** `http(s)://127.0.0.1:<port>/devstoreaccount1` */
  readonly accountUrl: string;
  readonly port: number;
  readonly stop: () => Promise<void>;
}

/** Starts azurite's Blob service; resolves once it listens. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  let main: string;
  try {
    const manifest = require.resolve('azurite/package.json');
    main = path.join(path.dirname(manifest), 'dist', 'src', 'blob', 'main.js');
  } catch (error) {
    throw new EmulatorError(`azurite is not installed (it is a devDependency: npm install): ${(error as Error).message}`, { cause: error });
  }
  const args = [
    main,
    '--blobHost', LOOPBACK,
    '--blobPort', String(options.port ?? 0),
    '--disableTelemetry',
    '--skipApiVersionCheck',
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence', '--extentMemoryLimit', '1024']),
    ...(options.https ? ['--cert', options.https.certificatePath, '--key', options.https.privateKeyPath, '--oauth', 'basic'] : []),
    ...(options.log ? [] : ['--silent']),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.location });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new EmulatorError(`azurite did not start in 60 s: ${output}`));
    }, 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listens on https?:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new EmulatorError(`azurite exited with ${code}: ${output.trim()}`));
    });
  });
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  if (options.log) {
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').trimEnd().split('\n')) options.log?.(`azurite: ${line}`);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  return {
    accountUrl: `${options.https ? 'https' : 'http'}://${LOOPBACK}:${port}/${AZURITE_ACCOUNT}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The shared-key credential of azurite's development account (loads the SDK). */
export async function azuriteCredential(): Promise<StorageSharedKeyCredential> {
  const { StorageSharedKeyCredential } = await import('@azure/storage-blob');
  return new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY);
}
