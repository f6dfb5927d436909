/**
 * `npm run azure:destroy -- <env>`: a dry run by default, `az group delete` with --yes, production
 * refused without --allow-production; run as a user would, against a stand-in `az` on PATH.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDestroyArguments } from '../../../providers/azure/infra/destroy';
import { REPO_ROOT, temporaryDirectory } from '../../helpers/paths';

describe('npm run azure:destroy', () => {
  const scratch = temporaryDirectory('azure-destroy-');
  afterAll(() => scratch.remove());
  const bin = path.join(scratch.path, 'bin');
  const calls = path.join(scratch.path, 'az.calls');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'az'), `#!/bin/sh\necho "$*" >> "${calls}"\n`);
  chmodSync(path.join(bin, 'az'), 0o755);
  const destroy = (...args: string[]) => {
    const result = spawnSync('npm', ['run', '--silent', 'azure:destroy', '--', ...args], { cwd: REPO_ROOT, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
    return { status: result.status, stderr: result.stderr };
  };

  it('without --yes says what it would delete and what is kept, and deletes nothing', () => {
    const result = destroy('dev');
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/deletes resource group rg-retail-mlops-dev/);
    expect(result.stderr).toMatch(/Key Vault: soft-deleted for 90 days/);
    expect(result.stderr).toMatch(/dry run: add --yes to run {2}az group delete --name rg-retail-mlops-dev --yes/);
    expect(existsSync(calls)).toBe(false);
  });

  it('with --yes deletes the resource group (or the one named)', () => {
    expect(destroy('staging', '--resource-group', 'rg-team-staging', '--yes').status).toBe(0);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['group delete --name rg-team-staging --yes']);
  });

  it('refuses production without --allow-production (exit 2), and names the lock', () => {
    const result = destroy('production', '--yes');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/refusing to delete production.*--allow-production.*CanNotDelete lock/);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(destroy('production', '--yes', '--allow-production').status).toBe(0);
    expect(readFileSync(calls, 'utf8').trim().split('\n').at(-1)).toBe('group delete --name rg-retail-mlops-production --yes');
  });

  it('refuses an unknown environment or option with the usage', () => {
    expect(() => parseDestroyArguments(['qa'])).toThrow(/usage: npm run azure:destroy -- <dev\|staging\|production>/);
    expect(() => parseDestroyArguments(['dev', '--force'])).toThrow(/unknown option --force/);
    expect(destroy().status).toBe(2);
  });
});
