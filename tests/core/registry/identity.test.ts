import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../core/errors';
import {
  artifactDifferences,
  computeVersionIdentity,
  mediaTypeFor,
  parseReference,
  prepareRegistration,
  validateAliasChange,
} from '../../../core/registry/identity';
import { sampleRegistration } from '../../conformance/registry-fixtures';

describe('computeVersionIdentity', () => {
  it('derives a short id from a sha256 over model, metrics and lineage, independent of key order', () => {
    const input = sampleRegistration('identity');
    const identity = computeVersionIdentity(input);
    expect(identity.id).toMatch(/^v-[0-9a-f]{12}$/);
    expect(identity.contentHash.startsWith(identity.id.slice(2))).toBe(true);
    const reordered = { ...input, lineage: Object.fromEntries(Object.entries(input.lineage).reverse()) as typeof input.lineage };
    expect(computeVersionIdentity(reordered)).toEqual(identity);
  });

  it('changes with the model bytes, the metrics or the lineage, not with artifacts or the registrant', () => {
    const input = sampleRegistration('identity');
    const base = computeVersionIdentity(input).id;
    expect(computeVersionIdentity(sampleRegistration('other')).id).not.toBe(base);
    expect(computeVersionIdentity({ ...input, metrics: { ...input.metrics, logLoss: 0.3 } }).id).not.toBe(base);
    expect(computeVersionIdentity({ ...input, lineage: { ...input.lineage, codeCommit: 'abcdef0' } }).id).not.toBe(base);
    expect(computeVersionIdentity({ ...input, artifacts: [], createdBy: 'someone' } as typeof input).id).toBe(base);
  });

  it('is stable across releases (a pinned value: changing it orphans every registered version)', () => {
    const input = sampleRegistration('pinned');
    expect(computeVersionIdentity(input).id).toBe(computeVersionIdentity(sampleRegistration('pinned')).id);
    expect(computeVersionIdentity(input).id).toMatchInlineSnapshot('"v-fd3e018460c7"');
  });
});

describe('references and alias names', () => {
  it('parses version ids, sequence numbers and alias names', () => {
    expect(parseReference('v-0123456789ab')).toEqual({ kind: 'version', id: 'v-0123456789ab' });
    expect(parseReference('#12')).toEqual({ kind: 'sequence', sequence: 12 });
    expect(parseReference('production')).toEqual({ kind: 'alias', alias: 'production' });
    for (const malformed of ['', '#0', '#-1', 'Production', 'v-0123456789AB!', 'a/b']) expect(() => parseReference(malformed)).toThrow(InvalidOptionsError);
  });

  it('checks an alias change, reporting every problem at once', () => {
    expect(() => validateAliasChange('candidate', { actor: 'ci', reason: 'gate passed' })).not.toThrow();
    try {
      validateAliasChange('v-0123456789ab', { actor: '', reason: '', expectedCurrent: 'production' });
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidOptionsError).problems).toHaveLength(4);
    }
  });
});

describe('prepareRegistration', () => {
  it('copies the bytes, sorts the artifacts and fills in media types', () => {
    const input = sampleRegistration('prepare', {
      artifacts: [
        { name: 'z.bin', content: new Uint8Array([1, 2, 3]) },
        { name: 'a.json', content: '{}' },
        { name: 'custom.dat', content: 'x', mediaType: 'text/x-custom' },
      ],
    });
    const prepared = prepareRegistration(input);
    expect(prepared.artifacts.map((artifact) => [artifact.name, artifact.mediaType, artifact.size])).toEqual([
      ['a.json', 'application/json', 2],
      ['custom.dat', 'text/x-custom', 1],
      ['z.bin', 'application/octet-stream', 3],
    ]);
    expect(prepared.model).not.toBe(input.model);
    expect(Buffer.from(prepared.model).equals(Buffer.from(input.model))).toBe(true);
  });

  it('rejects metrics or lineage that are not plain JSON', () => {
    const input = sampleRegistration('not-json');
    expect(() => prepareRegistration({ ...input, lineage: { ...input.lineage, parameters: { learningRate: Number.NaN } } })).toThrow(/plain JSON/);
  });
});

describe('helpers', () => {
  it('guesses media types from extensions', () => {
    expect(mediaTypeFor('report.html')).toBe('text/html; charset=utf-8');
    expect(mediaTypeFor('FEATURES.JSON')).toBe('application/json');
    expect(mediaTypeFor('blob')).toBe('application/octet-stream');
  });

  it('lists the artifact differences', () => {
    const a = { name: 'a', sha256: '1', size: 1, mediaType: 'x' };
    const b = { name: 'b', sha256: '2', size: 1, mediaType: 'x' };
    expect(artifactDifferences([a, b], [a, b])).toEqual([]);
    expect(artifactDifferences([a], [{ ...a, sha256: '9' }, b])).toEqual(["artifact 'a' has other content", "artifact 'b' is new"]);
    expect(artifactDifferences([a, b], [a])).toEqual(["artifact 'b' is missing"]);
  });
});
