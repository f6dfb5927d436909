/**
 * Running a training job's process the way a managed service would, on this machine: this
 * install's own `retail-mlops` CLI (what the project's container image runs), or another program
 * (Debian's python3 for the built-in XGBoost). Each process gets its own process group so stopping
 * a job (or the emulator) ends it and everything it started.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { EmulatorError } from './errors';

export interface Invocation {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * How this install runs its own CLI, resolved next to this file: in the repository (TypeScript
 * sources) `node <tsx cli> bin/retail-mlops.ts`; in a compiled install `node lib/bin/retail-mlops.js`.
 */
export function ownCliInvocation(): Invocation {
  const root = path.resolve(__dirname, '../..');
  const compiled = path.join(root, 'bin', 'retail-mlops.js');
  if (existsSync(compiled)) return { command: process.execPath, args: [compiled] };
  const source = path.join(root, 'bin', 'retail-mlops.ts');
  if (!existsSync(source)) throw new EmulatorError(`cannot find this install's CLI next to ${__dirname} (looked for ${compiled} and ${source})`);
  let tsx: string;
  try {
    tsx = require.resolve('tsx/cli', { paths: [root] });
  } catch (error) {
    throw new EmulatorError(`running the CLI from its TypeScript sources needs tsx (a devDependency): ${(error as Error).message}`, { cause: error });
  }
  return { command: process.execPath, args: [tsx, source] };
}

export interface RunOptions {
  readonly cwd?: string;
  /** The whole environment of the process. */
  readonly env: NodeJS.ProcessEnv;
  /** Ends the process (and its group) when aborted. */
  readonly signal?: AbortSignal;
  /** Receives the process's output (stdout and stderr), e.g. to log it. */
  readonly onOutput?: (text: string) => void;
}

export interface RunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines of stderr (for a failure reason). */
  readonly stderrTail: string;
}

/** Runs a process to its end; never rejects for a non-zero exit (the caller reads `exitCode`). */
export function runProcess(invocation: Invocation, options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ exitCode: null, signal: 'SIGTERM', stderrTail: 'stopped before it started' });
      return;
    }
    const child = spawn(invocation.command, [...invocation.args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => options.onOutput?.(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr = (stderr + text).slice(-4096);
      options.onOutput?.(text);
    });
    const stop = (): void => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    child.once('error', (error) => {
      options.signal?.removeEventListener('abort', stop);
      reject(new EmulatorError(`cannot run ${invocation.command}: ${error.message}`, { cause: error }));
    });
    child.once('close', (exitCode, signal) => {
      options.signal?.removeEventListener('abort', stop);
      const lines = stderr.trimEnd().split('\n');
      resolve({ exitCode, signal, stderrTail: lines.slice(-5).join('\n') });
    });
  });
}
