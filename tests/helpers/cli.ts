import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '../..');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI as a user would (`npm run --silent cli -- …` runs this same entry through tsx). */
export async function cli(
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv; /** @default process.env */ readonly baseEnvironment?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(path.join(repoRoot, 'node_modules/.bin/tsx'), [path.join(repoRoot, 'bin/retail-mlops.ts'), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...(options.baseEnvironment ?? process.env), ...options.env },
      maxBuffer: 256 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}
