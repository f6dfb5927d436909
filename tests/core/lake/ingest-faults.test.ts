import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { query } from '../../helpers/duckdb';
import { REPO_ROOT, SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

interface Quarantined {
  readonly LINE: bigint;
  readonly REASON: string;
  readonly COLUMN_NAME: string | null;
  readonly RAW: string;
}

/** A real week with one bad row of each kind appended; returns the file and the expected reasons by line. */
async function dirtyWeek(directory: string): Promise<{ file: string; expected: Map<number, string>; cleanRows: number; badBasketRows: number }> {
  const original = await fs.readFile(SAMPLE_FILES[0]);
  const lines = original.toString('utf8').trimEnd().split('\n');
  const template = lines[1].split(',');
  const row = (changes: Record<number, string>, basket: string): string =>
    template.map((value, index) => (index === 14 ? basket : (changes[index] ?? value))).join(',');
  const extra: Array<[string | Buffer, string]> = [
    [row({ 1: '20060231' }, '990000000000001'), 'bad_date'],
    [row({ 1: '20060422' }, '990000000000002'), 'date_not_in_week'],
    [row({ 5: '-0.93' }, '990000000000003'), 'negative_spend'],
    [row({ 5: '0.9x' }, '990000000000004'), 'non_numeric'],
    [row({ 6: 'PRX12' }, '990000000000005'), 'unknown_code'],
    [row({}, '990000000000006').split(',').slice(0, 12).join(','), 'wrong_column_count'],
    [Buffer.concat([Buffer.from(row({}, '990000000000007').replace('Mixed', 'Mi')), Buffer.from([0xc3, 0x28]), Buffer.from('xed')].map((part) => part)), 'invalid_utf8'],
    [row({ 18: 'Shopping' }, '990000000000008'), 'invalid_value'],
    [row({ 19: '' }, '990000000000009'), 'missing_value'],
  ];
  const duplicateOf = lines[lines.length - 1];
  // a basket whose two rows name different stores: both rows go, as one inconsistent basket
  const split = [row({}, '990000000000010'), row({ 19: 'STORE00002' }, '990000000000010')];
  const expected = new Map<number, string>();
  const parts: Buffer[] = [Buffer.from(lines.join('\n') + '\n')];
  let lineNumber = lines.length;
  parts.push(Buffer.from(duplicateOf + '\n'));
  expected.set(++lineNumber, 'duplicate_line');
  // the same values written differently (SPEND with a trailing zero) is another line, not a duplicate
  const fields = duplicateOf.split(',');
  fields[5] = fields[5].includes('.') ? `${fields[5]}0` : `${fields[5]}.0`;
  parts.push(Buffer.from(fields.join(',') + '\n'));
  ++lineNumber;
  for (const [text, reason] of extra) {
    parts.push(Buffer.concat([typeof text === 'string' ? Buffer.from(text) : text, Buffer.from('\n')]));
    expected.set(++lineNumber, reason);
  }
  for (const text of split) {
    parts.push(Buffer.from(text + '\n'));
    expected.set(++lineNumber, 'basket_inconsistent');
  }
  const file = path.join(directory, 'transactions_200607.csv');
  await fs.writeFile(file, Buffer.concat(parts));
  return { file, expected, cleanRows: lines.length, badBasketRows: split.length };
}

describe('ingest of dirty data', () => {
  const scratch = temporaryDirectory();
  afterAll(() => scratch.remove());

  it('quarantines every bad row with its reason, line and raw text, and loses no clean row', async () => {
    const { file, expected, cleanRows } = await dirtyWeek(scratch.path);
    const lakeDir = path.join(scratch.path, 'lake');
    const summary = await ingest({ inputs: [file], lake: lakeDir });
    expect(summary.rowsRead).toBe(cleanRows + expected.size);
    expect(summary.rowsAccepted).toBe(cleanRows);
    expect(summary.rowsQuarantined).toBe(expected.size);
    expect(summary.rowsRead).toBe(summary.rowsAccepted + summary.rowsQuarantined);

    const lake = await Lake.open(lakeDir);
    const rows = await query<Quarantined>(`SELECT LINE, REASON, COLUMN_NAME, RAW FROM ${lake.quarantineSql()} ORDER BY LINE`);
    expect(new Map(rows.map((row) => [Number(row.LINE), row.REASON]))).toEqual(expected);
    const text = (await fs.readFile(file)).toString('utf8').split('\n');
    for (const row of rows) {
      if (row.REASON !== 'invalid_utf8') expect(row.RAW).toBe(text[Number(row.LINE) - 1]);
    }
    expect(rows.find((row) => row.REASON === 'unknown_code')?.COLUMN_NAME).toBe('PROD_CODE');
    const reasons: Record<string, number> = {};
    for (const reason of expected.values()) reasons[reason] = (reasons[reason] ?? 0) + 1;
    expect(summary.quarantineReasons).toEqual(reasons);

    // the clean rows are all in silver, and only they
    const [{ silverRows }] = await query<{ silverRows: bigint }>(`SELECT count(*) AS silverRows FROM ${lake.silverSql()}`);
    expect(Number(silverRows)).toBe(cleanRows);
  });
});

/** Runs the CLI's ingest in a child process that kills itself at a failpoint; true when it died by SIGKILL. */
function ingestUntilFailpoint(inputs: readonly string[], lakeDir: string, failpoint: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), [path.join(REPO_ROOT, 'bin/retail-mlops.ts'), 'ingest', ...inputs, '--lake', lakeDir, '--quiet'], {
      env: { ...process.env, RETAIL_MLOPS_FAILPOINT: failpoint },
      stdio: 'ignore',
    });
    child.on('error', reject);
    // tsx runs the CLI in a child of its own and reports the kill as exit code 128 + 9
    child.on('exit', (code, signal) => resolve(signal === 'SIGKILL' || code === 137));
  });
}

