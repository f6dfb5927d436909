import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError, ProblemCollector, RetailMlopsError } from '../errors';
import { silentProgress, type ProgressReporter } from '../progress';
import { DuckDbSession, sqlString } from './duckdb';
import { failpoint } from './failpoint';
import { createEnumTypesSql, GOLD_SELECT, SILVER_SELECT, stageFileSql } from './ingest-sql';
import { describeInputFile, isDataFile, locateLines, type InputFile } from './input-file';
import { Lake, type GoldFileEntry, type LakeManifest, type RawFileEntry, type SilverFileEntry } from './lake';
import { withDirectoryLock } from './lake-lock';
import type { HeaderVariant } from '../schema/lgsr';
import type { QuarantineReason } from '../schema/quarantine';

export interface IngestOptions {
  /** Files, directories (their .csv and .csv.gz files) or glob patterns. */
  readonly inputs: readonly string[];
  /** The lake directory; created when missing. */
  readonly lake: string;
  /** Progress of the long phases. @default silent */
  readonly progress?: ProgressReporter;
  /** DuckDB threads. @default all cores */
  readonly threads?: number;
  /** DuckDB memory before it spills to disk. @default '1GB' */
  readonly memoryLimit?: string;
  /**
   * The share of the new rows (0–1) that may be quarantined: above it nothing is published and the
   * ingest fails with a DataQualityError naming the reasons (the pipeline's "validate data").
   * @default 1 (never fails)
   */
  readonly maxQuarantineRate?: number;
}

/** An ingest quarantined more rows than allowed; nothing was published. */
export class DataQualityError extends RetailMlopsError {
  constructor(
    readonly rowsRead: number,
    readonly rowsQuarantined: number,
    readonly maxQuarantineRate: number,
    readonly quarantineReasons: Readonly<Partial<Record<QuarantineReason, number>>>,
  ) {
    const reasons = Object.entries(quarantineReasons).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0)).map(([reason, count]) => `${reason} ${count}`).join(', ');
    super(
      'DATA_QUALITY',
      `${rowsQuarantined} of ${rowsRead} rows (${((100 * rowsQuarantined) / Math.max(1, rowsRead)).toFixed(2)}%) were quarantined, above the allowed ${(100 * maxQuarantineRate).toFixed(2)}%: ${reasons}; nothing was published`,
    );
  }
}

export interface IngestedFile {
  readonly name: string;
  readonly sha256: string;
  readonly variant: string;
  /** 'ingested', or 'already-ingested' when the lake holds this content already (nothing added). */
  readonly status: 'ingested' | 'already-ingested';
  readonly rowsRead: number;
  readonly rowsAccepted: number;
  readonly rowsQuarantined: number;
}

export interface PartitionCount {
  readonly STORE_REGION: string;
  readonly BASKET_TYPE: string;
  readonly rows: number;
}

export interface IngestSummary {
  readonly lake: string;
  readonly lakeVersion: number;
  readonly files: readonly IngestedFile[];
  readonly rowsRead: number;
  readonly rowsAccepted: number;
  readonly rowsQuarantined: number;
  readonly quarantineReasons: Readonly<Partial<Record<QuarantineReason, number>>>;
  readonly baskets: number;
  readonly weeks: readonly number[];
  readonly partitions: readonly PartitionCount[];
  readonly seconds: number;
}

/** Every header variant a SOURCE_VARIANT can name. */
const SOURCE_VARIANTS: readonly HeaderVariant[] = ['lgsr', 'seg'];

/** How DuckDB's CSV reader names a rejected line's problem → our reason. */
function reasonForCsvError(errorType: string): QuarantineReason {
  if (errorType === 'INVALID ENCODING' || errorType === 'INVALID UNICODE') return 'invalid_utf8';
  if (errorType === 'MISSING COLUMNS' || errorType === 'TOO MANY COLUMNS') return 'wrong_column_count';
  return 'malformed_csv';
}

