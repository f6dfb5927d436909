/**
 * A real azurite Blob emulator for tests: in memory, telemetry off, on an ephemeral loopback port.
 * Its account key is azurite's published development key (not a secret).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { StorageSharedKeyCredential } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { REPO_ROOT } from './paths';

/** Azurite's well-known development account (documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  readonly accountUrl: string;
  readonly port: number;
  readonly stop: () => Promise<void>;
}

/** Starts `azurite-blob`; resolves once it listens. */
export async function startAzurite(): Promise<RunningAzurite> {
  const executable = path.join(REPO_ROOT, 'node_modules/.bin/azurite-blob');
  const child: ChildProcess = spawn(
    executable,
    ['--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--extentMemoryLimit', '1024', '--disableTelemetry', '--skipApiVersionCheck', '--silent'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`azurite did not start in 30 s: ${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`azurite exited with ${code}: ${output}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    accountUrl: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
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
