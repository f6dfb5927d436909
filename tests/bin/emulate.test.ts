/**
 * `npm run --silent emulate -- aws|azure` as a user runs it: one JSON line on stdout when ready; a
 * fresh process given only that environment reaches the emulated cloud with the SDKs' and the
 * providers' defaults (no endpoint, credential or certificate option), stores and reads objects,
 * and trains for real (the project's trainer in the project's image, identical to a local run; and
 * SageMaker's built-in XGBoost); SIGTERM stops everything, children included, frees the ports and
 * exits 0.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neutralEnvironment, startEmulate, type RunningEmulate } from '../helpers/emulate';
import { REPO_ROOT, temporaryDirectory } from '../helpers/paths';
import { xgboostUnavailableReason } from '../helpers/xgboost';

/** Runs the client script in a fresh process with only the announced environment. */
function runClient(cloud: 'aws' | 'azure', env: Record<string, string>, scratch: string): Promise<{ code: number | null; summary: Record<string, unknown>; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'emulated-cloud-client.ts'), cloud, scratch], {
      cwd: REPO_ROOT,
      env: { ...neutralEnvironment(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '{}';
      resolve({ code, summary: JSON.parse(line) as Record<string, unknown>, stderr });
    });
  });
}

/** Every process descending from `pid` (read from /proc). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

/** Running (a zombie, ended but not yet reaped by whoever adopted it, does not count). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** SIGTERM to npm, as a process manager sends it; the emulator and everything it started end. */
async function stopAndCheck(emulate: RunningEmulate, ports: readonly number[]): Promise<void> {
  const processes = descendants(emulate.child.pid!);
  expect(processes.length).toBeGreaterThanOrEqual(2);
  for (const port of ports) expect(await portAccepts(port)).toBe(true);
  emulate.child.kill('SIGTERM');
  const { code } = await emulate.exited;
  expect(code, emulate.stderr()).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const commandLine = (pid: number): string => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return 'ended';
    }
  };
  const survivors = processes.filter(alive).map((pid) => `${pid}: ${commandLine(pid)}`);
  expect(survivors).toEqual([]);
  for (const port of ports) expect(await portAccepts(port)).toBe(false);
  // exactly one line on stdout, from start to exit
  expect(emulate.stdout().trimEnd().split('\n')).toHaveLength(1);
  expect(emulate.stderr()).toMatch(/SIGTERM: stopping/);
}

const unavailable = xgboostUnavailableReason();

/** Starts `npm run emulate -- <cloud>` before the suite's tests and makes sure it is gone after them. */
function emulateAround(cloud: 'aws' | 'azure'): { readonly scratch: string; readonly running: () => RunningEmulate } {
  const scratch = temporaryDirectory(`emulate-${cloud}-`);
  let emulate: RunningEmulate | undefined;
  beforeAll(async () => {
    emulate = await startEmulate(cloud);
  });
  afterAll(async () => {
    if (emulate && emulate.child.exitCode === null) emulate.child.kill('SIGTERM');
    await emulate?.exited;
    scratch.remove();
  });
  return { scratch: scratch.path, running: () => emulate! };
}