/**
 * Ingests LGSR files into the lake: raw (as received, content-addressed), silver (typed Parquet
 * partitioned by STORE_REGION and BASKET_TYPE), gold (one row per basket) and quarantine (every
 * rejected row with file, line, raw text and reason). Every row read is accepted or quarantined.
 * The new version becomes visible all at once (manifest swapped by rename); files already in the
 * lake are skipped; one writer at a time (directory lock).
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const problems = new ProblemCollector('ingest options');
  problems.check(options.inputs.length > 0, 'at least one input file, directory or glob is required');
  problems.check(typeof options.lake === 'string' && options.lake.length > 0, 'lake must be a directory path');
  problems.check(options.threads === undefined || (Number.isInteger(options.threads) && options.threads > 0), 'threads must be a positive integer');
  problems.check(options.maxQuarantineRate === undefined || (options.maxQuarantineRate >= 0 && options.maxQuarantineRate <= 1), 'maxQuarantineRate must be from 0 to 1');
  problems.throwIfAny();

  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const lakeRoot = path.resolve(options.lake);
  await fs.mkdir(lakeRoot, { recursive: true });

  return withDirectoryLock(lakeRoot, async () => {
    const lake = await Lake.open(lakeRoot);
    await lake.removeOrphans();
    const session = await DuckDbSession.open({
      threads: options.threads,
      memoryLimit: options.memoryLimit ?? '1GB',
      spillDirectory: path.join(lakeRoot, '_staging', 'spill'),
    });
    try {
      const paths = await resolveInputs(session, options.inputs);
      progress.start('hashing', paths.length, 'files');
      const inputs: InputFile[] = [];
      for (const file of paths) {
        inputs.push(await describeInputFile(file));
        progress.update(inputs.length);
      }
      progress.stop();
      const run = new IngestRun(session, lake, progress, options.maxQuarantineRate ?? 1);
      const summary = await run.execute(inputs);
      return { ...summary, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) };
    } finally {
      session.close();
      // DuckDB's spill directory; everything staged has been published or belongs to a failed run
      await fs.rm(path.join(lakeRoot, '_staging'), { recursive: true, force: true });
    }
  });
}

/** Expands directories and globs; keeps the order given, sorted within a directory or glob. */
async function resolveInputs(session: DuckDbSession, inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const input of inputs) {
    if (/[*?[]/.test(input)) {
      const rows = await session.rows<{ file: string }>(`SELECT file FROM glob(${sqlString(input)}) ORDER BY file`);
      const matched = rows.map((row) => row.file).filter((file) => isDataFile(file));
      if (matched.length === 0) missing.push(`${input} (no .csv or .csv.gz file matches)`);
      files.push(...matched);
      continue;
    }
    const stat = await fs.stat(input).catch(() => undefined);
    if (!stat) {missing.push(`${input} (no such file or directory)`);} else if (stat.isDirectory()) {
      const names = (await fs.readdir(input)).filter(isDataFile).sort();
      if (names.length === 0) missing.push(`${input} (directory holds no .csv or .csv.gz file)`);
      files.push(...names.map((name) => path.join(input, name)));
    } else {files.push(input);}
  }
  if (missing.length > 0) throw new InputError(`cannot ingest: ${missing.join('; ')}`);
  return [...new Set(files.map((file) => path.resolve(file)))];
}

interface StagedFile {
  readonly input: InputFile;
  readonly index: number;
  readonly rawPath: string;
  readonly rowsRead: number;
}

/** One ingest: everything is staged under `_staging/<id>` and published at the end. */
class IngestRun {
  private readonly id: string;
  private readonly stagingRoot: string;

  constructor(
    private readonly session: DuckDbSession,
    private readonly lake: Lake,
    private readonly progress: ProgressReporter,
    private readonly maxQuarantineRate: number,
  ) {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    this.id = `${stamp}-${randomBytes(3).toString('hex')}`;
    this.stagingRoot = path.join(lake.root, '_staging', this.id);
  }

