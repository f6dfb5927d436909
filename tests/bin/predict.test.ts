import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { query } from '../helpers/duckdb';
import type { ServedModelFixture } from '../helpers/served-model';
import { useServedModelAndSampleLake } from '../helpers/served-sample-lake';

interface PredictSummary {
  baskets: number;
  labels: Record<string, number>;
  engine: string;
  fallbackReason?: string;
  verifiedRows: number;
  maxDifference: number;
}

describe('predict: batch scoring of every basket, through the CLI', () => {
  const setup = useServedModelAndSampleLake();
  const { lake, scratch } = setup;
  let fixture: ServedModelFixture;

  beforeAll(() => {
    fixture = setup.fixture();
  });

  const predict = async (model: string, out: string, ...flags: string[]): Promise<PredictSummary> => {
    const result = await cli(['predict', '--registry', fixture.registryRoot, '--model', model, '--data', lake, '--out', out, '--json', ...flags]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as PredictSummary;
  };

  it('scores a GBDT with the compiled engine, checked against ONNX Runtime, and equal to ONNX Runtime on every basket', async () => {
    const compiled = path.join(scratch, 'compiled.parquet');
    const reference = path.join(scratch, 'onnxruntime.parquet');
    const auto = await predict('gbdt', compiled);
    expect(auto).toMatchObject({ baskets: 16_011, engine: 'compiled-trees' });
    expect(auto.verifiedRows).toBeGreaterThan(0);
    expect(auto.maxDifference).toBeLessThanOrEqual(1e-5);
    const ort = await predict('gbdt', reference, '--engine', 'onnxruntime', '--workers', '1');
    expect(ort).toMatchObject({ baskets: 16_011, engine: 'onnxruntime', verifiedRows: 0 });
    expect(ort.labels).toEqual(auto.labels);
    // row by row, in the same order
    const [compared] = await query<{ rows: bigint; sameOrder: bigint; sameLabel: bigint; difference: number }>(
      `SELECT count(*) AS rows, sum((a.BASKET_ID = b.BASKET_ID)::INT) AS sameOrder, sum((a.LABEL = b.LABEL)::INT) AS sameLabel,
         max(greatest(abs(a.P_LA - b.P_LA), abs(a.P_MM - b.P_MM), abs(a.P_UM - b.P_UM))) AS difference
       FROM (SELECT *, row_number() OVER () AS n FROM '${compiled}') a JOIN (SELECT *, row_number() OVER () AS n FROM '${reference}') b USING (n)`,
    );
    expect(Number(compared.rows)).toBe(16_011);
    expect(Number(compared.sameOrder)).toBe(16_011);
    expect(Number(compared.sameLabel)).toBe(16_011);
    expect(compared.difference).toBeLessThanOrEqual(1e-5);
    // every basket of the lake once, weeks in order, labels the argmax, one model version
    const [shape] = await query<{ ids: bigint; unordered: bigint; wrongLabel: bigint; versions: bigint }>(
      `SELECT count(DISTINCT BASKET_ID) AS ids,
         sum((SHOP_WEEK < previous)::INT) AS unordered,
         sum((LABEL <> CASE WHEN P_LA >= P_MM AND P_LA >= P_UM THEN 'LA' WHEN P_MM >= P_UM THEN 'MM' ELSE 'UM' END)::INT) AS wrongLabel,
         count(DISTINCT MODEL_VERSION) AS versions
       FROM (SELECT *, lag(SHOP_WEEK) OVER () AS previous FROM '${compiled}')`,
    );
    expect(shape).toEqual({ ids: 16_011n, unordered: 0n, wrongLabel: 0n, versions: 1n });
    const [lakeIds] = await query<{ missing: bigint }>(
      `SELECT count(*) AS missing FROM read_parquet('${lake}/gold/**/*.parquet') g ANTI JOIN '${compiled}' p USING (BASKET_ID)`,
    );
    expect(lakeIds.missing).toBe(0n);
  });

  it('scores a linear model with the compiled linear engine, checked against ONNX Runtime', async () => {
    const summary = await predict('production', path.join(scratch, 'linear.csv'));
    expect(summary.engine).toBe('compiled-linear');
    expect(summary.fallbackReason).toBeUndefined();
    expect(summary.verifiedRows).toBeGreaterThan(0);
    expect(summary.maxDifference).toBeLessThanOrEqual(1e-5);
    const lines = readFileSync(path.join(scratch, 'linear.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('BASKET_ID,SHOP_WEEK,LABEL,P_LA,P_MM,P_UM,MODEL_VERSION');
    expect(lines).toHaveLength(16_012);
    expect(lines[1]).toMatch(/^\d{15},\d{6},(LA|MM|UM),[01]\.\d{1,6},[01]\.\d{1,6},[01]\.\d{1,6},v-[0-9a-f]+$/);
  });

  it('refuses an unknown engine with a usage error', async () => {
    const result = await cli(['predict', '--registry', fixture.registryRoot, '--data', lake, '--out', path.join(scratch, 'x.csv'), '--engine', 'gpu']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--engine/);
  });
});
