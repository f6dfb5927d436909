import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DuckDBDataChunk, DOUBLE, FLOAT, INTEGER, type DuckDBAppender } from '@duckdb/node-api';
import type { DataSource } from './data-source';
import { ScoringPool } from '../../core/batch-scoring/parallel-scoring';
import type { ScoredBaskets } from '../../core/batch-scoring/protocol';
import { temporaryPathFor } from '../../core/files/write-atomically';
import { DuckDbSession, sqlString } from '../../core/lake/duckdb';
import { writeNumericColumn } from '../../core/lake/duckdb-columns';
import type { ScoringEngine, ScoringEngineName } from '../../core/onnx/row-scorer';
import type { ProgressReporter } from '../../core/progress';
import type { ModelRegistry } from '../../core/registry/port';
import { loadRegisteredModel } from '../../core/registry/registered-model';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';

export interface ScoreToFileOptions {
  readonly registry: ModelRegistry;
  readonly model: string;
  /** Opens the data to score (see openDataSource), once the model has loaded; closed when done. */
  readonly openSource: () => Promise<DataSource>;
  /** `.csv` or `.parquet`. */
  readonly out: string;
  /** @default 'auto' (compiled tree ensembles, checked against ONNX Runtime; ONNX Runtime for the rest) */
  readonly engine?: ScoringEngine;
  /** Scoring worker threads. @default the number of cores */
  readonly workers?: number;
  readonly progress?: ProgressReporter;
}

export interface ScoreToFileSummary {
  readonly modelVersion: string;
  readonly out: string;
  readonly baskets: number;
  readonly labels: Readonly<Record<string, number>>;
  /** From the first gold read to the output file in place (model loading and worker start-up excluded). */
  readonly seconds: number;
  readonly basketsPerSecond: number;
  readonly engine: ScoringEngineName;
  /** Why ONNX Runtime scored the model although the compiled engine was allowed. */
  readonly fallbackReason?: string;
  /** Rows scored by both engines, and their largest probability difference. */
  readonly verifiedRows: number;
  readonly maxDifference: number;
}

/**
 * Baskets one task may hold (its lines, features and scores: ≈ 500 bytes a basket). Fewer, larger
 * tasks are faster (measured on 431k baskets, 2 workers: 1 task per worker 1.10 s, 2 per worker 1.30 s,
 * 4 per worker 1.40 s), so a task is as large as this allows, and there is a multiple of the worker count.
 */
const MAX_TASK_BASKETS = 500_000;