  async execute(inputs: readonly InputFile[]): Promise<Omit<IngestSummary, 'seconds'>> {
    const known = new Map(this.lake.manifest.raw.map((entry) => [entry.sha256, entry]));
    const seen = new Set<string>();
    const fresh: InputFile[] = [];
    const skipped: IngestedFile[] = [];
    for (const input of inputs) {
      const earlier = known.get(input.sha256);
      if (earlier || seen.has(input.sha256)) {
        skipped.push({ name: input.name, sha256: input.sha256, variant: input.variant, status: 'already-ingested', rowsRead: 0, rowsAccepted: 0, rowsQuarantined: 0 });
        continue;
      }
      seen.add(input.sha256);
      fresh.push(input);
    }
    if (fresh.length === 0) return this.summaryWithoutChanges(skipped);

    await fs.mkdir(this.stagingRoot, { recursive: true });
    await this.session.run(createEnumTypesSql());
    const staged: StagedFile[] = [];
    this.progress.start('reading', fresh.length, 'files');
    for (const [index, input] of fresh.entries()) {
      staged.push(await this.stageFile(input, index));
      this.progress.update(index + 1);
    }
    this.progress.stop();

    this.progress.start('checking');
    await this.createLinesView(staged);
    await this.markDuplicates(staged);
    await this.markDatesOutsideWeek(staged);
    await this.markBasketProblems(staged);
    this.progress.stop();

    this.progress.start('quarantine');
    const quarantined = await this.writeQuarantine(staged);
    this.progress.stop();
    this.progress.start('silver');
    const silver = await this.writeSilver();
    this.progress.stop();
    failpoint('ingest-after-silver');
    const perFile = await this.session.rows<{ FILE_INDEX: number; accepted: bigint }>(
      'SELECT FILE_INDEX, count(*) AS accepted FROM lines WHERE "CHECK" IS NULL GROUP BY ALL',
    );
    this.progress.start('gold');
    // gold has one row per accepted basket and one partition per week: it counts both
    const { files: gold, baskets } = await this.writeGold(perFile.reduce((sum, row) => sum + Number(row.accepted), 0));
    const weeks = [...new Set(gold.map((entry) => entry.SHOP_WEEK))].sort((a, b) => a - b);
    this.progress.stop();
    await this.session.run('DROP VIEW lines');
    for (const file of staged) await this.session.run(`DROP TABLE lines_${file.index}`);

    const acceptedByFile = new Map(perFile.map((row) => [Number(row.FILE_INDEX), Number(row.accepted)]));
    const rawEntries: RawFileEntry[] = staged.map((file) => {
      const accepted = acceptedByFile.get(file.index) ?? 0;
      return {
        sha256: file.input.sha256,
        name: file.input.name,
        path: file.rawPath,
        bytes: file.input.bytes,
        variant: file.input.variant,
        ingestId: this.id,
        rowsRead: file.rowsRead,
        rowsAccepted: accepted,
        rowsQuarantined: file.rowsRead - accepted,
      };
    });

    const rowsRead = rawEntries.reduce((sum, entry) => sum + entry.rowsRead, 0);
    const rowsAccepted = rawEntries.reduce((sum, entry) => sum + entry.rowsAccepted, 0);
    if (rowsRead - rowsAccepted > this.maxQuarantineRate * rowsRead) {
      throw new DataQualityError(rowsRead, rowsRead - rowsAccepted, this.maxQuarantineRate, quarantined.reasons);
    }
    const previous = this.lake.manifest;
    const next: LakeManifest = {
      ...previous,
      version: previous.version + 1,
      updatedAt: new Date().toISOString(),
      raw: [...previous.raw, ...rawEntries],
      silver: [...previous.silver, ...silver.files],
      gold: [...previous.gold, ...gold],
      quarantine: [...previous.quarantine, ...(quarantined.file ? [{ path: quarantined.file, ingestId: this.id, rows: quarantined.rows }] : [])],
      ingests: [
        ...previous.ingests,
        {
          id: this.id,
          at: new Date().toISOString(),
          files: rawEntries.map((entry) => entry.sha256),
          rowsRead,
          rowsAccepted,
          rowsQuarantined: rowsRead - rowsAccepted,
          quarantineReasons: quarantined.reasons,
          baskets,
        },
      ],
    };
    this.progress.start('publishing');
    const published = await this.lake.publish(this.stagingRoot, next);
    await fs.rm(this.stagingRoot, { recursive: true, force: true });
    this.progress.stop();

    const files: IngestedFile[] = [
      ...rawEntries.map((entry) => ({ name: entry.name, sha256: entry.sha256, variant: entry.variant, status: 'ingested' as const, rowsRead: entry.rowsRead, rowsAccepted: entry.rowsAccepted, rowsQuarantined: entry.rowsQuarantined })),
      ...skipped,
    ];
    return {
      lake: published.root,
      lakeVersion: published.manifest.version,
      files,
      rowsRead,
      rowsAccepted,
      rowsQuarantined: rowsRead - rowsAccepted,
      quarantineReasons: quarantined.reasons,
      baskets,
      weeks,
      partitions: silver.partitions,
    };
  }

  private summaryWithoutChanges(skipped: readonly IngestedFile[]): Omit<IngestSummary, 'seconds'> {
    return {
      lake: this.lake.root,
      lakeVersion: this.lake.manifest.version,
      files: skipped,
      rowsRead: 0,
      rowsAccepted: 0,
      rowsQuarantined: 0,
      quarantineReasons: {},
      baskets: 0,
      weeks: [],
      partitions: [],
    };
  }

