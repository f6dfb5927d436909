/**
 * The shipped prediction log on its own: segments (compact records, rotation, compression), shipping
 * with retries that never store a record twice, recovery of what a dead server left in its spool,
 * deterministic sampling with recorded rates and warning lines when the writer falls behind, no API
 * key in any record, retention by age and size.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import { applyRetention } from '../../core/monitoring/prediction-retention';
import { decodeSegment, encodeRecords, encodeSegmentHeader, parseSegmentName, round6, segmentKey, segmentName } from '../../core/monitoring/prediction-segments';
import { TELEMETRY_EVENTS } from '../../core/monitoring/telemetry';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';
import type { ObjectStorage } from '../../core/storage/port';
import { createLocalObjectStorage } from '../../providers/local/object-storage';
import type { LogLevel, ServerLogger } from '../../server/logger';
import { hashRequestId, isSampled, sampleRateFor } from '../../server/prediction-log/sampling';
import { SegmentWriter } from '../../server/prediction-log/segment-writer';
import type { PredictionLogBatch } from '../../server/prediction-log/sink';
import { SpoolInUseError } from '../../server/prediction-log/spool-lock';
import { temporaryDirectory } from '../helpers/paths';
import { openDirectoryPredictionLog, segmentFiles, shippedRecords } from '../helpers/prediction-log';

const MODEL = 'v-000000000001';

/** A run of `rows` predictions from one request, each basket's features holding its position. */
function batch(requestId: string, rows: number, options: { readonly basketIds?: boolean; readonly model?: string } = {}): PredictionLogBatch {
  const features = new Float32Array(rows * FEATURE_COUNT);
  for (let row = 0; row < rows; row++) features[row * FEATURE_COUNT] = row + 0.1234567;
  const probabilities = new Float32Array(rows * 3);
  const labels = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) {
    labels[row] = row % 3;
    probabilities[row * 3 + (row % 3)] = 1;
  }
  return {
    time: Date.UTC(2026, 10, 20, 10, 0, 0),
    modelVersion: options.model ?? MODEL,
    featureSpecVersion: FEATURE_SPEC.version,
    featureCount: FEATURE_COUNT,
    requestIds: [requestId],
    rowsPerRequest: Uint32Array.of(rows),
    features,
    probabilities,
    labels,
    ...(options.basketIds ? { basketIds: Float64Array.from({ length: rows }, (_, row) => (row % 2 === 0 ? 100000000000000 + row : Number.NaN)) } : {}),
  };
}

function capturingLogger(): ServerLogger & { readonly lines: { level: LogLevel; event: string; fields: Record<string, unknown> }[] } {
  const lines: { level: LogLevel; event: string; fields: Record<string, unknown> }[] = [];
  return { lines, log: (level, event, fields = {}) => lines.push({ level, event, fields: { ...fields } }) };
}

let directory: ReturnType<typeof temporaryDirectory>;
beforeEach(() => {
  directory = temporaryDirectory('retail-mlops-prediction-log-');
});
afterEach(() => directory.remove());

