/** `retail-mlops serve --json` as a child process, as a user starts it, for tests. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './paths';

export interface ServeProcess {
  readonly url: string;
  /** The JSON document serve printed once ready. */
  readonly summary: Readonly<Record<string, unknown>>;
  readonly exit: Promise<number | null>;
  readonly stderr: () => string;
  signal(name: NodeJS.Signals): void;
  /** SIGTERM, then the exit code and what it wrote on stderr. */
  stop(): Promise<{ readonly code: number | null; readonly stderr: string }>;
}

/** The CLI from the TypeScript sources (what `npm run cli` runs). */
export const SOURCE_CLI: readonly [string, string] = [path.join(REPO_ROOT, 'node_modules/.bin/tsx'), path.join(REPO_ROOT, 'bin/retail-mlops.ts')];

/**
 * Starts `serve --json <args>` with `env` over this process's environment (`baseEnvironment` to replace that);
 * resolves once it printed its summary.
 */
export async function serveCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { readonly command?: readonly [string, string]; readonly baseEnvironment?: NodeJS.ProcessEnv } = {},
): Promise<ServeProcess> {
  const [executable, entry] = options.command ?? SOURCE_CLI;
  const child = spawn(executable, [entry, 'serve', '--json', ...args], {
    cwd: REPO_ROOT,
    env: { ...(options.baseEnvironment ?? process.env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let text = '';
  for await (const line of createInterface({ input: child.stdout })) {
    text += line;
    try {
      const summary = JSON.parse(text) as { url: string };
      return {
        url: summary.url,
        summary,
        exit,
        stderr: () => stderr,
        signal: (name) => child.kill(name),
        async stop() {
          child.kill('SIGTERM');
          return { code: await exit, stderr };
        },
      };
    } catch {
      // the document spans lines
    }
  }
  throw new Error(`serve exited (${await exit}) before it was ready:\n${stderr}`);
}