describe('npm run emulate -- aws', () => {
  const suite = emulateAround('aws');

  it('prints one JSON line: the provider, the variables to export, the lake and the registry', () => {
    const { provider, env, lake, registry } = suite.running().announcement;
    expect(provider).toBe('aws');
    expect(lake).toBe('s3://retail-mlops-dev/lake');
    expect(registry).toBe('s3://retail-mlops-dev/registry');
    expect(Object.keys(env).sort()).toEqual([
      'AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL_GLUE', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SAGEMAKER', 'AWS_REGION', 'AWS_REQUEST_CHECKSUM_CALCULATION',
      'AWS_RESPONSE_CHECKSUM_VALIDATION', 'AWS_SECRET_ACCESS_KEY', 'RETAIL_MLOPS_AWS_IMAGE', 'RETAIL_MLOPS_AWS_ROLE_ARN', 'RETAIL_MLOPS_AWS_S3_FORCE_PATH_STYLE',
      'RETAIL_MLOPS_ENVIRONMENT', 'RETAIL_MLOPS_LAKE', 'RETAIL_MLOPS_PROVIDER', 'RETAIL_MLOPS_REGISTRY',
    ]);
    expect(env).toMatchObject({ RETAIL_MLOPS_PROVIDER: 'aws', RETAIL_MLOPS_ENVIRONMENT: 'dev', RETAIL_MLOPS_LAKE: lake, RETAIL_MLOPS_REGISTRY: registry });
    for (const name of ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SAGEMAKER']) expect(env[name]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.skipIf(unavailable !== undefined)('lets the SDKs, configured by that environment alone, store objects and train for real (project trainer and XGBoost)', async () => {
    const { code, summary, stderr } = await runClient('aws', suite.running().announcement.env, suite.scratch);
    expect(summary.failure, stderr).toBeUndefined();
    expect(code).toBe(0);
    expect(summary.objectRoundTrip).toBe(true);
    expect(summary.glueAnswer).toBe('EntityNotFoundException: Table gold not found.');
    expect(summary.trained).toMatchObject({ 'lr': { engine: 'sagemaker', sameOnnxAsLocal: true }, 'sagemaker-xgboost': { engine: 'sagemaker' } });
    expect((summary.trained as Record<string, { accuracy: number }>)['sagemaker-xgboost'].accuracy).toBeGreaterThan(0.75);
  });

  it('stops everything on SIGTERM: exit 0, ports freed, no child left', async () => {
    const { env } = suite.running().announcement;
    await stopAndCheck(suite.running(), [portOf(env.AWS_ENDPOINT_URL_S3), portOf(env.AWS_ENDPOINT_URL_SAGEMAKER)]);
  });
});

describe('npm run emulate -- azure', () => {
  const suite = emulateAround('azure');

  it('prints one JSON line: the provider, the variables to export, the lake and the registry', () => {
    const { provider, env, lake, registry } = suite.running().announcement;
    expect(provider).toBe('azure');
    expect(lake).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/lake$/);
    expect(registry).toBe(lake.replace(/lake$/, 'registry'));
    expect(Object.keys(env).sort()).toEqual([
      'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'NODE_EXTRA_CA_CERTS', 'RETAIL_MLOPS_AZURE_COMPUTE', 'RETAIL_MLOPS_AZURE_IMAGE', 'RETAIL_MLOPS_AZURE_MANAGEMENT_ENDPOINT',
      'RETAIL_MLOPS_AZURE_RESOURCE_GROUP', 'RETAIL_MLOPS_AZURE_SUBSCRIPTION_ID', 'RETAIL_MLOPS_AZURE_WORKSPACE', 'RETAIL_MLOPS_ENVIRONMENT', 'RETAIL_MLOPS_LAKE',
      'RETAIL_MLOPS_PROVIDER', 'RETAIL_MLOPS_REGISTRY',
    ]);
    expect(readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8')).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('lets DefaultAzureCredential and the SDKs, configured by that environment alone, store blobs and run a command job for real', async () => {
    const { code, summary, stderr } = await runClient('azure', suite.running().announcement.env, suite.scratch);
    expect(summary.failure, stderr).toBeUndefined();
    expect(code).toBe(0);
    expect(summary.objectRoundTrip).toBe(true);
    expect(summary.trained).toMatchObject({ lr: { engine: 'azureml', sameOnnxAsLocal: true } });
  });

  it('stops everything on SIGTERM: exit 0, ports freed, azurite and every other child gone', async () => {
    const { env, lake } = suite.running().announcement;
    await stopAndCheck(suite.running(), [portOf(lake), portOf(env.RETAIL_MLOPS_AZURE_MANAGEMENT_ENDPOINT), portOf(env.IDENTITY_ENDPOINT)]);
  });
});