describe('segments', () => {
  it('name, partition and parse: a segment key is fixed by its name', () => {
    const name = segmentName(Date.UTC(2026, 10, 20, 23, 59, 58), 'pod-1', 7);
    expect(name).toBe('predictions-20261120T235958Z-pod-1-000007.jsonl.gz');
    expect(parseSegmentName(name)).toEqual({ openedAt: Date.UTC(2026, 10, 20, 23, 59, 58), instance: 'pod-1', sequence: 7 });
    expect(segmentKey('predictions', name)).toBe(`predictions/date=2026-11-20/${name}`);
    expect(segmentKey('', name)).toBe(`date=2026-11-20/${name}`);
    expect(parseSegmentName('predictions-x.jsonl')).toBeUndefined();
  });

  it('encode compact records (one JSON array each, ≤ 6 decimals) that decode to what was predicted', () => {
    const run = batch('request-1', 3, { basketIds: true });
    const text = encodeSegmentHeader({ instance: 'i', modelVersion: MODEL, featureSpecVersion: FEATURE_SPEC.version, classes: PRICE_SENSITIVITY_CLASSES }) + encodeRecords({ ...run, classCount: 3, rate: 0.5 });
    const { header, records, badLines } = decodeSegment(text);
    expect(header).toMatchObject({ modelVersion: MODEL, featureSpecVersion: FEATURE_SPEC.version, classes: ['LA', 'MM', 'UM'] });
    expect(badLines).toBe(0);
    expect(records.map((record) => [record.requestId, record.index, record.basketId, record.label, record.rate])).toEqual([
      ['request-1', 0, 100000000000000, 0, 0.5],
      ['request-1', 1, null, 1, 0.5],
      ['request-1', 2, 100000000000002, 2, 0.5],
    ]);
    expect(records[2].features[0]).toBe(2.123457);
    expect(records[2].features).toHaveLength(FEATURE_COUNT);
    // compact: far below the ≈ 1 KB a record took as a JSON object with 6-decimal features
    const line = text.split('\n')[1];
    expect(line.length).toBeLessThan(300);
    // a torn last line is counted, not thrown
    expect(decodeSegment(`${text}[1,"x",`).badLines).toBe(1);
  });

  it('write every number as round6 would, whatever its size and sign (the encoder formats decimals itself)', () => {
    const values = [0, -0, 1, -1, 0.5, 1e-7, -4e-7, 5e-7, 0.1234565, 0.1234575, 1 / 3, -2 / 3, 12.000001, 99999.999999, 123456789.123456, -1e-6, 1e12 + 0.25, 7e15, Number.NaN];
    for (let index = 0; index < 2000; index++) values.push((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 12 - 4));
    const text = encodeRecords({
      time: 1, requestIds: ['n\u00e9e "quoted"'], rowsPerRequest: [1], featureCount: values.length, features: values, probabilities: [0.25, 0.5, 0.25], classCount: 3, labels: [1], rate: 1,
    });
    expect(/^[\x20-\x7e]*\n$/.test(text)).toBe(true);
    const [, requestId, , , , , , features] = JSON.parse(text) as [number, string, number, null, number, number[], number, (number | null)[]];
    expect(requestId).toBe('n\u00e9e "quoted"');
    values.forEach((value, index) => expect(features[index], String(value)).toBe(Number.isNaN(value) ? null : round6(value) === 0 ? 0 : round6(value)));
  });

  it('rotate by size, by age and on a model change; complete segments are gzip files, the open one a .partial', async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const writer = new SegmentWriter({ directory: directory.path, maxSegmentBytes: 1000, maxSegmentAgeMs: 60_000, instance: 'test', now: () => now });
    const identity = { modelVersion: MODEL, featureSpecVersion: '1', classes: ['LA', 'MM', 'UM'] };
    const line = `${'a'.repeat(500)}\n`;
    expect(await writer.write(identity, line, 1)).toBeUndefined();
    expect(readdirSync(directory.path)).toEqual(['predictions-20260101T120000Z-test-000001.jsonl.partial']);
    const bySize = await writer.write(identity, line, 1); // would pass 1000 bytes: the first completes
    expect(bySize).toMatchObject({ name: 'predictions-20260101T120000Z-test-000001.jsonl.gz', records: 1 });
    now += 61_000;
    const byAge = await writer.completeIfOld();
    expect(byAge?.name).toBe('predictions-20260101T120000Z-test-000002.jsonl.gz');
    await writer.write(identity, 'b\n', 1);
    const byModel = await writer.write({ ...identity, modelVersion: 'v-000000000002' }, 'c\n', 1);
    expect(byModel?.name).toBe('predictions-20260101T120101Z-test-000003.jsonl.gz');
    const last = await writer.close();
    expect(last?.name).toBe('predictions-20260101T120101Z-test-000004.jsonl.gz');
    expect(readdirSync(directory.path).sort()).toEqual([1, 2, 3, 4].map((sequence) => expect.stringMatching(new RegExp(`-00000${sequence}\\.jsonl\\.gz$`))));
  });
});

