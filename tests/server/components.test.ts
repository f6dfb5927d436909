/**
 * The server's parts on their own: API-key checks, the registry resolver, the micro-batcher (with a
 * stand-in runner), the request featurizer, the rotating prediction-log files and the bounded file log.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../core/errors';
import { basketBatchFromBaskets } from '../../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../../core/features/compute';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import { apiKeysFromEnvironment, bearerToken, createApiKeyAuthenticator, parseApiKeys } from '../../server/auth';
import { InferenceQueueFullError, InferenceTimeoutError } from '../../server/errors';
import { MicroBatcher, type InferenceRunner } from '../../server/inference/micro-batcher';
import type { BodyShape, RunResult } from '../../server/inference/protocol';
import { RequestFeaturizer } from '../../server/inference/request-features';
import { openFilePredictionLog } from '../../server/prediction-log/file-log';
import { RotatingFileWriter } from '../../server/prediction-log/rotating-file-writer';
import type { PredictionLogBatch } from '../../server/prediction-log/sink';
import { DEFAULT_REQUEST_LIMITS } from '../../server/schemas';
import { temporaryDirectory } from '../helpers/paths';
import { servedModelFixture } from '../helpers/served-model';

describe('API keys', () => {
  it('accepts exactly the configured keys, compared by digest', () => {
    const auth = createApiKeyAuthenticator(['first-key-0123456789', 'second-key-0123456789', 'first-key-0123456789']);
    expect(auth.keyCount).toBe(2);
    expect(auth.verify('first-key-0123456789')).toBe(true);
    expect(auth.verify('second-key-0123456789')).toBe(true);
    for (const wrong of ['', 'first-key-012345678', 'first-key-01234567890', 'FIRST-KEY-0123456789', 'x'.repeat(10_000)]) expect(auth.verify(wrong)).toBe(false);
  });

  it('refuses short keys and keys with whitespace, naming them by position only', () => {
    expect(() => createApiKeyAuthenticator(['short', 'has a space in it 0123'])).toThrow(/API key #1 is shorter than 16.*API key #2 contains whitespace/);
    try {
      createApiKeyAuthenticator(['secret-but-short']);
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('reads bearer tokens and key lists', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc  ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(parseApiKeys(' one,two ,\nthree\r\n,, ')).toEqual(['one', 'two', 'three']);
  });

  it('takes keys from RETAIL_MLOPS_API_KEYS or the file in RETAIL_MLOPS_API_KEYS_FILE, not both', () => {
    const directory = temporaryDirectory();
    try {
      const file = path.join(directory.path, 'keys');
      writeFileSync(file, 'key-from-file-0123456789\n');
      expect(apiKeysFromEnvironment({ RETAIL_MLOPS_API_KEYS: 'a,b' })).toEqual(['a', 'b']);
      expect(apiKeysFromEnvironment({ RETAIL_MLOPS_API_KEYS_FILE: file })).toEqual(['key-from-file-0123456789']);
      expect(apiKeysFromEnvironment({})).toBeUndefined();
      expect(() => apiKeysFromEnvironment({ RETAIL_MLOPS_API_KEYS: 'a', RETAIL_MLOPS_API_KEYS_FILE: file })).toThrow(InvalidOptionsError);
      expect(() => apiKeysFromEnvironment({ RETAIL_MLOPS_API_KEYS_FILE: path.join(directory.path, 'missing') })).toThrow(/cannot be read/);
    } finally {
      directory.remove();
    }
  });
});

/** A runner that answers after `delayMs` with one row per body (probability 1 for class = body length % 3). */
class StandInRunner implements InferenceRunner {
  inFlight = 0;
  failed = false;
  readonly batches: number[] = [];
  constructor(private readonly delayMs: number) {}
  async run(shapes: readonly BodyShape[], bodies: readonly Uint8Array[]): Promise<RunResult> {
    this.inFlight += 1;
    this.batches.push(bodies.length);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.inFlight -= 1;
    const rows = bodies.length;
    const probabilities = new Float32Array(rows * 3);
    const labels = new Uint8Array(rows);
    bodies.forEach((body, row) => {
      labels[row] = body.length % 3;
      probabilities[row * 3 + labels[row]] = 1;
    });
    return {
      type: 'result',
      id: 0,
      rowsPerRequest: new Uint32Array(rows).fill(1),
      problems: shapes.map(() => null),
      features: new Float32Array(rows * FEATURE_COUNT),
      probabilities,
      labels,
      predictionsJson: shapes.map(() => ''),
    };
  }
}

