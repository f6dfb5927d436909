/**
 * `npm run --silent emulate -- aws|azure` as a user starts it, for tests: waits for its one JSON line
 * and hands back the announcement (the environment to export, the lake and the registry).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './paths';

export interface EmulateAnnouncement {
  readonly provider: string;
  readonly env: Record<string, string>;
  readonly lake: string;
  readonly registry: string;
}

export interface RunningEmulate {
  readonly child: ChildProcess;
  readonly announcement: EmulateAnnouncement;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/** The environment of a process on this machine, without any cloud configuration of its own. */
export function neutralEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|AZURE_|IDENTITY_|MSI_|IMDS_|RETAIL_MLOPS_|NODE_EXTRA_CA_CERTS$)/.test(name)));
}

/** Starts the emulators; resolves once they printed their line (rejects when they exit first or take over 120 s). */
export async function startEmulate(cloud: 'aws' | 'azure'): Promise<RunningEmulate> {
  const child = spawn('npm', ['run', '--silent', 'emulate', '--', cloud], { cwd: REPO_ROOT, env: neutralEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no JSON line in 120 s; stderr: ${stderr}`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(stdout.slice(0, stdout.indexOf('\n')));
      }
    });
    void exited.then(({ code }) => reject(new Error(`emulate exited with ${code} before it was ready: ${stderr}`)));
  });
  return { child, announcement: JSON.parse(firstLine) as EmulateAnnouncement, stdout: () => stdout, stderr: () => stderr, exited };
}