describe('sampling', () => {
  it('keeps everything until the backlog passes its start, then halves per eighth of the bound, down to the minimum', () => {
    expect([0, 0.1, 0.249].map((fill) => sampleRateFor(fill, 0.25, 1 / 64))).toEqual([1, 1, 1]);
    expect([0.25, 0.374, 0.375, 0.5, 0.75, 0.99, 1].map((fill) => sampleRateFor(fill, 0.25, 1 / 64))).toEqual([1 / 2, 1 / 2, 1 / 4, 1 / 8, 1 / 32, 1 / 64, 1 / 64]);
  });

  it('is deterministic, nested (a lower rate keeps a subset) and unbiased over request ids', () => {
    const ids = Array.from({ length: 4000 }, (_, index) => `request-${index}`);
    for (const rate of [1 / 2, 1 / 8, 1 / 32]) {
      const kept = ids.filter((id) => isSampled(hashRequestId(id), 0, rate));
      expect(kept.length / ids.length).toBeGreaterThan(rate * 0.8);
      expect(kept.length / ids.length).toBeLessThan(rate * 1.2);
      for (const id of kept) expect(isSampled(hashRequestId(id), 0, rate * 2)).toBe(true);
      expect(ids.filter((id) => isSampled(hashRequestId(id), 0, rate))).toEqual(kept);
    }
    // positions within one batch request are sampled independently
    const positions = Array.from({ length: 4000 }, (_, index) => index).filter((index) => isSampled(hashRequestId('one-batch'), index, 1 / 4));
    expect(positions.length / 4000).toBeGreaterThan(0.2);
    expect(positions.length / 4000).toBeLessThan(0.3);
  });

  it('under a flood: samples (each record with its rate), then drops, says so in warning lines, and accounts for every prediction', async () => {
    const logger = capturingLogger();
    const shipped = path.join(directory.path, 'shipped');
    const log = await openDirectoryPredictionLog(shipped, { maxPendingRecords: 2000, minimumSampleRate: 1 / 4, flushIntervalMs: 1000, logger, environment: 'test' });
    let appended = 0;
    // synchronous appends: the writer cannot take any of them before the loop ends
    for (let index = 0; index < 200; index++) {
      log.append(batch(`flood-${index}`, 50));
      appended += 50;
    }
    const during = log.stats();
    expect(during.sampledOut).toBeGreaterThan(0);
    expect(during.dropped).toBeGreaterThan(0);
    await log.close();
    const stats = log.stats();
    const records = shippedRecords(shipped);
    expect(records).toHaveLength(stats.written);
    expect(stats.written + stats.dropped + stats.sampledOut).toBe(appended);
    // the first runs are whole; later ones sampled at powers of two, their rate in each record
    expect(records[0].rate).toBe(1);
    const rates = new Set(records.map((record) => record.rate));
    expect([...rates].every((rate) => Number.isInteger(Math.log2(1 / rate)))).toBe(true);
    expect(Math.min(...rates)).toBeLessThan(1);
    // a sampled record keeps its position in its request
    const sampled = records.filter((record) => record.rate < 1);
    expect(sampled.some((record) => record.index > 0)).toBe(true);
    for (const record of sampled) expect(record.features[0]).toBeCloseTo(record.index + 0.1234567, 5);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    const sampling = warnings.find((line) => line.event === TELEMETRY_EVENTS.predictionLogSampling.name);
    const dropping = warnings.find((line) => line.event === TELEMETRY_EVENTS.predictionLogDropping.name);
    expect(sampling?.fields).toMatchObject({ environment: 'test', sampleRate: expect.any(Number), sampledOut: expect.any(Number) });
    expect(dropping?.fields).toMatchObject({ environment: 'test', dropped: expect.any(Number), reason: 'backlog' });
    const droppedWarned = warnings.filter((line) => line.event === TELEMETRY_EVENTS.predictionLogDropping.name).reduce((sum, line) => sum + (line.fields.dropped as number), 0);
    expect(droppedWarned).toBe(stats.dropped);
  });
});