  /** Copies the file into raw/ (staged) and reads it into `lines_<index>`. */
  private async stageFile(input: InputFile, index: number): Promise<StagedFile> {
    const extension = input.gzip ? '.csv.gz' : '.csv';
    const rawPath = `raw/${input.sha256}${extension}`;
    const stagedRaw = path.join(this.stagingRoot, rawPath);
    await fs.mkdir(path.dirname(stagedRaw), { recursive: true });
    // DuckDB picks the decompression from the extension: when the input's name says what it is, DuckDB
    // reads it while the raw copy is made; otherwise it reads the staged copy, which has the right one
    const copying = fs.copyFile(input.path, stagedRaw);
    const nameFits = input.path.toLowerCase().endsWith('.gz') === input.gzip;
    if (nameFits) {
      const outcomes = await Promise.allSettled([copying, this.session.run(stageFileSql(input.path, index, input.variant))]);
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    } else {
      await copying;
      await this.session.run(stageFileSql(stagedRaw, index, input.variant));
    }
    const rows = await this.session.scalar(`SELECT count(*) FROM lines_${index}`);
    const rejected = await this.session.scalar(`SELECT count(DISTINCT line) FROM rejects_${index}`);
    return { input: { ...input, path: stagedRaw }, index, rawPath, rowsRead: rows + rejected };
  }

  /**
   * All staged lines with their source. SOURCE_FILE and SOURCE_VARIANT are ENUMs here: Parquet
   * still gets dictionary-encoded strings, but the writer no longer hashes a 64-character constant
   * for every row (a third of silver's write time).
   */
  private async createLinesView(staged: readonly StagedFile[]): Promise<void> {
    const shas = [...new Set(staged.map((file) => file.input.sha256))];
    await this.session.run(`CREATE TYPE source_file AS ENUM (${shas.map(sqlString).join(', ')});
      CREATE TYPE source_variant AS ENUM (${SOURCE_VARIANTS.map(sqlString).join(', ')});`);
    const parts = staged.map(
      (file) =>
        `SELECT ${file.index} AS FILE_INDEX, rowid AS SOURCE_ROW, ${sqlString(file.input.sha256)}::source_file AS SOURCE_FILE, ` +
        `${sqlString(file.input.variant)}::source_variant AS SOURCE_VARIANT, * FROM lines_${file.index}`,
    );
    await this.session.run(`CREATE TEMP VIEW lines AS ${parts.join(' UNION ALL ')}`);
  }

  /** An exact repeat of an earlier clean line of the same file. */
  private async markDuplicates(staged: readonly StagedFile[]): Promise<void> {
    for (const file of staged) {
      const table = `lines_${file.index}`;
      await this.session.run(`UPDATE ${table} SET "CHECK" = 'duplicate_line:' WHERE rowid IN (
        SELECT row_id FROM (
          SELECT rowid AS row_id, row_number() OVER (PARTITION BY LINE_HASH, SHOP_WEEK, SHOP_DATE, SHOP_WEEKDAY, SHOP_HOUR, QUANTITY, SPEND,
            PROD_CODE, PROD_CODE_10, PROD_CODE_20, PROD_CODE_30, PROD_CODE_40, CUST_CODE, CUST_PRICE_SENSITIVITY, CUST_LIFESTAGE, BASKET_ID,
            BASKET_SIZE, BASKET_PRICE_SENSITIVITY, BASKET_TYPE, BASKET_DOMINANT_MISSION, STORE_CODE, STORE_FORMAT, STORE_REGION ORDER BY rowid) AS copy
          FROM ${table}
          WHERE "CHECK" IS NULL AND LINE_HASH IN (SELECT LINE_HASH FROM ${table} WHERE "CHECK" IS NULL GROUP BY ALL HAVING count(*) > 1)
        ) WHERE copy > 1)`);
    }
  }

  /** A date whose Monday differs from the Monday most rows of its SHOP_WEEK share. */
  private async markDatesOutsideWeek(staged: readonly StagedFile[]): Promise<void> {
    await this.session.run('CREATE TEMP TABLE week_mondays AS SELECT SHOP_WEEK, mode(WEEK_MONDAY) AS MONDAY FROM lines WHERE "CHECK" IS NULL GROUP BY ALL');
    for (const file of staged) {
      await this.session.run(`UPDATE lines_${file.index} AS l SET "CHECK" = 'date_not_in_week:SHOP_DATE'
        FROM week_mondays AS w WHERE l."CHECK" IS NULL AND l.SHOP_WEEK = w.SHOP_WEEK AND l.WEEK_MONDAY <> w.MONDAY`);
    }
  }

