import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';

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