describe('shipping', () => {
  /** Local storage whose uploads fail as told: 'refuse' throws before storing, 'lose' stores and then throws (the answer was lost). */
  function flakyStorage(root: string, plan: ('refuse' | 'lose' | 'ok')[]): ObjectStorage & { readonly attempts: string[] } {
    const inner = createLocalObjectStorage({ root });
    const attempts: string[] = [];
    return {
      ...inner,
      attempts,
      async upload(key, file, options) {
        attempts.push(key);
        const step = plan.shift() ?? 'ok';
        if (step === 'refuse') throw new Error('connection reset');
        await inner.upload(key, file, options);
        if (step === 'lose') throw new Error('socket hang up after the upload');
      },
    };
  }

  it('retries failed uploads; an upload whose answer was lost is written again under the same key: no record twice, none lost', async () => {
    const shipped = path.join(directory.path, 'lake');
    const storage = flakyStorage(shipped, ['refuse', 'lose', 'refuse', 'lose']);
    const log = await openDirectoryPredictionLog(shipped, { storage, prefix: 'predictions', maxSegmentBytes: 4096, flushIntervalMs: 10, uploadRetryDelayMs: 5, uploadRetryRoundMs: 10 });
    for (let index = 0; index < 20; index++) log.append(batch(`retry-${index}`, 5, { basketIds: true }));
    await log.close();
    const records = shippedRecords(path.join(shipped, 'predictions'));
    expect(records).toHaveLength(100);
    expect(new Set(records.map((record) => `${record.requestId}/${record.index}`)).size).toBe(100);
    expect(log.stats()).toMatchObject({ written: 100, dropped: 0, waitingSegments: 0 });
    // more attempts than segments, every retried key the same as its first attempt
    const segments = segmentFiles(path.join(shipped, 'predictions'));
    expect(storage.attempts.length).toBeGreaterThan(segments.length);
    expect(new Set(storage.attempts)).toEqual(new Set(segments.map((file) => `predictions/${file}`)));
    expect(readdirSync(`${shipped}.spool`).filter((file) => file !== '.lock')).toEqual([]);
  });

  it('ships on close what a dead server left in the spool (a torn last line cut), and refuses a spool another live server holds', async () => {
    const spool = path.join(directory.path, 'lake.spool');
    mkdirSync(spool, { recursive: true });
    const header = encodeSegmentHeader({ instance: 'dead', modelVersion: MODEL, featureSpecVersion: FEATURE_SPEC.version, classes: PRICE_SENSITIVITY_CLASSES });
    const records = encodeRecords({ ...batch('left-behind', 3), classCount: 3, rate: 1 });
    const opened = Date.UTC(2026, 10, 20, 9, 0, 0);
    writeFileSync(path.join(spool, segmentName(opened, 'dead', 1).replace('.gz', '.partial')), `${header}${records}[1763632800000,"torn`);
    writeFileSync(path.join(spool, segmentName(opened, 'dead', 2)), gzipSync(`${header}${encodeRecords({ ...batch('complete', 2), classCount: 3, rate: 1 })}`));
    writeFileSync(path.join(spool, '.lock'), JSON.stringify({ pid: 999_999_999, host: 'elsewhere' }));
    const shipped = path.join(directory.path, 'lake');
    const log = await openDirectoryPredictionLog(shipped);
    // a second log on the same spool: in this process, or in another live process of this host
    await expect(openDirectoryPredictionLog(shipped)).rejects.toBeInstanceOf(SpoolInUseError);
    const otherSpool = path.join(directory.path, 'other.spool');
    mkdirSync(otherSpool);
    writeFileSync(path.join(otherSpool, '.lock'), JSON.stringify({ pid: process.ppid, host: hostname() }));
    await expect(openDirectoryPredictionLog(path.join(directory.path, 'other'))).rejects.toThrow(new RegExp(`in use by process ${process.ppid}`));
    await log.close();
    const found = shippedRecords(shipped);
    expect(found.map((record) => `${record.requestId}/${record.index}`).sort()).toEqual(['complete/0', 'complete/1', 'left-behind/0', 'left-behind/1', 'left-behind/2']);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('never writes an API key: a request id equal to one is logged as redacted', async () => {
    const secret = 'api-key-0123456789abcdef';
    const shipped = path.join(directory.path, 'lake');
    const log = await openDirectoryPredictionLog(shipped, { secrets: [secret] });
    log.append(batch(secret, 2));
    log.append(batch('plain-id', 1));
    await log.close();
    expect(shippedRecords(shipped).map((record) => record.requestId)).toEqual(['redacted', 'redacted', 'plain-id']);
    for (const file of segmentFiles(shipped)) expect(readFileSync(path.join(shipped, file)).includes(secret)).toBe(false);
  });

  it('validates its options, reporting every problem at once', async () => {
    await expect(
      openDirectoryPredictionLog(directory.path, { maxSegmentBytes: 10, maxPendingRecords: 0, minimumSampleRate: 0.3, instance: 'a b', retention: { maxAgeMs: -1 } }),
    ).rejects.toThrow(/maxSegmentBytes.*maxPendingRecords.*minimumSampleRate must be a power of two.*maxAge.*instance/);
  });
});

describe('retention', () => {
  it('deletes segments older than the age, then the oldest while above the size; other objects stay', async () => {
    const storage = createLocalObjectStorage({ root: directory.path });
    const day = 86_400_000;
    const now = Date.UTC(2026, 10, 20, 12, 0, 0);
    const put = (openedAt: number, bytes: number, instance = 'pod'): Promise<void> =>
      storage.put(segmentKey('predictions', segmentName(openedAt, instance, 1)), new Uint8Array(bytes));
    await put(now - 9 * day, 10); // too old
    await put(now - 3 * day, 400, 'a'); // oldest within age: goes for size
    await put(now - 2 * day, 400, 'b');
    await put(now - 1 * day, 400, 'c');
    await storage.put('predictions/README.txt', new Uint8Array(5));
    const outcome = await applyRetention(storage, 'predictions', { maxAgeMs: 7 * day, maxBytes: 1000 }, now);
    expect(outcome).toEqual({ deletedSegments: 2, deletedBytes: 410, keptSegments: 2, keptBytes: 800 });
    expect((await storage.list('predictions/')).map((object) => path.basename(object.key))).toEqual([
      'README.txt',
      expect.stringContaining('-b-'),
      expect.stringContaining('-c-'),
    ].sort((a, b) => (typeof a === 'string' && typeof b === 'string' ? a.localeCompare(b) : 0)));
  });
});