/** Weeks (with their basket counts) in `groups` consecutive runs of near-equal baskets. */
export function weekGroups(weeks: readonly { readonly week: number; readonly baskets: number }[], groups: number): number[][] {
  const total = weeks.reduce((sum, entry) => sum + entry.baskets, 0);
  const result: number[][] = [];
  let current: number[] = [];
  let done = 0;
  for (const entry of weeks) {
    // close the group before this week when stopping short of the group's share of the total is
    // nearer to it than going past it
    const target = (total * (result.length + 1)) / groups;
    if (current.length > 0 && result.length < groups - 1 && done + entry.baskets - target > target - done) {
      result.push(current);
      current = [];
    }
    current.push(entry.week);
    done += entry.baskets;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/** DuckDB's vector size: the appender takes chunks of at most this many rows. */
const CHUNK_ROWS = 2048;

/**
 * The `predict` command's job: every basket of the data scored into one file → BASKET_ID, SHOP_WEEK, LABEL, P_LA, P_MM, P_UM, MODEL_VERSION,
 * weeks ascending (gold's order within a week). Worker threads (one per core) each take a group of
 * weeks: read it from gold, compute the features (the same function as training and the server) and
 * score them (the batch-scoring pool, core/batch-scoring/); this thread appends the results to DuckDB and writes the file (temp path, then rename).
 */
export async function scoreToFile(options: ScoreToFileOptions): Promise<ScoreToFileSummary> {
  const loaded = await loadRegisteredModel(options.registry, options.model);
  const source = await options.openSource();
  const target = path.resolve(options.out);
  const temporary = temporaryPathFor(target);
  let pool: ScoringPool | undefined;
  let session: DuckDbSession | undefined;
  try {
    pool = await ScoringPool.start({ model: loaded.bytes, statistics: loaded.statistics, engine: options.engine, workers: options.workers });
    session = await DuckDbSession.open();
    const started = performance.now();
    const weeks = (await session.rows<{ week: number; baskets: bigint }>(`SELECT SHOP_WEEK::INTEGER AS week, count(*) AS baskets FROM ${source.lake.goldSql()} GROUP BY ALL ORDER BY week`)).map(
      (row) => ({ week: row.week, baskets: Number(row.baskets) }),
    );
    const totalBaskets = weeks.reduce((sum, entry) => sum + entry.baskets, 0);
    const tasks = weekGroups(weeks, pool.size * Math.max(1, Math.ceil(totalBaskets / (pool.size * MAX_TASK_BASKETS))));
    await session.run('CREATE TABLE scored (BASKET_ID DOUBLE, SHOP_WEEK INTEGER, P_LA FLOAT, P_MM FLOAT, P_UM FLOAT)');
    const appender = await session.connection.createAppender('scored');
    const labels: Record<string, number> = { LA: 0, MM: 0, UM: 0 };
    let baskets = 0;
    options.progress?.start('scoring', tasks.length, 'parts');
    const run = await pool.run(
      tasks.map((group) => source.lake.goldSql(group)),
      (index, scored) => {
        baskets += append(appender, scored, labels);
        options.progress?.update(index + 1);
      },
    );
    appender.closeSync();
    options.progress?.stop();
    await fs.mkdir(path.dirname(target), { recursive: true });
    const parquet = target.endsWith('.parquet');
    // CSV: six decimals, never exponent notation (DuckDB would print 6.9e-05)
    const probability = (column: string): string => (parquet ? column : `printf('%.6f', ${column}) AS ${column}`);
    await session.run(
      `COPY (SELECT BASKET_ID::BIGINT AS BASKET_ID, SHOP_WEEK,
          CASE WHEN P_LA >= P_MM AND P_LA >= P_UM THEN 'LA' WHEN P_MM >= P_UM THEN 'MM' ELSE 'UM' END AS LABEL,
          ${probability('P_LA')}, ${probability('P_MM')}, ${probability('P_UM')}, ${sqlString(loaded.version.id)} AS MODEL_VERSION
        FROM scored) TO ${sqlString(temporary)} (FORMAT ${parquet ? 'parquet' : 'csv, HEADER true'})`,
    );
    await fs.rename(temporary, target);
    const seconds = (performance.now() - started) / 1000;
    return {
      modelVersion: loaded.version.id,
      out: target,
      baskets,
      labels,
      seconds: Number(seconds.toFixed(3)),
      basketsPerSecond: Math.round(baskets / seconds),
      engine: run.engine,
      ...(run.fallbackReason ? { fallbackReason: run.fallbackReason } : {}),
      verifiedRows: run.verifiedRows,
      maxDifference: run.maxDifference,
    };
  } finally {
    session?.close();
    await pool?.close();
    await fs.rm(temporary, { force: true });
    await source.close();
  }
}

/** Appends one task's scores; counts the labels (argmax, ties to the first class, as the SQL above). */
function append(appender: DuckDBAppender, scored: ScoredBaskets, labels: Record<string, number>): number {
  const rows = scored.basketIds.length;
  const low = new Float32Array(CHUNK_ROWS);
  const middle = new Float32Array(CHUNK_ROWS);
  const high = new Float32Array(CHUNK_ROWS);
  for (let start = 0; start < rows; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, rows - start);
    for (let row = 0; row < count; row++) {
      const offset = (start + row) * 3;
      low[row] = scored.probabilities[offset];
      middle[row] = scored.probabilities[offset + 1];
      high[row] = scored.probabilities[offset + 2];
      labels[PRICE_SENSITIVITY_CLASSES[low[row] >= middle[row] && low[row] >= high[row] ? 0 : middle[row] >= high[row] ? 1 : 2]] += 1;
    }
    const chunk = DuckDBDataChunk.create([DOUBLE, INTEGER, FLOAT, FLOAT, FLOAT], count);
    writeNumericColumn(chunk.getColumnVector(0), scored.basketIds.subarray(start, start + count));
    writeNumericColumn(chunk.getColumnVector(1), scored.weeks.subarray(start, start + count));
    writeNumericColumn(chunk.getColumnVector(2), low.subarray(0, count));
    writeNumericColumn(chunk.getColumnVector(3), middle.subarray(0, count));
    writeNumericColumn(chunk.getColumnVector(4), high.subarray(0, count));
    appender.appendDataChunk(chunk);
  }
  return rows;
}
