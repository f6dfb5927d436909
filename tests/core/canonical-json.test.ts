import { describe, expect, it } from 'vitest';
import { canonicalJson, NotJsonError } from '../../core/canonical-json';

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined properties and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: true, y: null }], c: 'x' }, e: undefined })).toBe('{"a":{"c":"x","d":[3,1,{"y":null,"z":true}]},"b":1}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('writes numbers as JSON does (round-trip exact)', () => {
    const value = { accuracy: 0.1 + 0.2, small: 1e-21, negativeZero: -0 };
    expect(JSON.parse(canonicalJson(value))).toEqual({ accuracy: 0.30000000000000004, small: 1e-21, negativeZero: 0 });
  });

  it('refuses what JSON cannot represent', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [Number.NaN, Infinity, { a: () => 1 }, [undefined], cyclic, new Float32Array(2), new Date(0), 10n]) {
      expect(() => canonicalJson(value)).toThrow(NotJsonError);
    }
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});
