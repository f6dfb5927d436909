import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, type IngestSummary } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { query } from '../../helpers/duckdb';
import { SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

const csv = (files: readonly string[]): string => `read_csv([${files.map((file) => `'${file}'`).join(', ')}], all_varchar = true)`;

describe('ingest of the real LGSR sample', () => {
  const scratch = temporaryDirectory();
  const lakeDir = path.join(scratch.path, 'lake');
  let summary: IngestSummary;
  let lake: Lake;

  beforeAll(async () => {
    summary = await ingest({ inputs: SAMPLE_FILES, lake: lakeDir });
    lake = await Lake.open(lakeDir);
  });
  afterAll(() => scratch.remove());

  it('accounts for every row, and accepts the real files as they are', async () => {
    const [{ rows }] = await query<{ rows: bigint }>(`SELECT count(*) AS rows FROM ${csv(SAMPLE_FILES)}`);
    expect(summary.rowsRead).toBe(Number(rows));
    expect(summary.rowsRead).toBe(summary.rowsAccepted + summary.rowsQuarantined);
    expect(summary.rowsQuarantined).toBe(0);
    expect(summary.weeks).toEqual([200607, 200609, 200610, 200611]);
    expect(summary.files.map((file) => file.variant)).toEqual(['seg', 'seg', 'seg', 'seg']);
  });

  it('counts baskets as distinct BASKET_IDs, and gold holds one row per basket', async () => {
    const [{ baskets }] = await query<{ baskets: bigint }>(`SELECT count(DISTINCT BASKET_ID) AS baskets FROM ${csv(SAMPLE_FILES)}`);
    expect(summary.baskets).toBe(Number(baskets));
    const [gold] = await query<{ rows: bigint; distinctIds: bigint; lines: bigint }>(
      `SELECT count(*) AS rows, count(DISTINCT BASKET_ID) AS distinctIds, sum(len(LINES)) AS lines FROM ${lake.goldSql()}`,
    );
    expect(Number(gold.rows)).toBe(Number(baskets));
    expect(Number(gold.distinctIds)).toBe(Number(baskets));
    expect(Number(gold.lines)).toBe(summary.rowsAccepted);
  });

  it('partitions silver by STORE_REGION and BASKET_TYPE with the counts DuckDB finds in the input', async () => {
    const expected = await query<{ STORE_REGION: string; BASKET_TYPE: string; rows: bigint }>(
      `SELECT STORE_REGION, BASKET_TYPE, count(*) AS rows FROM ${csv(SAMPLE_FILES)} GROUP BY ALL ORDER BY ALL`,
    );
    const expectedPartitions = expected.map((row) => ({ STORE_REGION: row.STORE_REGION, BASKET_TYPE: row.BASKET_TYPE, rows: Number(row.rows) }));
    expect(summary.partitions).toEqual(expectedPartitions);
    // any Parquet reader sees the same thing through the hive directories (spaces URL-encoded: Top%20Up)
    const onDisk = await query<{ STORE_REGION: string; BASKET_TYPE: string; rows: bigint }>(
      `SELECT STORE_REGION, BASKET_TYPE, count(*) AS rows FROM read_parquet('${lakeDir}/silver/*/*/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`,
    );
    expect(onDisk).toEqual(expected);
    const directories = await fs.readdir(path.join(lakeDir, 'silver', 'STORE_REGION=E02'));
    expect(directories).toContain('BASKET_TYPE=Top%20Up');
  });

  it('normalises seg_1/seg_2 to the decoded customer columns and keeps the variant', async () => {
    const rows = await query<{ CUST_PRICE_SENSITIVITY: string | null; SOURCE_VARIANT: string; n: bigint }>(
      `SELECT CUST_PRICE_SENSITIVITY, any_value(SOURCE_VARIANT) AS SOURCE_VARIANT, count(*) AS n FROM ${lake.silverSql()} GROUP BY ALL ORDER BY ALL`,
    );
    expect(rows.map((row) => row.CUST_PRICE_SENSITIVITY)).toEqual(['LA', 'MM', 'UM', 'XX', null]);
    expect(new Set(rows.map((row) => row.SOURCE_VARIANT))).toEqual(new Set(['seg']));
    const [{ az }] = await query<{ az: bigint }>(`SELECT count(*) AS az FROM ${csv(SAMPLE_FILES)} WHERE seg_1 = 'AZ'`);
    expect(Number(rows.find((row) => row.CUST_PRICE_SENSITIVITY === 'LA')!.n)).toBe(Number(az));
  });

  it('keeps the input files as received, content-addressed, and says so when they come again', async () => {
    for (const entry of lake.manifest.raw) {
      const bytes = await fs.readFile(path.join(lakeDir, entry.path));
      expect(bytes.length).toBe(entry.bytes);
      expect(entry.path).toContain(entry.sha256);
    }
    const again = await ingest({ inputs: [SAMPLE_FILES[0], SAMPLE_FILES[3]], lake: lakeDir });
    expect(again.files.map((file) => file.status)).toEqual(['already-ingested', 'already-ingested']);
    expect(again.rowsRead).toBe(0);
    expect(again.lakeVersion).toBe(lake.manifest.version);
    expect((await Lake.open(lakeDir)).manifest).toEqual(lake.manifest);
  });
});

describe('ingest of the lgsr header variant and of new weeks', () => {
  const scratch = temporaryDirectory();
  afterAll(() => scratch.remove());

  it('reads the CUST_* header variant to the same silver, and appends new weeks', async () => {
    const lgsrFile = path.join(scratch.path, 'transactions_200609.csv');
    // the same week rewritten in the other header variant, decoded values and CRLF line ends
    await query(`COPY (SELECT SHOP_WEEK, SHOP_DATE, SHOP_WEEKDAY, SHOP_HOUR, QUANTITY, SPEND, PROD_CODE, PROD_CODE_10, PROD_CODE_20, PROD_CODE_30, PROD_CODE_40, CUST_CODE,
        CASE seg_1 WHEN 'AZ' THEN 'LA' WHEN 'CT' THEN 'MM' WHEN 'BG' THEN 'UM' WHEN 'DY' THEN 'XX' END AS CUST_PRICE_SENSITIVITY,
        CASE seg_2 WHEN 'AT' THEN 'YA' WHEN 'CZ' THEN 'OA' WHEN 'DI' THEN 'YF' WHEN 'EQ' THEN 'OF' WHEN 'FN' THEN 'PE' WHEN 'BU' THEN 'OT' END AS CUST_LIFESTAGE,
        BASKET_ID, BASKET_SIZE, BASKET_PRICE_SENSITIVITY, BASKET_TYPE, BASKET_DOMINANT_MISSION, STORE_CODE, STORE_FORMAT, STORE_REGION
      FROM ${csv([SAMPLE_FILES[1]])}) TO '${lgsrFile}' (HEADER true, NEW_LINE '\\r\\n')`);
    const lakeDir = path.join(scratch.path, 'lake');
    const first = await ingest({ inputs: [SAMPLE_FILES[0]], lake: lakeDir });
    expect(first.lakeVersion).toBe(1);
    const second = await ingest({ inputs: [lgsrFile], lake: lakeDir });
    expect(second.files[0].variant).toBe('lgsr');
    expect(second.rowsQuarantined).toBe(0);
    expect(second.lakeVersion).toBe(2);
    const lake = await Lake.open(lakeDir);
    expect(lake.weeks()).toEqual([200607, 200609]);
    const [{ matching }] = await query<{ matching: bigint }>(`SELECT count(*) AS matching FROM (
        SELECT * EXCLUDE (SOURCE_VARIANT, SOURCE_FILE) FROM ${lake.silverSql()} WHERE SHOP_WEEK = 200609 AND SOURCE_VARIANT = 'lgsr'
        INTERSECT ALL
        SELECT * EXCLUDE (SOURCE_VARIANT, SOURCE_FILE) FROM ${(await ingestCopy(SAMPLE_FILES[1], scratch.path)).silverSql()})`);
    expect(Number(matching)).toBe(second.rowsAccepted);
  });
});

async function ingestCopy(file: string, scratch: string): Promise<Lake> {
  const lakeDir = path.join(scratch, `copy-${path.basename(file)}`);
  await ingest({ inputs: [file], lake: lakeDir });
  return Lake.open(lakeDir);
}
