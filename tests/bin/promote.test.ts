import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelPins } from '../../manifests/model-pins';
import { createLocalRegistry } from '../../providers/local/registry';
import { sampleRegistration } from '../conformance/registry-fixtures';
import { cli } from '../helpers/cli';
import { REPO_ROOT, temporaryDirectory } from '../helpers/paths';

const git = (repository: string, ...args: string[]): string => execFileSync('git', ['-C', repository, ...args], { encoding: 'utf8' }).trim();

describe('GitOps promotion', () => {
  const scratch = temporaryDirectory();
  const repository = path.join(scratch.path, 'team-repo');
  const registryDir = path.join(scratch.path, 'registry');
  const versions: string[] = [];

  beforeAll(async () => {
    await fs.mkdir(path.join(repository, 'manifests'), { recursive: true });
    await fs.copyFile(path.join(REPO_ROOT, 'manifests', 'pins.json'), path.join(repository, 'manifests', 'pins.json'));
    git(repository, 'init', '--quiet', '--initial-branch', 'main');
    git(repository, 'add', '.');
    git(repository, '-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '--quiet', '--message', 'initial');
    const registry = createLocalRegistry({ root: registryDir });
    for (const seed of [1, 2]) {
      const { version } = await registry.register(sampleRegistration(seed));
      versions.push(version.id);
    }
    // only the first version passed its gate
    await registry.setAlias('candidate', versions[0], { actor: 'gate', reason: 'gate passed' });
  });
  afterAll(() => scratch.remove());

  const promote = (...args: string[]) => cli([...args, '--registry', registryDir, '--repo', repository, '--no-push', '--json']);

  it('refuses a version that never passed the gate', async () => {
    const result = await promote('promote', '--model', versions[1], '--env', 'staging');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PROMOTION_REFUSED: .* has not passed the gate/);
    expect(git(repository, 'branch', '--show-current')).toBe('main');
  });

  it('pins the gated version on a new branch, re-renders the manifests, and the alias names the commit', async () => {
    const result = await promote('promote', '--model', 'candidate', '--env', 'staging');
    expect(result.code, result.stderr).toBe(0);
    const promotion = JSON.parse(result.stdout) as { branch: string; commit: string; model: string; previous: string };
    expect(promotion.model).toBe(versions[0]);
    expect(git(repository, 'branch', '--show-current')).toBe(`promote/staging/${versions[0]}`);
    const pins = parseModelPins(git(repository, 'show', 'HEAD:manifests/pins.json'), 'HEAD');
    expect(pins.staging.model).toBe(versions[0]);
    const original = parseModelPins(await fs.readFile(path.join(REPO_ROOT, 'manifests', 'pins.json'), 'utf8'), 'original');
    expect(promotion.previous).toBe(original.staging.model);
    expect(pins.production).toEqual(original.production);
    const changed = git(repository, 'show', '--name-only', '--format=', 'HEAD').split('\n');
    expect(changed).toContain('manifests/pins.json');
    expect(changed.some((file) => file.startsWith('manifests/dist/') && file.includes('/staging/'))).toBe(true);
    expect(git(repository, 'show', 'HEAD:manifests/dist/eks/staging/retail-mlops-api.k8s.yaml')).toContain(versions[0]);
    const message = git(repository, 'log', '-1', '--format=%B');
    expect(message).toMatch(/^Promote staging to model v-/);
    expect(message).toMatch(/accuracy 0\.\d{4}, macro-F1/);
    expect(message).toContain(`Retail-Mlops-Model: ${versions[0]}`);

    const history = await createLocalRegistry({ root: registryDir }).aliasHistory('staging');
    expect(history.at(-1)?.to).toBe(versions[0]);
    expect(history.at(-1)?.reason).toContain(promotion.commit.slice(0, 12));
  });

  it('rolls back to the previous version the same way, and registry and git agree', async () => {
    git(repository, 'switch', '--quiet', 'main');
    const registry = createLocalRegistry({ root: registryDir });
    await registry.setAlias('candidate', versions[1], { actor: 'gate', reason: 'gate passed' });
    git(repository, 'merge', '--quiet', `promote/staging/${versions[0]}`);
    expect((await promote('promote', '--model', versions[1], '--env', 'staging')).code).toBe(0);
    git(repository, 'switch', '--quiet', 'main');
    git(repository, 'merge', '--quiet', `promote/staging/${versions[1]}`);

    const result = await promote('rollback', '--env', 'staging');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).model).toBe(versions[0]);
    const pins = parseModelPins(git(repository, 'show', 'HEAD:manifests/pins.json'), 'HEAD');
    expect(pins.staging.model).toBe(versions[0]);
    const history = await registry.aliasHistory('staging');
    expect(history.map((change) => change.to)).toEqual([versions[0], versions[1], versions[0]]);
    // every alias change points at a commit that pins the same version
    for (const change of history) {
      const commit = /commit ([0-9a-f]{12})/.exec(change.reason)![1];
      expect(parseModelPins(git(repository, 'show', `${commit}:manifests/pins.json`), commit).staging.model).toBe(change.to);
    }
  });
});
