/**
 * The registry conformance suite: every provider of the ModelRegistry port runs these same tests
 * (local now; AWS against s3rver and Azure against azurite later):
 *
 * ```ts
 * registryConformance('local', async () => {
 *   const root = await mkdtemp(...);
 *   return { registry: createLocalRegistry({ root }), cleanup: () => rm(root, { recursive: true }) };
 * });
 * ```
 *
 * Each test gets a fresh, empty registry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sampleMetrics, sampleRegistration } from './registry-fixtures';
import { computeMetrics } from '../../core/evaluation/metrics';
import { computeVersionIdentity, VERSION_ID_PATTERN } from '../../core/registry/identity';
import { REGISTRY_SPECIFICATION_VERSION, type ModelRegistry } from '../../core/registry/port';
import type { ModelVersion } from '../../core/registry/types';

export interface RegistryUnderTest {
  readonly registry: ModelRegistry;
  readonly cleanup: () => Promise<void>;
}

/** Expects `promise` to reject with a RetailMlopsError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string }> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a rejection with code ${code}`).toBeInstanceOf(Error);
  expect((caught as { code?: string }).code).toBe(code);
  return caught as Error & { code: string };
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const who = { actor: 'alice', reason: 'testing' };

export function registryConformance(name: string, makeRegistry: () => Promise<RegistryUnderTest>): void {
  describe(`registry conformance: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
    });
    async function fresh(): Promise<ModelRegistry> {
      const { registry, cleanup } = await makeRegistry();
      cleanups.push(cleanup);
      return registry;
    }

    it('declares the specification version it implements', async () => {
      const registry = await fresh();
      expect(registry.specificationVersion).toBe(REGISTRY_SPECIFICATION_VERSION);
      expect(registry.specificationVersion).toBe('v1');
      expect(typeof registry.provider).toBe('string');
    });

    it('starts empty', async () => {
      const registry = await fresh();
      expect(await registry.list()).toEqual([]);
      expect(await registry.aliases()).toEqual([]);
      expect(await registry.aliasHistory()).toEqual([]);
    });

    describe('versions', () => {
      it('registers a version with its model, artifacts, metrics and lineage, identified by content', async () => {
        const registry = await fresh();
        const input = sampleRegistration('a');
        const before = Date.now();
        const { version, created } = await registry.register(input);
        expect(created).toBe(true);
        expect(version.id).toMatch(VERSION_ID_PATTERN);
        expect(version.contentHash).toMatch(/^[0-9a-f]{64}$/);
        expect(version.id).toBe(`v-${version.contentHash.slice(0, 12)}`);
        expect(version.sequence).toBe(1);
        expect(version.createdBy).toBe('conformance-suite');
        expect(Date.parse(version.createdAt)).toBeGreaterThanOrEqual(before - 1000);
        expect(version.modelSize).toBe(input.model.byteLength);
        expect(version.metrics).toEqual(input.metrics);
        expect(version.lineage).toEqual(input.lineage);
        expect(version.artifacts.map((artifact) => [artifact.name, artifact.mediaType])).toEqual([
          ['feature-statistics.json', 'application/json'],
          ['report.html', 'text/html; charset=utf-8'],
        ]);
        // the id can be computed before registering (the report shows it)
        expect(computeVersionIdentity(input)).toEqual({ id: version.id, contentHash: version.contentHash, modelSha256: version.modelSha256 });

        expect(await registry.get(version.id)).toEqual(version);
        expect(await registry.get('#1')).toEqual(version);
        expect(await registry.list()).toEqual([version]);
        expect(Buffer.from(await registry.getModelBytes(version.id)).equals(Buffer.from(input.model))).toBe(true);
        expect(text(await registry.getArtifact(version.id, 'report.html'))).toBe(input.artifacts?.[1].content);
        expect(JSON.parse(text(await registry.getArtifact('#1', 'feature-statistics.json')))).toEqual({ seed: 'a', products: 5000 });
      });

      it('stores real metrics documents exactly (floating-point values round-trip)', async () => {
        const registry = await fresh();
        const metrics = computeMetrics(Int32Array.from([0, 1, 2, 1, -1]), Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.2, 0.6, 0.3, 0.4, 0.3, 1, 0, 0]), ['LA', 'MM', 'UM']);
        const { version } = await registry.register(sampleRegistration('metrics', { metrics }));
        expect((await registry.get(version.id)).metrics).toEqual(metrics);
        expect(computeVersionIdentity({ ...sampleRegistration('metrics'), metrics }).id).toBe(version.id);
      });

      it('is idempotent: identical content gives the same version, not a new one', async () => {
        const registry = await fresh();
        const first = await registry.register(sampleRegistration('same'));
        const second = await registry.register(sampleRegistration('same', { createdBy: 'someone-else' }));
        expect(second.created).toBe(false);
        expect(second.version).toEqual(first.version);
        expect(second.version.createdBy).toBe('conformance-suite');
        expect(await registry.list()).toHaveLength(1);
      });

      it('gives different content a different id and the next sequence number', async () => {
        const registry = await fresh();
        const first = await registry.register(sampleRegistration('one'));
        const otherModel = await registry.register(sampleRegistration('two'));
        const otherMetrics = await registry.register(sampleRegistration('one', { metrics: sampleMetrics(0.93) }));
        const otherLineage = await registry.register(
          sampleRegistration('one', { lineage: { ...sampleRegistration('one').lineage, parameters: { rounds: 300 } } }),
        );
        const ids = [first, otherModel, otherMetrics, otherLineage].map((result) => result.version.id);
        expect(new Set(ids).size).toBe(4);
        expect([first, otherModel, otherMetrics, otherLineage].map((result) => result.version.sequence)).toEqual([1, 2, 3, 4]);
        expect((await registry.list()).map((version) => version.id)).toEqual(ids);
        expect((await registry.get('#3')).id).toBe(otherMetrics.version.id);
      });

      it('keeps versions immutable: later changes to inputs or returned records do not reach the store', async () => {
        const registry = await fresh();
        const input = sampleRegistration('immutable');
        const model = new Uint8Array(input.model);
        const parameters = { rounds: 200 };
        const { version } = await registry.register({ ...input, model, lineage: { ...input.lineage, parameters } });
        model.fill(0);
        parameters.rounds = 1;
        (version.metrics as { accuracy: number }).accuracy = 0;
        (version.artifacts as unknown[]).length = 0;
        const stored = await registry.get(version.id);
        expect(stored.metrics.accuracy).toBe(0.91);
        expect(stored.lineage.parameters).toEqual({ rounds: 200 });
        expect(stored.artifacts).toHaveLength(2);
        expect(Buffer.from(await registry.getModelBytes(version.id)).equals(Buffer.from(input.model))).toBe(true);
        const bytes = await registry.getModelBytes(version.id);
        bytes.fill(1);
        expect(Buffer.from(await registry.getModelBytes(version.id)).equals(Buffer.from(input.model))).toBe(true);
      });

      it('refuses to register the same content with other artifacts (VERSION_CONFLICT), keeping the stored ones', async () => {
        const registry = await fresh();
        const input = sampleRegistration('conflict');
        const { version } = await registry.register(input);
        const error = await expectCode(registry.register({ ...input, artifacts: [{ name: 'report.html', content: 'another report' }] }), 'VERSION_CONFLICT');
        expect(error.message).toMatch(/report\.html' has other content/);
        expect(error.message).toMatch(/feature-statistics\.json' is missing/);
        expect(text(await registry.getArtifact(version.id, 'report.html'))).toBe(input.artifacts?.[1].content);
        expect(await registry.list()).toHaveLength(1);
      });

      it('rejects an invalid registration, listing every problem (INVALID_OPTIONS)', async () => {
        const registry = await fresh();
        const input = sampleRegistration('invalid');
        const error = await expectCode(
          registry.register({
            ...input,
            model: new Uint8Array(0),
            createdBy: '',
            lineage: { ...input.lineage, codeCommit: '', trainingWeeks: [] },
            artifacts: [{ name: '../escape', content: 'x' }, { name: 'a.json', content: '1' }, { name: 'a.json', content: '2' }],
          }),
          'INVALID_OPTIONS',
        );
        const problems = (error as unknown as { problems: string[] }).problems;
        expect(problems).toHaveLength(6);
        expect(problems.join('\n')).toMatch(/model must be non-empty/);
        expect(problems.join('\n')).toMatch(/createdBy/);
        expect(problems.join('\n')).toMatch(/lineage\.codeCommit/);
        expect(problems.join('\n')).toMatch(/lineage\.trainingWeeks/);
        expect(problems.join('\n')).toMatch(/"\.\.\/escape"/);
        expect(problems.join('\n')).toMatch(/'a\.json' is given more than once/);
        expect(await registry.list()).toEqual([]);
      });
    });

    describe('unknown references', () => {
      it('fails with stable codes for unknown versions, sequence numbers, aliases and artifacts', async () => {
        const registry = await fresh();
        const { version } = await registry.register(sampleRegistration('known'));
        await expectCode(registry.get('v-000000000000'), 'MODEL_VERSION_NOT_FOUND');
        await expectCode(registry.get('#2'), 'MODEL_VERSION_NOT_FOUND');
        await expectCode(registry.getModelBytes('v-000000000000'), 'MODEL_VERSION_NOT_FOUND');
        await expectCode(registry.getArtifact('v-000000000000', 'report.html'), 'MODEL_VERSION_NOT_FOUND');
        await expectCode(registry.get('production'), 'ALIAS_NOT_FOUND');
        await expectCode(registry.getModelBytes('production'), 'ALIAS_NOT_FOUND');
        await expectCode(registry.aliasHistory('production'), 'ALIAS_NOT_FOUND');
        const missing = await expectCode(registry.getArtifact(version.id, 'nope.json'), 'ARTIFACT_NOT_FOUND');
        expect(missing.message).toMatch(/feature-statistics\.json, report\.html/);
        await expectCode(registry.get('Not A Reference!'), 'INVALID_OPTIONS');
      });

      it('refuses to point an alias at an unknown version, and records nothing', async () => {
        const registry = await fresh();
        await expectCode(registry.setAlias('candidate', 'v-000000000000', who), 'MODEL_VERSION_NOT_FOUND');
        await expectCode(registry.setAlias('candidate', 'staging', who), 'ALIAS_NOT_FOUND');
        expect(await registry.aliases()).toEqual([]);
        await expectCode(registry.get('candidate'), 'ALIAS_NOT_FOUND');
      });
    });

    describe('aliases', () => {
      it('points aliases at versions and keeps who/when/why/from→to in an append-only history', async () => {
        const registry = await fresh();
        const one = (await registry.register(sampleRegistration('one'))).version;
        const two = (await registry.register(sampleRegistration('two'))).version;

        const created = await registry.setAlias('candidate', one.id, { actor: 'ci', reason: 'gate passed' });
        expect(created.changed).toBe(true);
        expect(created.change).toMatchObject({ alias: 'candidate', from: null, to: one.id, actor: 'ci', reason: 'gate passed', sequence: 1 });
        expect(Number.isNaN(Date.parse(created.change.at))).toBe(false);
        expect((await registry.get('candidate')).id).toBe(one.id);

        await registry.setAlias('candidate', '#2', { actor: 'ci', reason: 'gate passed again' });
        expect((await registry.get('candidate')).id).toBe(two.id);
        expect(Buffer.from(await registry.getModelBytes('candidate')).equals(Buffer.from(sampleRegistration('two').model))).toBe(true);
        expect(text(await registry.getArtifact('candidate', 'report.html'))).toContain('report two');

        // alias to alias: production takes whatever candidate points at now
        await registry.setAlias('production', 'candidate', { actor: 'bob', reason: 'promoted after review #42' });
        expect((await registry.get('production')).id).toBe(two.id);
        await registry.setAlias('candidate', one.id, { actor: 'alice', reason: 'roll back the candidate' });
        expect((await registry.get('production')).id).toBe(two.id);

        const history = await registry.aliasHistory('candidate');
        expect(history.map((change) => [change.from, change.to, change.actor, change.reason, change.sequence])).toEqual([
          [null, one.id, 'ci', 'gate passed', 1],
          [one.id, two.id, 'ci', 'gate passed again', 2],
          [two.id, one.id, 'alice', 'roll back the candidate', 3],
        ]);
        expect(history[0]).toEqual(created.change);

        const states = await registry.aliases();
        expect(states.map((state) => [state.alias, state.version])).toEqual([
          ['candidate', one.id],
          ['production', two.id],
        ]);
        expect(states[1].change.reason).toBe('promoted after review #42');

        const all = await registry.aliasHistory();
        expect(all).toHaveLength(4);
        expect(all.map((change) => change.at)).toEqual([...all.map((change) => change.at)].sort());
      });

      it('records nothing when the alias already points at the version', async () => {
        const registry = await fresh();
        const one = (await registry.register(sampleRegistration('one'))).version;
        const first = await registry.setAlias('staging', one.id, who);
        const again = await registry.setAlias('staging', one.id, { actor: 'bob', reason: 'again' });
        expect(again).toEqual({ changed: false, change: first.change });
        expect(await registry.aliasHistory('staging')).toHaveLength(1);
      });

      it('supports compare-and-set (ALIAS_CONFLICT when the alias moved meanwhile)', async () => {
        const registry = await fresh();
        const one = (await registry.register(sampleRegistration('one'))).version;
        const two = (await registry.register(sampleRegistration('two'))).version;
        await registry.setAlias('production', one.id, { ...who, expectedCurrent: null });
        await expectCode(registry.setAlias('production', two.id, { ...who, expectedCurrent: null }), 'ALIAS_CONFLICT');
        await expectCode(registry.setAlias('production', two.id, { ...who, expectedCurrent: two.id }), 'ALIAS_CONFLICT');
        expect((await registry.get('production')).id).toBe(one.id);
        await registry.setAlias('production', two.id, { ...who, expectedCurrent: one.id });
        expect((await registry.get('production')).id).toBe(two.id);
        expect(await registry.aliasHistory('production')).toHaveLength(2);
      });

      it('accepts arbitrary alias names and rejects malformed ones, actors and reasons (INVALID_OPTIONS)', async () => {
        const registry = await fresh();
        const one = (await registry.register(sampleRegistration('one'))).version;
        await registry.setAlias('shadow-eu.2024_q2', one.id, who);
        expect((await registry.get('shadow-eu.2024_q2')).id).toBe(one.id);
        for (const alias of ['Production', '', 'has space', '../escape', 'v-0123456789ab', '#1', `a${'b'.repeat(63)}`]) {
          await expectCode(registry.setAlias(alias, one.id, who), 'INVALID_OPTIONS');
        }
        const error = await expectCode(registry.setAlias('staging', one.id, { actor: '', reason: ' ' }), 'INVALID_OPTIONS');
        expect((error as unknown as { problems: string[] }).problems).toHaveLength(2);
        expect((await registry.aliases()).map((state) => state.alias)).toEqual(['shadow-eu.2024_q2']);
      });
    });

    describe('concurrency', () => {
      it('gives parallel registrations distinct sequence numbers, and identical ones a single version', async () => {
        const registry = await fresh();
        const distinct = Array.from({ length: 8 }, (_, index) => registry.register(sampleRegistration(`parallel-${index}`)));
        const identical = Array.from({ length: 4 }, () => registry.register(sampleRegistration('parallel-same')));
        const results = await Promise.all([...distinct, ...identical]);
        const sameResults = results.slice(8);
        expect(new Set(sameResults.map((result) => result.version.id)).size).toBe(1);
        expect(sameResults.filter((result) => result.created)).toHaveLength(1);
        const versions = await registry.list();
        expect(versions).toHaveLength(9);
        const sequences = versions.map((version) => version.sequence);
        expect(new Set(sequences).size).toBe(9);
        expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      });

      it('serialises parallel alias changes: the history is one unbroken from→to chain ending at the current target', async () => {
        const registry = await fresh();
        const versions: ModelVersion[] = [];
        for (let index = 0; index < 3; index++) versions.push((await registry.register(sampleRegistration(`alias-${index}`))).version);
        const moves = Array.from({ length: 12 }, (_, index) =>
          registry.setAlias('production', versions[index % 3].id, { actor: `writer-${index}`, reason: `move ${index}` }),
        );
        const results = await Promise.all(moves);
        const history = await registry.aliasHistory('production');
        expect(history.length).toBe(results.filter((result) => result.changed).length);
        history.forEach((change, index) => {
          expect(change.sequence).toBe(index + 1);
          expect(change.from).toBe(index === 0 ? null : history[index - 1].to);
          expect(change.to).not.toBe(change.from);
        });
        expect((await registry.get('production')).id).toBe(history.at(-1)?.to);
      });
    });
  });
}
