import { execFile, spawn, spawnSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../core/errors';
import { computeVersionIdentity } from '../../../core/registry/identity';
import { acquireLockFile } from '../../../providers/local/lock-file';
import { createLocalRegistry } from '../../../providers/local/registry';
import { expectCode, registryConformance } from '../../conformance/registry';
import { sampleRegistration } from '../../conformance/registry-fixtures';

const run = promisify(execFile);
const repositoryRoot = path.resolve(__dirname, '../../..');
const tsx = path.join(repositoryRoot, 'node_modules/.bin/tsx');
const worker = path.join(__dirname, 'registry-worker.ts');

/** Hidden files (temporaries, locks) anywhere under `root`. */
async function leftovers(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.filter((entry) => path.basename(entry).startsWith('.'));
}

async function temporaryRoot(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'retail-mlops-registry-'));
}

registryConformance('local', async () => {
  const root = await temporaryRoot();
  return { registry: createLocalRegistry({ root: path.join(root, 'registry') }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('local registry on disk', () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
  });
  async function registryRoot(): Promise<string> {
    const root = await temporaryRoot();
    roots.push(root);
    return path.join(root, 'registry');
  }

  it('validates its options eagerly, reporting every problem', () => {
    let caught: unknown;
    try {
      createLocalRegistry({ root: '', lockTimeoutMs: -1, staleLockMs: 1.5 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionsError);
    expect((caught as InvalidOptionsError).problems).toHaveLength(3);
  });

  it('touches nothing until the first write, and says so when asked for a model in a registry that does not exist', async () => {
    const root = await registryRoot();
    const registry = createLocalRegistry({ root });
    expect(await registry.list()).toEqual([]);
    const missing = await expectCode(registry.get('production'), 'REGISTRY_NOT_FOUND');
    expect(missing.message).toContain(`no registry at ${root}`);
    await expectCode(registry.getModelBytes('v-0123456789ab'), 'REGISTRY_NOT_FOUND');
    await expectCode(registry.aliasHistory('production'), 'REGISTRY_NOT_FOUND');
    await expect(stat(root)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lays a version out in its own directory, version.json last, and leaves no temporary file or lock behind', async () => {
    const root = await registryRoot();
    const registry = createLocalRegistry({ root });
    const { version } = await registry.register(sampleRegistration('layout'));
    await registry.setAlias('candidate', version.id, { actor: 'ci', reason: 'gate passed' });
    expect((await readdir(root)).sort()).toEqual(['aliases', 'registry.json', 'sequence.json', 'versions']);
    expect(await readdir(path.join(root, 'versions'))).toEqual([version.id]);
    const versionDirectory = path.join(root, 'versions', version.id);
    expect((await readdir(versionDirectory)).sort()).toEqual(['artifacts', 'model.onnx', 'version.json']);
    expect((await readdir(path.join(versionDirectory, 'artifacts'))).sort()).toEqual(['feature-statistics.json', 'report.html']);
    expect(await readdir(path.join(root, 'aliases'))).toEqual(['candidate.jsonl']);
    expect(JSON.parse(await readFile(path.join(versionDirectory, 'version.json'), 'utf8'))).toEqual(version);
    expect(JSON.parse(await readFile(path.join(root, 'registry.json'), 'utf8'))).toEqual({ format: 'retail-mlops-model-registry', specificationVersion: 'v1' });
    expect(JSON.parse(await readFile(path.join(root, 'sequence.json'), 'utf8'))).toEqual({ last: 1 });
  });

  it('appends alias changes as JSON lines and never rewrites earlier ones', async () => {
    const root = await registryRoot();
    const registry = createLocalRegistry({ root });
    const one = (await registry.register(sampleRegistration('one'))).version;
    const two = (await registry.register(sampleRegistration('two'))).version;
    const file = path.join(root, 'aliases', 'production.jsonl');
    await registry.setAlias('production', one.id, { actor: 'a', reason: 'first' });
    const before = await readFile(file, 'utf8');
    await registry.setAlias('production', two.id, { actor: 'b', reason: 'second' });
    const after = await readFile(file, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    const lines = after.trimEnd().split('\n').map((line) => JSON.parse(line) as { from: string | null; to: string });
    expect(lines.map((line) => [line.from, line.to])).toEqual([[null, one.id], [one.id, two.id]]);
  });

  it('ignores an alias change cut short by a crash, and cuts it off before the next append', async () => {
    const root = await registryRoot();
    const registry = createLocalRegistry({ root });
    const one = (await registry.register(sampleRegistration('one'))).version;
    const two = (await registry.register(sampleRegistration('two'))).version;
    await registry.setAlias('production', one.id, { actor: 'a', reason: 'first' });
    const file = path.join(root, 'aliases', 'production.jsonl');
    await appendFile(file, '{"alias":"production","from":"v-');
    expect((await registry.get('production')).id).toBe(one.id);
    await registry.setAlias('production', two.id, { actor: 'b', reason: 'second' });
    expect((await registry.aliasHistory('production')).map((change) => change.to)).toEqual([one.id, two.id]);
    expect((await readFile(file, 'utf8')).split('\n')).toHaveLength(3);
  });

  it('detects model bytes or artifacts changed on disk (REGISTRY_CORRUPT), and refuses to point an alias at such a version', async () => {
    const root = await registryRoot();
    const registry = createLocalRegistry({ root });
    const { version } = await registry.register(sampleRegistration('corrupt'));
    const healthy = (await registry.register(sampleRegistration('healthy'))).version;
    await registry.setAlias('production', healthy.id, { actor: 'ci', reason: 'first' });
    const model = path.join(root, 'versions', version.id, 'model.onnx');
    await writeFile(model, 'tampered');
    await expectCode(registry.getModelBytes(version.id), 'REGISTRY_CORRUPT');
    const refused = await expectCode(registry.setAlias('production', version.id, { actor: 'ci', reason: 'would serve a tampered model' }), 'REGISTRY_CORRUPT');
    expect(refused.message).toContain(`refusing to point alias 'production' at ${version.id}`);
    expect(refused.message).toContain('model of');
    const report = path.join(root, 'versions', version.id, 'artifacts', 'report.html');
    await rm(report, { force: true });
    await expectCode(registry.getArtifact(version.id, 'report.html'), 'REGISTRY_CORRUPT');
    await expectCode(registry.setAlias('staging', version.id, { actor: 'ci', reason: 'a missing report' }), 'REGISTRY_CORRUPT');
    // nothing was recorded by the refused moves
    expect((await registry.aliasHistory('production')).map((change) => change.to)).toEqual([healthy.id]);
    expect((await registry.aliases()).map((state) => state.alias)).toEqual(['production']);
  });

  it('leaves nothing a reader sees when a writer is killed before its version record, and the next write removes its files', async () => {
    const root = await registryRoot();
    const registry = createLocalRegistry({ root });
    const first = (await registry.register(sampleRegistration('before-the-kill'))).version;
    const killed = spawnSync(tsx, [worker, root, '0', '1', '0', ''], { env: { ...process.env, RETAIL_MLOPS_FAILPOINT: 'registry-before-version-record' } });
    // tsx runs the script in a child node and exits 128 + 9 when that child dies by SIGKILL
    expect(killed.signal === 'SIGKILL' || killed.status === 137, killed.stderr.toString()).toBe(true);
    const partial = computeVersionIdentity(sampleRegistration('worker-0-model-0')).id;
    expect((await readdir(path.join(root, 'versions'))).sort()).toEqual([first.id, partial].sort());
    expect((await readdir(path.join(root, 'versions', partial))).sort()).toEqual(['artifacts', 'model.onnx']);
    // readers: the half-written version does not exist
    expect((await createLocalRegistry({ root }).list()).map((version) => version.id)).toEqual([first.id]);
    await expectCode(createLocalRegistry({ root }).get(partial), 'MODEL_VERSION_NOT_FOUND');
    // what older layouts and killed writers leave beside it: a staging area, temporary files of dead processes
    const deadPid = Number((await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])).stdout);
    await mkdir(path.join(root, '.staging', 'v-0123456789ab.99999.deadbeef', 'artifacts'), { recursive: true });
    await writeFile(path.join(root, '.staging', 'v-0123456789ab.99999.deadbeef', 'model.onnx'), Buffer.alloc(4096));
    await mkdir(path.join(root, 'versions', 'v-ba9876543210'));
    await writeFile(path.join(root, 'versions', 'v-ba9876543210', `.model.onnx.tmp-${deadPid}-0123456789ab`), Buffer.alloc(4096));
    const liveTemporary = path.join(root, 'aliases', `.production.jsonl.tmp-${process.pid}-0123456789ab`);
    await mkdir(path.join(root, 'aliases'), { recursive: true });
    await writeFile(liveTemporary, '');

    const next = (await registry.register(sampleRegistration('after-the-kill'))).version;
    // the killed writer's number is skipped, never reused
    expect(next.sequence).toBe(3);
    expect((await readdir(path.join(root, 'versions'))).sort()).toEqual([first.id, next.id].sort());
    expect((await readdir(root)).sort()).toEqual(['aliases', 'registry.json', 'sequence.json', 'versions']);
    // a temporary file of a live process is left alone
    expect(await readdir(path.join(root, 'aliases'))).toEqual([path.basename(liveTemporary)]);
    // the killed writer's model registers normally afterwards
    expect((await registry.register(sampleRegistration('worker-0-model-0'))).version.id).toBe(partial);
  });

  it('never reuses a sequence number, even when the counter file is lost', async () => {
    const root = await registryRoot();
    const registry = createLocalRegistry({ root });
    await registry.register(sampleRegistration('one'));
    await registry.register(sampleRegistration('two'));
    await rm(path.join(root, 'sequence.json'));
    expect((await registry.register(sampleRegistration('three'))).version.sequence).toBe(3);
  });

  describe('the writers lock', () => {
    it('takes over a lock left by a process that is gone', async () => {
      const root = await registryRoot();
      const registry = createLocalRegistry({ root, lockTimeoutMs: 5_000 });
      await registry.register(sampleRegistration('before'));
      const { stdout } = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
      const deadPid = Number(stdout);
      await writeFile(path.join(root, '.lock'), JSON.stringify({ host: (await import('node:os')).hostname(), pid: deadPid, token: 'dead', acquiredAt: new Date().toISOString() }));
      const started = Date.now();
      await registry.register(sampleRegistration('after'));
      expect(Date.now() - started).toBeLessThan(4_000);
      await expect(stat(path.join(root, '.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('takes over a lock that was not refreshed for longer than staleLockMs (e.g. from another host)', async () => {
      const root = await registryRoot();
      const registry = createLocalRegistry({ root, lockTimeoutMs: 5_000, staleLockMs: 1_000 });
      await registry.register(sampleRegistration('before'));
      const lock = path.join(root, '.lock');
      await writeFile(lock, JSON.stringify({ host: 'another-host', pid: 1, token: 'remote', acquiredAt: '2024-01-01T00:00:00.000Z' }));
      const old = new Date(Date.now() - 60_000);
      await utimes(lock, old, old);
      await registry.setAlias('candidate', '#1', { actor: 'a', reason: 'after a stale lock' });
      expect((await registry.get('candidate')).sequence).toBe(1);
      await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('waits for a live holder and gives up with REGISTRY_BUSY after lockTimeoutMs', async () => {
      const root = await registryRoot();
      const registry = createLocalRegistry({ root, lockTimeoutMs: 300 });
      await registry.register(sampleRegistration('before'));
      const held = await acquireLockFile(path.join(root, '.lock'));
      try {
        const started = Date.now();
        await expectCode(registry.setAlias('candidate', '#1', { actor: 'a', reason: 'blocked' }), 'REGISTRY_BUSY');
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        await expectCode(registry.register(sampleRegistration('blocked')), 'REGISTRY_BUSY');
      } finally {
        await held.release();
      }
      // nothing half-done was left behind by the failed calls
      expect(await readdir(path.join(root, 'versions'))).toHaveLength(1);
      expect(await registry.list()).toHaveLength(1);
      await registry.setAlias('candidate', '#1', { actor: 'a', reason: 'free again' });
    });
  });

  it('stays consistent with several processes registering and moving an alias at once', async () => {
    const root = await registryRoot();
    await mkdir(root, { recursive: true });
    const registry = createLocalRegistry({ root });
    const targets: string[] = [];
    for (let index = 0; index < 3; index++) targets.push((await registry.register(sampleRegistration(`target-${index}`))).version.id);

    const workers = 4;
    const distinct = 3;
    const moves = 6;
    const outputs = await Promise.all(
      Array.from(
        { length: workers },
        (_, index) =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(tsx, [worker, root, String(index), String(distinct), String(moves), targets.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            child.on('error', reject);
            child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`worker ${index} exited ${code}: ${stderr}`))));
          }),
      ),
    );
    type WorkerReport = { registered: { id: string; sequence: number; created: boolean; seed: string }[]; moves: boolean[] };
    const reports = outputs.map((output) => JSON.parse(output) as WorkerReport);

    // every distinct model got its own version and its own sequence number
    const versions = await registry.list();
    expect(versions).toHaveLength(3 + workers * distinct + 1);
    expect(new Set(versions.map((version) => version.sequence)).size).toBe(versions.length);
    expect(new Set(versions.map((version) => version.id)).size).toBe(versions.length);
    // the model every worker registered is one version, created by exactly one of them
    const shared = reports.flatMap((report) => report.registered.filter((entry) => entry.seed === 'shared-by-all-workers'));
    expect(shared).toHaveLength(workers);
    expect(new Set(shared.map((entry) => entry.id)).size).toBe(1);
    expect(shared.filter((entry) => entry.created)).toHaveLength(1);
    // each worker's view agrees with the store
    for (const entry of reports.flatMap((report) => report.registered)) expect((await registry.get(entry.id)).sequence).toBe(entry.sequence);

    // the alias history is one unbroken chain of every recorded change
    const history = await registry.aliasHistory('production');
    expect(history).toHaveLength(reports.flatMap((report) => report.moves).filter(Boolean).length);
    history.forEach((change, index) => {
      expect(change.sequence).toBe(index + 1);
      expect(change.from).toBe(index === 0 ? null : history[index - 1].to);
    });
    expect((await registry.get('production')).id).toBe(history.at(-1)?.to);
    expect(await leftovers(root)).toEqual([]);
    await expect(stat(path.join(root, '.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