describe('micro-batcher', () => {
  const body = (length: number): Uint8Array => new Uint8Array(length);
  const batcher = (runner: InferenceRunner, overrides: Partial<ConstructorParameters<typeof MicroBatcher>[0]> = {}) =>
    new MicroBatcher({
      workers: [runner],
      classCount: 3,
      maxBatchBytes: 1 << 20,
      maxQueuedRequests: 1000,
      maxQueuedBytes: 1 << 24,
      maxInFlightPerWorker: 1,
      monotonicNow: () => performance.now(),
      ...overrides,
    });

  it('merges requests that arrive while the runner is busy, and answers each with its own row', async () => {
    const runner = new StandInRunner(20);
    const subject = batcher(runner);
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, index) => subject.submit('basket', body(index + 1), `r${index}`, 5000)));
    outcomes.forEach((outcome, index) => {
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect(outcome.labels[0]).toBe((index + 1) % 3);
    });
    expect(runner.batches.reduce((sum, size) => sum + size, 0)).toBe(30);
    expect(runner.batches.length).toBeLessThan(30);
  });

  it('refuses a request when the queue is full (requests or bytes), at once', async () => {
    const runner = new StandInRunner(50);
    const subject = batcher(runner, { maxQueuedRequests: 2, maxQueuedBytes: 100 });
    const first = subject.submit('basket', body(10), 'a', 5000);
    const second = subject.submit('basket', body(10), 'b', 5000);
    expect(() => subject.submit('basket', body(10), 'c', 5000)).toThrow(InferenceQueueFullError);
    await Promise.all([first, second]);
    const big = subject.submit('batch', body(90), 'd', 5000);
    expect(() => subject.submit('basket', body(20), 'e', 5000)).toThrow(InferenceQueueFullError);
    await big;
    // an empty queue always takes one request, however large
    await expect(subject.submit('batch', body(1000), 'f', 5000)).resolves.toMatchObject({ ok: true });
  });

  it('drops requests that waited past their deadline without running them', async () => {
    const runner = new StandInRunner(60);
    const subject = batcher(runner);
    const running = subject.submit('basket', body(1), 'running', 5000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const late = subject.submit('basket', body(1), 'late', 10);
    await expect(late).rejects.toBeInstanceOf(InferenceTimeoutError);
    await running;
    expect(runner.batches).toEqual([1]);
    await subject.whenIdle();
    expect(subject.queuedRequests).toBe(0);
  });
});

describe('request featurizer', () => {
  it('computes the features batch training computes, for valid bodies only, in request order', async () => {
    const fixture = await servedModelFixture();
    try {
      const featurizer = new RequestFeaturizer(fixture.statistics, DEFAULT_REQUEST_LIMITS);
      const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
      const baskets = fixture.baskets.slice(0, 5);
      const result = featurizer.featurize(
        ['basket', 'batch', 'basket', 'batch'],
        [encode(baskets[0]), encode({ baskets: baskets.slice(1, 4) }), encode('{nope'), encode({ baskets: [baskets[4]] })],
      );
      expect(Array.from(result.rowsPerRequest)).toEqual([1, 3, 0, 1]);
      expect(result.problems.map((problem) => problem?.kind ?? null)).toEqual([null, null, 'malformed-json', null]);
      const expected = featureMatrix(new BasketFeatures(fixture.statistics), basketBatchFromBaskets(baskets));
      expect(Array.from(result.features)).toEqual(Array.from(expected));
      expect(result.features.length).toBe(5 * FEATURE_SPEC.names.length);
      expect(featurizer.decode('basket', new Uint8Array([0xff, 0xfe]))).toMatchObject({ problem: { kind: 'malformed-json' } });
    } finally {
      fixture.remove();
    }
  });
});

describe('prediction log files', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  beforeEach(() => {
    directory = temporaryDirectory('retail-mlops-prediction-log-');
  });
  afterEach(() => directory.remove());

  it('rotate by size and by age; only complete files end in .jsonl', async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const writer = new RotatingFileWriter({ directory: directory.path, maxFileBytes: 100, maxFileAgeMs: 60_000, instance: 'test', now: () => now });
    await writer.write(`${'a'.repeat(60)}\n`);
    expect(readdirSync(directory.path)).toEqual(['predictions-20260101T120000Z-test-0001.jsonl.partial']);
    await writer.write(`${'b'.repeat(60)}\n`); // would pass 100 bytes: the first file completes
    now += 61_000;
    await writer.rotateIfOld(); // the second file is old: completes although small
    await writer.write('c\n');
    await writer.close();
    const files = readdirSync(directory.path).sort();
    expect(files).toEqual(['predictions-20260101T120000Z-test-0001.jsonl', 'predictions-20260101T120000Z-test-0002.jsonl', 'predictions-20260101T120101Z-test-0003.jsonl']);
    expect(files.map((file) => readFileSync(path.join(directory.path, file), 'utf8'))).toEqual([`${'a'.repeat(60)}\n`, `${'b'.repeat(60)}\n`, 'c\n']);
  });

  it('drops and counts batches beyond the pending bound instead of queueing without limit', async () => {
    const log = await openFilePredictionLog({ directory: directory.path, maxPendingRecords: 500, flushIntervalMs: 1000, instance: 'bound' });
    const batch = (rows: number): PredictionLogBatch => ({
      time: Date.now(),
      modelVersion: 'v-000000000000',
      featureSpecVersion: FEATURE_SPEC.version,
      featureCount: FEATURE_COUNT,
      requestIds: ['flood'],
      rowsPerRequest: Uint32Array.of(rows),
      features: new Float32Array(rows * FEATURE_COUNT),
      probabilities: new Float32Array(rows * 3).fill(1 / 3),
      labels: new Uint8Array(rows),
    });
    for (let index = 0; index < 10; index++) log.append(batch(100));
    expect(log.stats()).toMatchObject({ pending: 500, dropped: 500 });
    await log.close();
    expect(log.stats()).toMatchObject({ written: 500, dropped: 500, pending: 0 });
    const lines = readdirSync(directory.path).flatMap((file) => readFileSync(path.join(directory.path, file), 'utf8').trim().split('\n'));
    expect(lines).toHaveLength(500);
    // appending after close drops
    log.append(batch(1));
    expect(log.stats().dropped).toBe(501);
  });

  it('validates its options, reporting every problem at once', async () => {
    await expect(openFilePredictionLog({ directory: '', maxFileBytes: 10, maxPendingRecords: 0, instance: 'a b' })).rejects.toThrow(
      /directory must be a non-empty path.*maxFileBytes.*maxPendingRecords.*instance/,
    );
  });
});
