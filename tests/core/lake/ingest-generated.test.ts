import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateLgsr } from '../../../core/generator/generator';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { ROW_FAULTS } from '../../../core/schema/quarantine';
import { query } from '../../helpers/duckdb';
import { temporaryDirectory } from '../../helpers/paths';

describe('ingest of generated dirty data', () => {
  const scratch = temporaryDirectory();
  afterAll(() => scratch.remove());

  for (const variant of ['lgsr', 'seg'] as const) {
    it(`quarantines every injected fault under its own reason and keeps every clean row (${variant} variant, gzip)`, async () => {
      const out = path.join(scratch.path, `dirty-${variant}.csv.gz`);
      const generated = await generateLgsr({ rows: 40_000, seed: 11, variant, faultRate: 0.02, weeks: 2, out });
      const injected = ROW_FAULTS.reduce((sum, fault) => sum + generated.faults[fault], 0);
      expect(injected).toBeGreaterThan(ROW_FAULTS.length * 50);

      const lakeDir = path.join(scratch.path, `lake-${variant}`);
      const summary = await ingest({ inputs: [out], lake: lakeDir });
      expect(summary.rowsRead).toBe(generated.rows);
      expect(summary.rowsQuarantined).toBe(injected);
      expect(summary.rowsAccepted).toBe(generated.rows - injected);
      const expected = Object.fromEntries(ROW_FAULTS.filter((fault) => generated.faults[fault] > 0).map((fault) => [fault, generated.faults[fault]]));
      expect(summary.quarantineReasons).toEqual(expected);

      // the quarantine holds each row with its line and raw text; the clean rows are all in silver
      const lake = await Lake.open(lakeDir);
      const [quarantine] = await query<{ rows: bigint; withLine: bigint; withRaw: bigint }>(
        `SELECT count(*) AS rows, count(LINE) AS withLine, count(RAW) AS withRaw FROM ${lake.quarantineSql()}`,
      );
      expect(Number(quarantine.rows)).toBe(injected);
      expect(Number(quarantine.withLine)).toBe(injected);
      expect(Number(quarantine.withRaw)).toBe(injected);
      const [silver] = await query<{ rows: bigint }>(`SELECT count(*) AS rows FROM ${lake.silverSql()}`);
      expect(Number(silver.rows)).toBe(summary.rowsAccepted);
    });
  }

  it('accepts quoted fields', async () => {
    const file = path.join(scratch.path, 'quoted.csv');
    const generated = await generateLgsr({ rows: 2_000, seed: 3, weeks: 1, out: file });
    const { promises: fs } = await import('node:fs');
    const lines = (await fs.readFile(file, 'utf8')).trimEnd().split('\n');
    const quoted = [lines[0], ...lines.slice(1).map((line) => line.split(',').map((field) => `"${field.replace(/^"|"$/g, '')}"`).join(','))];
    await fs.writeFile(path.join(scratch.path, 'quoted-all.csv'), `${quoted.join('\r\n')}\r\n`);
    const summary = await ingest({ inputs: [path.join(scratch.path, 'quoted-all.csv')], lake: path.join(scratch.path, 'lake-quoted') });
    expect(summary.rowsAccepted).toBe(generated.rows);
    expect(summary.rowsQuarantined).toBe(0);
  });
});
