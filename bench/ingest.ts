/**
 * `npm run bench:ingest [-- rows]`: ingests an LGSR-size file (2.7M rows, generated once and cached)
 * into a fresh lake; prints rows/s, seconds and peak RSS. Target: ≤ 10 s and ≤ 1.5 GB on 2 cores.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cachedSample } from './cached-sample';
import { ingest } from '../core/data/ingest';

async function bench(): Promise<void> {
  const rows = Number(process.argv[2] ?? 2_700_000);
  const file = cachedSample(rows);
  const lake = await mkdtemp(path.join(tmpdir(), 'bench-ingest-'));
  try {
    const started = performance.now();
    const summary = await ingest({ inputs: [file], lake });
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `ingest: ${summary.rowsRead.toLocaleString('en')} rows (${summary.rowsQuarantined} quarantined), ${summary.baskets.toLocaleString('en')} baskets, ` +
        `${summary.weeks.length} weeks, ${summary.partitions.length} silver partitions in ${seconds.toFixed(2)} s = ` +
        `${Math.round(summary.rowsRead / seconds).toLocaleString('en')} rows/s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`,
    );
  } finally {
    await rm(lake, { recursive: true, force: true });
  }
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench:ingest: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
