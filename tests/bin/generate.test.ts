import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROW_FAULTS } from '../../core/schema/quarantine';
import { cli } from '../helpers/cli';

const directory = mkdtempSync(path.join(tmpdir(), 'generate-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('retail-mlops generate', () => {
  it('prints one JSON document with what it wrote', async () => {
    const out = path.join(directory, 'small.csv');
    const result = await cli(['generate', '--rows', '3000', '--seed', '4', '--faults', '0.02', '--weeks', '2', '--out', out, '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(summary).sort()).toEqual(['baskets', 'faults', 'files', 'out', 'rows', 'seconds', 'seed', 'variant', 'weeks']);
    expect(summary).toMatchObject({ out, rows: 3000, weeks: 2, files: 1, variant: 'lgsr', seed: 4 });
    expect(summary.baskets).toBeGreaterThan(300);
    expect(typeof summary.seconds).toBe('number');
    const faults = summary.faults as Record<string, number>;
    expect(Object.keys(faults).sort()).toEqual([...ROW_FAULTS].sort());
    expect(Object.values(faults).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(20);
    const lines = readFileSync(out, 'latin1').split('\n');
    expect(lines).toHaveLength(3002); // header, 3000 rows, '' after the last \n
    expect(lines[0]).toMatch(/^SHOP_WEEK,SHOP_DATE,/);
  });

  it('writes a directory of week files in the seg variant with a human summary', async () => {
    const out = path.join(directory, 'weeks');
    const result = await cli(['generate', '--rows', '2000', '--weeks', '2', '--start-week', '200652', '--variant', 'seg', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote 2,000 rows: [\d,]+ baskets, 2 weeks, 2 files/);
    expect(readFileSync(path.join(out, 'transactions_200701.csv'), 'latin1')).toMatch(/^SHOP_WEEK,.*,seg_1,seg_2,/);
  });

  it.each([
    [['--rows', '0'], /--rows must be a positive integer/],
    [['--rows', 'many'], /--rows must be a positive integer/],
    [['--rows', '10', '--faults', '0.9'], /--faults must be a rate/],
    [['--rows', '10', '--start-week', '200653'], /--start-week must be a fiscal week/],
    [['--rows', '10', '--weeks', '20'], /weeks \(20\) must not exceed rows \(10\)/],
    [['--rows', '10', '--variant', 'csv'], /Allowed choices are lgsr, seg/],
    [['--rows', '10', '--seed', '-1'], /--seed/],
  ])('exits 2 with a one-line reason on %j', async (flags, reason) => {
    const result = await cli(['generate', ...flags, '--out', path.join(directory, 'never.csv')]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(reason);
    expect(result.stdout).toBe('');
  });

  it('exits 2 without --out, and shows help with --help', async () => {
    const missing = await cli(['generate', '--rows', '10']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--out <path>'/);
    const help = await cli(['generate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--rows <n>[\s\S]*--faults <rate>[\s\S]*--start-week <yyyyww>/);
  });
});