describe('a crash during ingest', () => {
  const scratch = temporaryDirectory();
  afterAll(() => scratch.remove());

  for (const point of ['ingest-after-silver', 'lake-publish-moved-file', 'lake-publish-before-manifest']) {
    it(`leaves the previous version readable and consistent (killed at ${point})`, async () => {
      const lakeDir = path.join(scratch.path, point);
      await ingest({ inputs: [SAMPLE_FILES[0]], lake: lakeDir });
      const before = await Lake.open(lakeDir);
      const count = async (lake: Lake): Promise<number> => Number((await query<{ n: bigint }>(`SELECT count(*) AS n FROM ${lake.silverSql()}`))[0].n);
      const rowsBefore = await count(before);

      expect(await ingestUntilFailpoint([SAMPLE_FILES[1], SAMPLE_FILES[2]], lakeDir, point)).toBe(true);

      const after = await Lake.open(lakeDir);
      expect(after.manifest).toEqual(before.manifest);
      expect(await count(after)).toBe(rowsBefore);
      for (const entry of [...after.manifest.silver, ...after.manifest.gold, ...after.manifest.raw]) {
        expect(existsSync(path.join(lakeDir, entry.path))).toBe(true);
      }

      // the next writer cleans up what the crash left and lands its version
      const retry = await ingest({ inputs: [SAMPLE_FILES[1], SAMPLE_FILES[2]], lake: lakeDir });
      expect(retry.lakeVersion).toBe(before.manifest.version + 1);
      const final = await Lake.open(lakeDir);
      expect(await count(final)).toBe(rowsBefore + retry.rowsAccepted);
      const [{ onDisk }] = await query<{ onDisk: bigint }>(`SELECT count(*) AS onDisk FROM read_parquet('${lakeDir}/silver/*/*/*.parquet')`);
      expect(Number(onDisk)).toBe(rowsBefore + retry.rowsAccepted);
      expect(existsSync(path.join(lakeDir, '_staging'))).toBe(false);
    });
  }
});
