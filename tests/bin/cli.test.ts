import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
/** Runs the real CLI as a user would (`npm run --silent cli -- …` runs the same entry through tsx). */
export async function cli(args: readonly string[], options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'tsx', 'bin/retail-mlops.ts', ...args], { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe('retail-mlops CLI', () => {
  it('prints help and exits 0', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: retail-mlops');
  });

  it('exits 2 on an unknown command', async () => {
    const result = await cli(['no-such-command']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/error: /);
  });
});
