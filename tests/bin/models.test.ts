/**
 * Registry hygiene through the CLI, as a user meets it: a `train` killed while registering leaves
 * nothing `models list` shows and nothing the next `train` keeps; `models list|show|alias` check a
 * version's files against their hashes and `alias` refuses a tampered one before recording anything;
 * a reference that cannot exist is a usage error; a registry that does not exist says so.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalRegistry } from '../../providers/local/registry';
import { sampleRegistration } from '../conformance/registry-fixtures';
import { cli } from '../helpers/cli';
import { temporaryDirectory } from '../helpers/paths';

interface ListedVersion {
  readonly version: string;
  readonly sequence: number;
  readonly algorithm: string;
  readonly aliases: string[];
  readonly verified: boolean;
  readonly problems: string[];
}

async function listed(registry: string): Promise<ListedVersion[]> {
  const result = await cli(['models', 'list', '--registry', registry, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ListedVersion[];
}

describe('a train killed while registering', () => {
  const scratch = temporaryDirectory();
  const lake = path.join(scratch.path, 'lake');
  const registry = path.join(scratch.path, 'registry');
  beforeAll(async () => {
    const data = path.join(scratch.path, 'data');
    expect((await cli(['generate', '--rows', '20000', '--weeks', '4', '--out', `${data}/`, '--quiet'])).code).toBe(0);
    expect((await cli(['ingest', data, '--lake', lake, '--quiet'])).code).toBe(0);
  });
  afterAll(() => scratch.remove());

  it('leaves nothing a reader sees, and the next train removes what it wrote', async () => {
    const killed = await cli(['train', '--lake', lake, '--registry', registry, '--algorithm', 'lr', '--quiet'], { env: { RETAIL_MLOPS_FAILPOINT: 'registry-before-version-record' } });
    expect(killed.code).toBe(137);
    const [partial] = await fs.readdir(path.join(registry, 'versions'));
    expect((await fs.readdir(path.join(registry, 'versions', partial))).sort()).toEqual(['artifacts', 'model.onnx']);
    expect(await listed(registry)).toEqual([]);
    const show = await cli(['models', 'show', partial, '--registry', registry]);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/MODEL_VERSION_NOT_FOUND/);
    // what the registry's older layout left after a kill: a staging folder, never removed before
    const staged = path.join(registry, '.staging', `v-0123456789ab.${process.pid}.deadbeef`);
    await fs.mkdir(path.join(staged, 'artifacts'), { recursive: true });
    await fs.writeFile(path.join(staged, 'model.onnx'), Buffer.alloc(1 << 20));

    const trained = await cli(['train', '--lake', lake, '--registry', registry, '--algorithm', 'dt', '--json']);
    expect(trained.code, trained.stderr).toBe(0);
    const champion = (JSON.parse(trained.stdout) as { champion: { modelVersion: string } }).champion.modelVersion;
    expect(await fs.readdir(path.join(registry, 'versions'))).toEqual([champion]);
    expect((await fs.readdir(registry)).sort()).toEqual(['registry.json', 'sequence.json', 'versions']);
    const versions = await listed(registry);
    expect(versions.map((version) => [version.version, version.sequence, version.verified])).toEqual([[champion, 2, true]]);
  });
});

describe('models list | show | alias check files against their hashes', () => {
  const scratch = temporaryDirectory();
  const registry = path.join(scratch.path, 'registry');
  let healthy: string;
  let tampered: string;
  beforeAll(async () => {
    const local = createLocalRegistry({ root: registry });
    healthy = (await local.register(sampleRegistration('healthy'))).version.id;
    tampered = (await local.register(sampleRegistration('tampered'))).version.id;
    await local.setAlias('production', healthy, { actor: 'ci', reason: 'first release' });
    await fs.writeFile(path.join(registry, 'versions', tampered, 'model.onnx'), 'not the registered model');
  });
  afterAll(() => scratch.remove());

  it('refuses to point an alias at a version whose files do not match, and records nothing', async () => {
    const refused = await cli(['models', 'alias', 'production', tampered, '--registry', registry, '--reason', 'would serve a tampered model']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(new RegExp(`REGISTRY_CORRUPT: refusing to point alias 'production' at ${tampered}: the model of ${tampered} does not match its recorded sha256`));
    const history = await createLocalRegistry({ root: registry }).aliasHistory('production');
    expect(history.map((change) => change.to)).toEqual([healthy]);
    const moved = await cli(['models', 'alias', 'staging', healthy, '--registry', registry, '--reason', 'a healthy version']);
    expect(moved.code, moved.stderr).toBe(0);
  });

  it('lists every version with whether its files match, and shows one with exit 1 when they do not', async () => {
    const versions = await listed(registry);
    expect(versions.map((version) => [version.version, version.verified])).toEqual([
      [healthy, true],
      [tampered, false],
    ]);
    expect(versions[1].problems).toEqual([expect.stringMatching(/^the model of v-[0-9a-f]{12} does not match its recorded sha256/)]);
    const human = await cli(['models', 'list', '--registry', registry]);
    expect(human.stdout).toMatch(new RegExp(`${tampered} .* FILES DO NOT MATCH: the model of`));

    const good = await cli(['models', 'show', 'production', '--registry', registry, '--json']);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ id: healthy, verification: { verified: true, problems: [] } });
    const bad = await cli(['models', 'show', tampered, '--registry', registry, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ id: tampered, verification: { verified: false } });
    expect(bad.stderr).toMatch(new RegExp(`REGISTRY_CORRUPT: the files of ${tampered} do not match its record`));
  });

  it('answers a reference or alias name that cannot exist with a usage error (exit 2)', async () => {
    for (const args of [
      ['models', 'show', 'Not A Reference!'],
      ['models', 'show', '#0'],
      ['models', 'alias', 'production', 'V-12', '--reason', 'typo'],
      ['models', 'alias', 'Production', healthy, '--reason', 'not an alias name'],
      ['models', 'alias', 'production', healthy, '--reason', ' '],
      ['evaluate', '--model', 'v-XYZ', '--data', scratch.path],
    ]) {
      const result = await cli([...args, '--registry', registry]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect((await createLocalRegistry({ root: registry }).aliasHistory('production')).map((change) => change.to)).toEqual([healthy]);
  });

  it('says there is no registry instead of "no alias" when the registry does not exist', async () => {
    const missing = path.join(scratch.path, 'no-such-registry');
    for (const args of [
      ['models', 'show', 'candidate', '--registry', missing],
      ['evaluate', '--registry', missing, '--model', 'candidate', '--data', scratch.path],
    ]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(new RegExp(`REGISTRY_NOT_FOUND: no registry at ${missing}`));
      expect(result.stderr).not.toMatch(/no alias/);
    }
    expect(existsSync(missing)).toBe(false);
  });
});
