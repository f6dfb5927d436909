/**
 * Reads the shipped prediction log (prediction-segments.ts) from object storage: the segments of the
 * days a time window touches, decompressed and decoded, into columns — feature rows, predicted
 * classes, weights (1 / the sampling rate each record was kept at), basket ids, times. Records of
 * another feature spec (not comparable with the reference) are counted and skipped.
 */
import { gunzipSync } from 'node:zlib';
import { dayPartition, decodeSegment, parseSegmentName, type PredictionRecord } from './prediction-segments';
import type { ObjectStorage } from '../storage/port';

export interface ReadPredictionsOptions {
  /** The key prefix of the log below the storage's root ('' for the root). */
  readonly prefix: string;
  /** Only records at or after this time (epoch ms). @default all */
  readonly since?: number;
  /** Only records before this time (epoch ms). @default all */
  readonly until?: number;
  /** Records of other feature specs are skipped. */
  readonly featureSpecVersion: string;
  readonly featureCount: number;
  /** The class labels in index order: segments with other classes are skipped. */
  readonly classes: readonly string[];
}

export interface ShippedPredictions {
  readonly rows: number;
  /** rows × featureCount. */
  readonly features: Float32Array;
  /** Predicted class index per row. */
  readonly predicted: Uint8Array;
  /** 1 / the rate the record was kept at. */
  readonly weights: Float64Array;
  /** BASKET_ID, NaN when the client sent none. */
  readonly basketIds: Float64Array;
  /** Epoch ms. */
  readonly times: Float64Array;
  /** Index into `modelVersions` per row. */
  readonly modelIndex: Uint16Array;
  readonly modelVersions: readonly string[];
  /** Segments read. */
  readonly segments: number;
  /** Records skipped: another feature spec or class list, or malformed lines. */
  readonly skipped: number;
  /** Records that were sampled (rate < 1). */
  readonly sampled: number;
  /** ISO times of the first and last record read. */
  readonly from?: string;
  readonly to?: string;
}

const DAY_MS = 86_400_000;

/** The keys of the segments that may hold records of [since, until), in key order. */
export async function listSegments(storage: ObjectStorage, prefix: string, since?: number, until?: number): Promise<string[]> {
  const base = prefix.length > 0 ? `${prefix}/` : '';
  let keys: string[];
  if (since === undefined) {
    keys = (await storage.list(base)).map((object) => object.key);
  } else {
    keys = [];
    // a segment opened on the day before `since` may still hold later records
    const last = until ?? Date.now();
    for (let day = Math.floor(since / DAY_MS) * DAY_MS - DAY_MS; day <= last; day += DAY_MS) {
      for (const object of await storage.list(`${base}${dayPartition(day)}/`)) keys.push(object.key);
    }
  }
  return keys.filter((key) => {
    const parsed = parseSegmentName(key.slice(key.lastIndexOf('/') + 1));
    return parsed !== undefined && (until === undefined || parsed.openedAt < until);
  });
}

/** Reads the log's records in [since, until). */
export async function readShippedPredictions(storage: ObjectStorage, options: ReadPredictionsOptions): Promise<ShippedPredictions> {
  const keys = await listSegments(storage, options.prefix, options.since, options.until);
  const width = options.featureCount;
  let capacity = 1024;
  let features = new Float32Array(capacity * width);
  let predicted = new Uint8Array(capacity);
  let weights = new Float64Array(capacity);
  let basketIds = new Float64Array(capacity);
  let times = new Float64Array(capacity);
  let modelIndex = new Uint16Array(capacity);
  const modelVersions: string[] = [];
  let rows = 0;
  let skipped = 0;
  let sampled = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const grow = (): void => {
    capacity *= 2;
    const bigger = <T extends Float32Array | Uint8Array | Float64Array | Uint16Array>(array: T, make: (length: number) => T, scale = 1): T => {
      const next = make(capacity * scale);
      next.set(array);
      return next;
    };
    features = bigger(features, (length) => new Float32Array(length), width);
    predicted = bigger(predicted, (length) => new Uint8Array(length));
    weights = bigger(weights, (length) => new Float64Array(length));
    basketIds = bigger(basketIds, (length) => new Float64Array(length));
    times = bigger(times, (length) => new Float64Array(length));
    modelIndex = bigger(modelIndex, (length) => new Uint16Array(length));
  };
  const accept = (record: PredictionRecord, model: number): void => {
    if (rows === capacity) grow();
    features.set(record.features, rows * width);
    predicted[rows] = record.label;
    weights[rows] = record.rate > 0 ? 1 / record.rate : 1;
    basketIds[rows] = record.basketId ?? Number.NaN;
    times[rows] = record.time;
    modelIndex[rows] = model;
    if (record.rate < 1) sampled += 1;
    if (record.time < first) first = record.time;
    if (record.time > last) last = record.time;
    rows += 1;
  };
  for (const key of keys) {
    const { header, records, badLines } = decodeSegment(gunzipSync(await storage.get(key)).toString('utf8'));
    skipped += badLines;
    const comparable = header.featureSpecVersion === options.featureSpecVersion && header.classes.join() === options.classes.join();
    let model = modelVersions.indexOf(header.modelVersion);
    if (model < 0 && comparable) model = modelVersions.push(header.modelVersion) - 1;
    for (const record of records) {
      if ((options.since !== undefined && record.time < options.since) || (options.until !== undefined && record.time >= options.until)) continue;
      if (!comparable || record.features.length !== width || !(record.label >= 0 && record.label < options.classes.length)) {
        skipped += 1;
        continue;
      }
      accept(record, model);
    }
  }
  return {
    rows,
    features: features.subarray(0, rows * width),
    predicted: predicted.subarray(0, rows),
    weights: weights.subarray(0, rows),
    basketIds: basketIds.subarray(0, rows),
    times: times.subarray(0, rows),
    modelIndex: modelIndex.subarray(0, rows),
    modelVersions,
    segments: keys.length,
    skipped,
    sampled,
    ...(rows > 0 ? { from: new Date(first).toISOString(), to: new Date(last).toISOString() } : {}),
  };
}
