/**
 * `npm run bench:prediction-log [-- --seconds 10 --overload 2]`: the shipped prediction log on real
 * feature rows (the held-out sample baskets, featurised as the server does), into a local "lake":
 *
 *   1. capacity: 500,000 records handed over at once (no sampling); how fast the writer worker
 *      formats, writes and compresses them, and what a record costs (JSON line, gzip) against the
 *      previous format (one JSON object per record);
 *   2. overload: batches of 100 offered at `--overload` × that capacity for `--seconds` with the
 *      default bounds; how many were logged whole, sampled (and at which rates), dropped, and whether
 *      the weighted count (Σ 1 / rate) still stands for what was offered.
 *
 * Numbers on a shared machine are indicative: the writer is one worker thread.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { basketBatchFromBaskets } from '../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../core/features/compute';
import { FEATURE_COUNT, FEATURE_SPEC } from '../core/features/spec';
import { decodeSegment, parseSegmentName, round6 } from '../core/monitoring/prediction-segments';
import { PRICE_SENSITIVITY_CLASSES } from '../core/schema/lgsr';
import { createLocalObjectStorage } from '../providers/local/object-storage';
import { openPredictionLog } from '../server/prediction-log/prediction-log';
import type { PredictionLogBatch } from '../server/prediction-log/sink';
import { servedModelFixture } from '../tests/helpers/served-model';

const flag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};

const load = (): string => loadavg().map((value) => value.toFixed(1)).join(' ');

function segments(directory: string): string[] {
  return (readdirSync(directory, { recursive: true }) as string[]).filter((file) => parseSegmentName(path.basename(file)) !== undefined).map((file) => path.join(directory, file));
}

async function main(): Promise<void> {
  const seconds = flag('--seconds', 10);
  const overload = flag('--overload', 2);
  const fixture = await servedModelFixture();
  const rows = fixture.baskets.length;
  const features = featureMatrix(new BasketFeatures(fixture.statistics), basketBatchFromBaskets(fixture.baskets));
  fixture.remove();
  let request = 0;
  /** A batch of `size` real rows (cycling through the sample), as one batch request. */
  const batch = (size: number): PredictionLogBatch => {
    const start = (request * size) % (rows - size);
    const probabilities = new Float32Array(size * 3);
    const labels = new Uint8Array(size);
    for (let row = 0; row < size; row++) {
      labels[row] = row % 3;
      probabilities.set([0.1, 0.2, 0.7], row * 3);
    }
    request += 1;
    return {
      time: Date.now(),
      modelVersion: 'v-000000000001',
      featureSpecVersion: FEATURE_SPEC.version,
      featureCount: FEATURE_COUNT,
      requestIds: [`bench-${request}`],
      rowsPerRequest: Uint32Array.of(size),
      features: features.slice(start * FEATURE_COUNT, (start + size) * FEATURE_COUNT),
      probabilities,
      labels,
      basketIds: Float64Array.from({ length: size }, (_, row) => 994100100000000 + start + row),
    };
  };
  const scratch = await mkdtemp(path.join(tmpdir(), 'retail-mlops-bench-log-'));
  try {
    // 1. capacity
    const capacityLake = path.join(scratch, 'capacity');
    const log = await openPredictionLog({ storage: createLocalObjectStorage({ root: capacityLake }), spoolDirectory: path.join(scratch, 'spool-1'), maxPendingRecords: 10_000_000, retentionIntervalMs: 0 });
    const total = 500_000;
    const started = performance.now();
    for (let sent = 0; sent < total; sent += 100) log.append(batch(100));
    const handedOver = performance.now() - started;
    while (log.stats().pending > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const written = performance.now() - started;
    await log.close();
    const shipped = performance.now() - started;
    const files = segments(capacityLake);
    const gzipBytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
    const text = files.map((file) => gunzipSync(readFileSync(file)).toString('utf8')).join('');
    const records = files.reduce((sum, file) => sum + decodeSegment(gunzipSync(readFileSync(file)).toString('utf8')).records.length, 0);
    // the previous format: one JSON object per record (ISO time, model, spec, label name, named probabilities, 6-decimal features)
    const sample = batch(1);
    const previous = JSON.stringify({
      time: new Date(sample.time).toISOString(),
      requestId: '3f1e2d7c-0a4b-4c55-9e43-51c1f9b3f2aa',
      index: 0,
      modelVersion: sample.modelVersion,
      featureSpecVersion: sample.featureSpecVersion,
      label: PRICE_SENSITIVITY_CLASSES[0],
      probabilities: { LA: 0.1, MM: 0.2, UM: 0.7 },
      features: Array.from(sample.features, round6),
    }).length + 1;
    const writerRate = total / (written / 1000);
    process.stdout.write(
      `capacity (load ${load()}): ${total.toLocaleString('en')} records handed over in ${handedOver.toFixed(0)} ms (main thread), written in ${(written / 1000).toFixed(2)} s ` +
        `= ${Math.round(writerRate).toLocaleString('en')} records/s by the writer worker, shipped by ${(shipped / 1000).toFixed(2)} s; ${records.toLocaleString('en')} in ${files.length} segments\n` +
        `record size: ${(text.length / records).toFixed(0)} B as a JSON line, ${(gzipBytes / records).toFixed(1)} B gzip-compressed (previous format ≈ ${previous} B uncompressed, never compressed): ` +
        `${((gzipBytes / records / previous) * 100).toFixed(1)}% of it\n`,
    );

    // 2. overload at `overload` × capacity, default bounds
    const overloadLake = path.join(scratch, 'overload');
    const loaded = await openPredictionLog({ storage: createLocalObjectStorage({ root: overloadLake }), spoolDirectory: path.join(scratch, 'spool-2'), retentionIntervalMs: 0 });
    const perTick = Math.max(100, Math.round((writerRate * overload) / 100));
    let offered = 0;
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const tickEnd = performance.now() + 10;
      for (let sent = 0; sent < perTick / 100; sent++) {
        loaded.append(batch(100));
        offered += 100;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, tickEnd - performance.now())));
    }
    await loaded.close();
    const stats = loaded.stats();
    const kept = segments(overloadLake).flatMap((file) => decodeSegment(gunzipSync(readFileSync(file)).toString('utf8')).records);
    const byRate = new Map<number, number>();
    for (const record of kept) byRate.set(record.rate, (byRate.get(record.rate) ?? 0) + 1);
    const weighted = kept.reduce((sum, record) => sum + 1 / record.rate, 0);
    process.stdout.write(
      `overload ×${overload} for ${seconds} s (load ${load()}): offered ${offered.toLocaleString('en')}; logged ${stats.written.toLocaleString('en')} ` +
        `(${[...byRate.entries()].sort((a, b) => b[0] - a[0]).map(([rate, count]) => `${count.toLocaleString('en')} at rate ${rate}`).join(', ')}), ` +
        `sampled out ${stats.sampledOut.toLocaleString('en')}, dropped ${stats.dropped.toLocaleString('en')} (${((stats.dropped / offered) * 100).toFixed(2)}%); ` +
        `Σ 1/rate = ${Math.round(weighted).toLocaleString('en')} (${((weighted / (offered - stats.dropped)) * 100).toFixed(1)}% of what was offered and not dropped)\n`,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