  /** Baskets whose rows disagree on store, week or label; baskets the lake already holds. */
  private async markBasketProblems(staged: readonly StagedFile[]): Promise<void> {
    // min <> max: the same as count(DISTINCT …) > 1 for these columns (never NULL in a clean row), and much cheaper
    await this.session.run(`CREATE TEMP TABLE inconsistent_baskets AS SELECT BASKET_ID FROM lines WHERE "CHECK" IS NULL GROUP BY ALL
      HAVING min(STORE_CODE) <> max(STORE_CODE) OR min(SHOP_WEEK) <> max(SHOP_WEEK) OR min(BASKET_PRICE_SENSITIVITY) <> max(BASKET_PRICE_SENSITIVITY)`);
    const existingGold = this.lake.manifest.gold.length > 0 ? `SELECT BASKET_ID FROM ${this.lake.goldSql()}` : 'SELECT NULL::BIGINT AS BASKET_ID WHERE false';
    await this.session.run(`CREATE TEMP TABLE existing_baskets AS ${existingGold}`);
    for (const file of staged) {
      await this.session.run(`UPDATE lines_${file.index} SET "CHECK" = 'basket_inconsistent:BASKET_ID'
        WHERE "CHECK" IS NULL AND BASKET_ID IN (SELECT BASKET_ID FROM inconsistent_baskets)`);
      await this.session.run(`UPDATE lines_${file.index} SET "CHECK" = 'basket_already_ingested:BASKET_ID'
        WHERE "CHECK" IS NULL AND BASKET_ID IN (SELECT BASKET_ID FROM existing_baskets)`);
    }
  }

  /** Writes every rejected row (CSV-level and check-level) with file, line, raw text and reason. */
  private async writeQuarantine(
    staged: readonly StagedFile[],
  ): Promise<{ file?: string; rows: number; reasons: Partial<Record<QuarantineReason, number>> }> {
    await this.session.run(`CREATE TEMP TABLE quarantined (SOURCE_NAME VARCHAR, SOURCE_FILE VARCHAR, LINE BIGINT, RAW VARCHAR, REASON VARCHAR,
      COLUMN_NAME VARCHAR, DETAIL VARCHAR, BASKET_ID BIGINT, INGEST_ID VARCHAR)`);
    const appender = await this.session.connection.createAppender('quarantined');
    const reasons: Partial<Record<QuarantineReason, number>> = {};
    let total = 0;
    for (const file of staged) {
      const rejects = await this.session.rows<{ line: bigint; error_type: string; csv_line: string; error_message: string }>(
        `SELECT line, any_value(error_type) AS error_type, any_value(csv_line) AS csv_line, any_value(error_message) AS error_message
         FROM rejects_${file.index} GROUP BY line ORDER BY line`,
      );
      const checked = await this.session.rows<{ row_id: bigint; check_result: string; BASKET_ID: bigint | null }>(
        `SELECT rowid AS row_id, "CHECK" AS check_result, BASKET_ID FROM lines_${file.index} WHERE "CHECK" IS NOT NULL ORDER BY rowid`,
      );
      if (rejects.length === 0 && checked.length === 0) continue;
      const rejectedLines = new Set(rejects.map((reject) => Number(reject.line)));
      const located = await locateLines(file.input, rejectedLines, new Set(checked.map((row) => Number(row.row_id))));
      for (const reject of rejects) {
        const line = Number(reject.line);
        const reason = reasonForCsvError(reject.error_type);
        const raw = located.lines.get(line) ?? reject.csv_line.replace(/^[\r\n]+/, '');
        this.appendQuarantined(appender, file, line, raw, reason, null, reject.error_message, null);
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        total += 1;
      }
      for (const row of checked) {
        const [reason, column] = row.check_result.split(':') as [QuarantineReason, string];
        const where = located.rows.get(Number(row.row_id));
        this.appendQuarantined(appender, file, where?.line ?? null, where?.raw ?? null, reason, column || null, null, row.BASKET_ID);
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        total += 1;
      }
    }
    appender.closeSync();
    if (total === 0) return { rows: 0, reasons };
    const relative = `quarantine/part-${this.id}.parquet`;
    await fs.mkdir(path.join(this.stagingRoot, 'quarantine'), { recursive: true });
    await this.session.run(`COPY (SELECT * FROM quarantined ORDER BY SOURCE_NAME, LINE) TO ${sqlString(path.join(this.stagingRoot, relative))} (FORMAT parquet, COMPRESSION zstd)`);
    return { file: relative, rows: total, reasons: sortKeys(reasons) };
  }

