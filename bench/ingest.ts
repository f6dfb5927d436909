/**
 * `npm run bench:ingest [-- rows] [--repeat N]`: ingests an LGSR-size file (2.7M rows, generated once
 * and cached) into a fresh lake, and times in the same run the floor: a bare DuckDB copy of the same
 * file to Parquet partitioned by STORE_REGION and BASKET_TYPE (read_csv with its own type detection,
 * no checks, no quarantine, no gold, same threads and memory limit). Prints both, their ratio, rows/s
 * and peak RSS. Targets: ≤ 10 s and ≤ 1.5 GB on 2 cores; ≤ 2× the floor.
 *
 * With --repeat N the two alternate N times and the fastest of each counts (the machine may be shared).
 * CPU seconds (all threads of this process) are printed beside each wall time: on a busy machine
 * their ratio says more about the work than the wall times do.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { cachedSample } from './cached-sample';
import { DuckDbSession, sqlString } from '../core/lake/duckdb';
import { ingest, type IngestSummary } from '../core/lake/ingest';

/** Ingest may take at most this multiple of the bare copy's time. */
const FLOOR_RATIO_TARGET = 2;

const { values: flags, positionals } = parseArgs({ options: { repeat: { type: 'string', default: '1' } }, allowPositionals: true });

/** The bare copy: what DuckDB alone needs to turn the file into partitioned Parquet. */
async function bareCopy(file: string, directory: string): Promise<Timing> {
  const session = await DuckDbSession.open({ memoryLimit: '1GB', spillDirectory: path.join(directory, 'spill') });
  try {
    return await timed(() =>
      session.run(
        `COPY (SELECT * FROM read_csv(${sqlString(file)})) TO ${sqlString(path.join(directory, 'silver'))} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (STORE_REGION, BASKET_TYPE))`,
      ),
    );
  } finally {
    session.close();
  }
}

interface Timing {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

async function timed(work: () => Promise<unknown>): Promise<Timing> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await work();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

async function bench(): Promise<void> {
  const rows = Number(positionals[0] ?? 2_700_000);
  const file = cachedSample(rows);
  const load = (): string => loadavg().map((value) => value.toFixed(2)).join(' ');
  let floor: Timing = { seconds: Number.POSITIVE_INFINITY, cpuSeconds: Number.POSITIVE_INFINITY };
  let ours: Timing = floor;
  let summary: IngestSummary | undefined;
  for (let attempt = 0; attempt < Number(flags.repeat); attempt++) {
    const floorDirectory = await mkdtemp(path.join(tmpdir(), 'bench-ingest-floor-'));
    try {
      const timing = await bareCopy(file, floorDirectory);
      process.stderr.write(
        `bench:ingest bare DuckDB copy (read_csv → Parquet partitioned by STORE_REGION, BASKET_TYPE): ${timing.seconds.toFixed(2)} s, cpu ${timing.cpuSeconds.toFixed(2)} s (load ${load()})\n`,
      );
      if (timing.seconds < floor.seconds) floor = timing;
    } finally {
      await rm(floorDirectory, { recursive: true, force: true });
    }
    const lake = await mkdtemp(path.join(tmpdir(), 'bench-ingest-'));
    try {
      const timing = await timed(async () => (summary = await ingest({ inputs: [file], lake })));
      process.stderr.write(`bench:ingest ingest (raw, checks, quarantine, silver, gold, manifest): ${timing.seconds.toFixed(2)} s, cpu ${timing.cpuSeconds.toFixed(2)} s (load ${load()})\n`);
      if (timing.seconds < ours.seconds) ours = timing;
    } finally {
      await rm(lake, { recursive: true, force: true });
    }
  }
  if (summary === undefined) throw new Error('--repeat must be at least 1');
  process.stdout.write(
    `ingest: ${summary.rowsRead.toLocaleString('en')} rows (${summary.rowsQuarantined} quarantined), ${summary.baskets.toLocaleString('en')} baskets, ` +
      `${summary.weeks.length} weeks, ${summary.partitions.length} silver partitions in ${ours.seconds.toFixed(2)} s = ` +
      `${Math.round(summary.rowsRead / ours.seconds).toLocaleString('en')} rows/s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n` +
      `floor (bare DuckDB CSV → partitioned Parquet, same file, same run): ${floor.seconds.toFixed(2)} s; ingest / floor = ${(ours.seconds / floor.seconds).toFixed(2)} ` +
      `(target ≤ ${FLOOR_RATIO_TARGET}); cpu ${ours.cpuSeconds.toFixed(2)} s / ${floor.cpuSeconds.toFixed(2)} s = ${(ours.cpuSeconds / floor.cpuSeconds).toFixed(2)}; ` +
      `load average ${load()}\n`,
  );
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench:ingest: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
