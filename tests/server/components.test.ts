/**
 * The server's parts on their own: API-key checks, the registry resolver, the micro-batcher (with a
 * stand-in runner), the request featurizer (the prediction log has its own file: prediction-log.test.ts).
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../core/errors';
import { basketBatchFromBaskets } from '../../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../../core/features/compute';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import { apiKeysFromEnvironment, bearerToken, createApiKeyAuthenticator, parseApiKeys } from '../../server/auth';
import { InferenceQueueFullError, InferenceTimeoutError, OverloadedError } from '../../server/errors';
import { MicroBatcher, type InferenceRunner } from '../../server/inference/micro-batcher';
import type { BodyShape, RunResult } from '../../server/inference/protocol';
import { RequestFeaturizer } from '../../server/inference/request-features';
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
      rowsPerRequest: new Uint32Array(rows).fill(1),
      problems: shapes.map(() => null),
      features: new Float32Array(rows * FEATURE_COUNT),
      probabilities,
      labels,
      predictionsJson: shapes.map(() => ''),
      computeMs: this.delayMs,
    };
  }
}

const body = (length: number): Uint8Array => new Uint8Array(length);
const batcher = (runner: InferenceRunner, overrides: Partial<ConstructorParameters<typeof MicroBatcher>[0]> = {}) =>
  new MicroBatcher({
    workers: [runner],
    classCount: 3,
    maxBatchBytes: 1 << 20,
    maxQueuedRequests: 1000,
    maxQueuedBytes: 1 << 24,
    maxInFlightPerWorker: 1,
    latencyBudgetMs: 60_000,
    monotonicNow: () => performance.now(),
    ...overrides,
  });

describe('micro-batcher', () => {

  it('merges requests that arrive while the runner is busy, and answers each with its own row', async () => {
    const runner = new StandInRunner(20);
    const subject = batcher(runner);
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, index) => subject.submit('basket', body(index + 1), `r${index}`, 5000)));
    outcomes.forEach((outcome, index) => {
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect(outcome.batchLabels[outcome.firstRow]).toBe((index + 1) % 3);
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
    const runner = new StandInRunner(400);
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

describe('micro-batcher load shedding', () => {

  it('refuses at once when the work ahead would take longer than the latency budget, at the cost the workers showed', async () => {
    // every batch reports 20 ms of work, whatever its size: after one batch of 300 KiB the cost is known
    const runner = new StandInRunner(20);
    // the event loop is never busy here: the workers' share alone decides
    const subject = batcher(runner, { maxQueuedBytes: 1 << 26, latencyBudgetMs: 10, loopBusyMs: () => 0 });
    // no estimate yet: nothing is refused for its wait (a cold start proves nothing)
    const first = [subject.submit('batch', body(100 * 1024), 'a', 5000), subject.submit('batch', body(100 * 1024), 'b', 5000), subject.submit('batch', body(100 * 1024), 'c', 5000)];
    expect(subject.expectedWaitMs).toBe(0);
    await Promise.all(first);
    // 20 ms for 300 KiB + 3 requests' share: ≈ 0.065 µs a byte
    const running = subject.submit('batch', body(100 * 1024), 'd', 5000);
    const waiting = subject.submit('batch', body(100 * 1024), 'e', 5000);
    // two 100 KiB requests ahead ≈ 13 ms > 10 ms
    expect(subject.expectedWaitMs).toBeGreaterThan(10);
    let refusal: unknown;
    try {
      void subject.submit('basket', body(1000), 'f', 5000);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(OverloadedError);
    expect((refusal as OverloadedError).budgetMs).toBe(10);
    expect(subject.refusal(1000)).toBeInstanceOf(OverloadedError);
    await Promise.all([running, waiting]);
    // once the work ahead is done, requests are taken again
    expect(subject.expectedWaitMs).toBe(0);
    await expect(subject.submit('basket', body(1000), 'g', 5000)).resolves.toMatchObject({ ok: true });
  });

  it('counts the event loop\'s busy turns in the wait (the shortest of the last 8): a loop busy 100 ms a turn sheds with idle workers', async () => {
    let busy = 0;
    // every turn with requests found the loop busy for another 100 ms
    const subject = batcher(new StandInRunner(1), { maxQueuedBytes: 1 << 26, latencyBudgetMs: 50, loopBusyMs: () => (busy += 100) });
    await Promise.all([subject.submit('batch', body(300 * 1024), 'a', 5000)]);
    await subject.submit('basket', body(1000), 'b', 5000);
    // the workers are idle and nothing waits, but a request read now is answered a turn later
    const running = subject.submit('basket', body(1000), 'c', 5000);
    expect(subject.expectedWaitMs).toBeGreaterThan(50);
    expect(() => subject.submit('basket', body(1000), 'd', 5000)).toThrow(OverloadedError);
    await running;
  });

  it('does not shed for one long turn (a model loading, a collection): only a loop busy turn after turn counts', async () => {
    const turns = [0, 1, 1, 500, 1, 1, 1];
    let busy = 0;
    const subject = batcher(new StandInRunner(1), { maxQueuedBytes: 1 << 26, latencyBudgetMs: 50, loopBusyMs: () => (busy += turns.shift() ?? 1) });
    await subject.submit('batch', body(300 * 1024), 'a', 5000);
    for (const id of ['b', 'c', 'd', 'e', 'f']) await subject.submit('basket', body(1000), id, 5000);
    const running = subject.submit('basket', body(1000), 'g', 5000);
    expect(subject.expectedWaitMs).toBeLessThan(50);
    expect(subject.refusal(1000)).toBeUndefined();
    await running;
  });

  it('answers a running request that outlives its deadline with a timeout, and drops its late result', async () => {
    const runner = new StandInRunner(200);
    const subject = batcher(runner);
    await expect(subject.submit('basket', body(10), 'slow', 20)).rejects.toBeInstanceOf(InferenceTimeoutError);
    // answered at the deadline, while its run is still going (its bytes count until the run ends)
    expect(runner.inFlight).toBe(1);
    expect(subject.queuedRequests).toBe(1);
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