  private appendQuarantined(
    appender: Awaited<ReturnType<DuckDbSession['connection']['createAppender']>>,
    file: StagedFile,
    line: number | null,
    raw: string | null,
    reason: QuarantineReason,
    column: string | null,
    detail: string | null,
    basketId: bigint | null,
  ): void {
    appender.appendVarchar(file.input.name);
    appender.appendVarchar(file.input.sha256);
    if (line === null) appender.appendNull();
    else appender.appendBigInt(BigInt(line));
    if (raw === null) appender.appendNull();
    else appender.appendVarchar(raw);
    appender.appendVarchar(reason);
    if (column === null) appender.appendNull();
    else appender.appendVarchar(column);
    if (detail === null) appender.appendNull();
    else appender.appendVarchar(detail);
    if (basketId === null) appender.appendNull();
    else appender.appendBigInt(basketId);
    appender.appendVarchar(this.id);
    appender.endRow();
  }

  private async writeSilver(): Promise<{ files: SilverFileEntry[]; partitions: PartitionCount[] }> {
    const target = path.join(this.stagingRoot, 'silver');
    const counts = await this.session.rows<{ STORE_REGION: string; BASKET_TYPE: string; rows: bigint }>(
      'SELECT STORE_REGION::VARCHAR AS STORE_REGION, BASKET_TYPE::VARCHAR AS BASKET_TYPE, count(*) AS rows FROM lines WHERE "CHECK" IS NULL GROUP BY ALL ORDER BY ALL',
    );
    if (counts.length === 0) return { files: [], partitions: [] };
    await this.session.run(`COPY (SELECT ${SILVER_SELECT} FROM lines WHERE "CHECK" IS NULL) TO ${sqlString(target)}
      (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (STORE_REGION, BASKET_TYPE), FILENAME_PATTERN 'part-${this.id}-{i}')`);
    const files = (await listRelative(this.stagingRoot, 'silver')).map((relative) => {
      const values = hivePartitionValues(relative);
      return { path: relative, ingestId: this.id, STORE_REGION: values.STORE_REGION, BASKET_TYPE: values.BASKET_TYPE };
    });
    return {
      files,
      partitions: counts.map((row) => ({ STORE_REGION: row.STORE_REGION, BASKET_TYPE: row.BASKET_TYPE, rows: Number(row.rows) })),
    };
  }

  /** Gold from the checked staging rows (the same rows silver holds); returns its files and its rows (the baskets). */
  private async writeGold(acceptedRows: number): Promise<{ files: GoldFileEntry[]; baskets: number }> {
    const target = path.join(this.stagingRoot, 'gold');
    if (acceptedRows === 0) return { files: [], baskets: 0 };
    const baskets = await this.session.scalar(`COPY (${GOLD_SELECT} FROM lines WHERE "CHECK" IS NULL GROUP BY BASKET_ID) TO ${sqlString(target)}
      (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (SHOP_WEEK), FILENAME_PATTERN 'part-${this.id}-{i}')`);
    const files = (await listRelative(this.stagingRoot, 'gold')).map((relative) => ({
      path: relative,
      ingestId: this.id,
      SHOP_WEEK: Number(hivePartitionValues(relative).SHOP_WEEK),
    }));
    return { files, baskets };
  }
}

function sortKeys<T extends Record<string, number | undefined>>(record: T): T {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b))) as T;
}

/** `silver/STORE_REGION=E01/BASKET_TYPE=Top%20Up/part.parquet` → { STORE_REGION: 'E01', BASKET_TYPE: 'Top Up' }. */
export function hivePartitionValues(relative: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const segment of relative.split('/')) {
    const equals = segment.indexOf('=');
    if (equals > 0) values[segment.slice(0, equals)] = decodeURIComponent(segment.slice(equals + 1));
  }
  return values;
}

async function listRelative(root: string, layer: string): Promise<string[]> {
  const entries = (await fs.readdir(path.join(root, layer), { recursive: true })) as string[];
  const files: string[] = [];
  for (const entry of entries.sort()) {
    if ((await fs.stat(path.join(root, layer, entry))).isFile()) files.push(path.posix.join(layer, entry.split(path.sep).join('/')));
  }
  return files;
}
