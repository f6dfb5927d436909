import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basketBatchFromBaskets } from '../../../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../../../core/features/compute';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC } from '../../../core/features/spec';
import { fitFeatureStatistics, statisticsFromDocument, statisticsToDocument } from '../../../core/features/statistics';
import { outOfFoldFeatures } from '../../../core/features/training-matrix';
import { readGoldBaskets, type GoldBaskets } from '../../../core/lake/gold-reader';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import type { Basket } from '../../../core/schema/lgsr';
import { query } from '../../helpers/duckdb';
import { SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

interface GoldRow {
  BASKET_ID: bigint;
  STORE_CODE: string;
  STORE_FORMAT: string;
  STORE_REGION: string;
  SHOP_WEEKDAY: number;
  SHOP_HOUR: number;
  BASKET_TYPE: string;
  BASKET_DOMINANT_MISSION: string;
  LINES: Array<{ PROD: number; PROD_10: number; PROD_20: number; PROD_30: number; PROD_40: number; QUANTITY: number; SPEND: number }>;
}

const code = (prefix: string, value: number, digits: number): string => `${prefix}${String(value).padStart(digits, '0')}`;

/** A gold row as the API would receive it: LGSR names, text codes, numbers as JSON numbers. */
function asApiBasket(row: GoldRow): Basket {
  return {
    context: {
      STORE_CODE: row.STORE_CODE,
      STORE_FORMAT: row.STORE_FORMAT,
      STORE_REGION: row.STORE_REGION,
      SHOP_WEEKDAY: Number(row.SHOP_WEEKDAY),
      SHOP_HOUR: Number(row.SHOP_HOUR),
      BASKET_TYPE: row.BASKET_TYPE,
      BASKET_DOMINANT_MISSION: row.BASKET_DOMINANT_MISSION,
    },
    lines: row.LINES.map((line) => ({
      PROD_CODE: code('PRD', line.PROD, 7),
      PROD_CODE_10: code('CL', line.PROD_10, 5),
      PROD_CODE_20: code('DEP', line.PROD_20, 5),
      PROD_CODE_30: code('G', line.PROD_30, 5),
      PROD_CODE_40: code('D', line.PROD_40, 5),
      QUANTITY: Number(line.QUANTITY),
      SPEND: JSON.parse(JSON.stringify(Number(line.SPEND))) as number,
    })),
  };
}

describe('features on the real sample', () => {
  const scratch = temporaryDirectory();
  let lake: Lake;
  let gold: GoldBaskets;
  beforeAll(async () => {
    await ingest({ inputs: SAMPLE_FILES, lake: path.join(scratch.path, 'lake') });
    lake = await Lake.open(path.join(scratch.path, 'lake'));
    gold = await readGoldBaskets(lake);
  });
  afterAll(() => scratch.remove());

  it('gives bit-identical vectors on the batch path and the single-basket (API) path, for every basket', async () => {
    const trainRows = Int32Array.from({ length: gold.batch.size }, (_, index) => index).filter((row) => gold.batch.week[row] !== 200611);
    // the statistics travel as the JSON artifact the server loads
    const statistics = statisticsFromDocument(JSON.parse(JSON.stringify(statisticsToDocument(fitFeatureStatistics(gold.batch, trainRows)))));
    const batchValues = featureMatrix(new BasketFeatures(statistics), gold.batch);

    const rows = await query<GoldRow>(`SELECT * FROM ${lake.goldSql()} ORDER BY SHOP_WEEK, BASKET_ID`);
    expect(rows.length).toBe(gold.batch.size);
    const serving = new BasketFeatures(statistics);
    const single = new Float32Array(FEATURE_COUNT);
    let compared = 0;
    for (const [index, row] of rows.entries()) {
      expect(Number(row.BASKET_ID)).toBe(gold.basketIds[index]);
      serving.compute(basketBatchFromBaskets([asApiBasket(row)]), 0, single, 0);
      const expected = batchValues.subarray(index * FEATURE_COUNT, (index + 1) * FEATURE_COUNT);
      if (!Buffer.from(single.buffer).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))) {
        const differing = FEATURE_NAMES.filter((_, feature) => !Object.is(single[feature], expected[feature]));
        throw new Error(`basket ${row.BASKET_ID}: features differ in ${differing.join(', ')}`);
      }
      compared += 1;
    }
    expect(compared).toBe(16_011);
    // the comparison covers every kind of price-tier line: confident, undetermined, and unseen (the category fallback)
    const column = (name: string): number[] => Array.from({ length: gold.batch.size }, (_, basket) => batchValues[basket * FEATURE_COUNT + FEATURE_NAMES.indexOf(name)]);
    const confident = column('price_tier_confident_lines');
    const lines = Array.from({ length: gold.batch.size }, (_, basket) => gold.batch.lineStart[basket + 1] - gold.batch.lineStart[basket]);
    expect(confident.filter((count, basket) => count === lines[basket]).length).toBeGreaterThan(5_000);
    expect(confident.filter((count, basket) => count < lines[basket]).length).toBeGreaterThan(1_000);
    const counted = ['price_tier_count_LA', 'price_tier_count_MM', 'price_tier_count_UM'].map(column);
    expect(counted[0].some((count, basket) => !Number.isInteger(count + counted[1][basket] + counted[2][basket]))).toBe(true);
  });

  it('has a stable spec: names, count and hash agree', () => {
    expect(FEATURE_SPEC.names.length).toBe(FEATURE_COUNT);
    expect(new Set(FEATURE_SPEC.names).size).toBe(FEATURE_COUNT);
    expect(FEATURE_SPEC.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('fits statistics on the given rows only: a test week changes nothing in them', () => {
    const trainRows = Int32Array.from({ length: gold.batch.size }, (_, index) => index).filter((row) => gold.batch.week[row] !== 200611);
    const withoutTest = fitFeatureStatistics(gold.batch, trainRows);
    expect(withoutTest.weeks).toEqual([200607, 200609, 200610]);
    const all = fitFeatureStatistics(gold.batch, Int32Array.from({ length: gold.batch.size }, (_, index) => index));
    expect(all.baskets).toBeGreaterThan(withoutTest.baskets);
  });

  it('describes training rows out of fold: no basket sees statistics that include its own label', () => {
    const rows = Int32Array.from({ length: gold.batch.size }, (_, index) => index).filter((row) => gold.batch.week[row] === 200607 && gold.batch.label[row] >= 0);
    const inFold = featureMatrix(new BasketFeatures(fitFeatureStatistics(gold.batch, rows)), gold.batch, rows);
    const outOfFold = outOfFoldFeatures(gold.batch, rows).values;
    // in-fold statistics leak the label: the naive-Bayes feature then "predicts" the training label far better
    const naiveBayes = FEATURE_NAMES.indexOf('product_naive_bayes_LA');
    const accuracy = (values: Float32Array): number => {
      let correct = 0;
      rows.forEach((row, index) => {
        const scores = values.subarray(index * FEATURE_COUNT + naiveBayes, index * FEATURE_COUNT + naiveBayes + 3);
        const predicted = scores[0] >= scores[1] && scores[0] >= scores[2] ? 0 : scores[1] >= scores[2] ? 1 : 2;
        if (predicted === gold.batch.label[row]) correct += 1;
      });
      return correct / rows.length;
    };
    expect(accuracy(inFold)).toBeGreaterThan(accuracy(outOfFold) + 0.1);
  });
});

describe('the API path\'s conversion and the per-product cache', () => {
  const basket = (lines: ReadonlyArray<readonly [product: string, class10: string]>): Basket => ({
    context: { STORE_CODE: 'STORE00001', STORE_FORMAT: 'LS', STORE_REGION: 'E02', SHOP_WEEKDAY: 3, SHOP_HOUR: 17, BASKET_TYPE: 'Top Up', BASKET_DOMINANT_MISSION: 'Fresh' },
    lines: lines.map(([product, class10]) => ({
      PROD_CODE: product,
      PROD_CODE_10: class10,
      PROD_CODE_20: 'DEP00001',
      PROD_CODE_30: 'G00001',
      PROD_CODE_40: 'D00001',
      QUANTITY: 2,
      SPEND: 3.5,
    })),
  });

  it('treats category codes beyond Int16 as unknown instead of wrapping them onto another category', () => {
    const batch = basketBatchFromBaskets([basket([['PRD0900001', 'CL00001'], ['PRD0900002', 'CL40000'], ['PRD0900003', 'CL65537'], ['PRD0900004', 'CL32767']])]);
    expect(Array.from(batch.product10)).toEqual([1, -1, -1, 32767]);
  });

  it('gives a basket the same features whatever the instance computed before (the cache checks a product\'s parents)', async () => {
    const scratch = temporaryDirectory();
    try {
      await ingest({ inputs: SAMPLE_FILES.slice(0, 1), lake: path.join(scratch.path, 'lake') });
      const gold = await readGoldBaskets(await Lake.open(path.join(scratch.path, 'lake')));
      const statistics = fitFeatureStatistics(gold.batch, Int32Array.from({ length: gold.batch.size }, (_, index) => index));
      const product = `PRD${String(gold.batch.product[0]).padStart(7, '0')}`;
      const own = `CL${String(gold.batch.product10[0]).padStart(5, '0')}`;
      const other = `CL${String((gold.batch.product10[0] % 200) + 1).padStart(5, '0')}`;
      expect(other).not.toBe(own);
      // the same product under its own class and under another one
      const first = basketBatchFromBaskets([basket([[product, own]])]);
      const second = basketBatchFromBaskets([basket([[product, other]])]);
      const fresh = (batch: typeof first): Float32Array => featureMatrix(new BasketFeatures(statistics), batch);
      // one instance sees the product under the other class first, then under its own
      const shared = new BasketFeatures(statistics);
      expect(Array.from(featureMatrix(shared, second))).toEqual(Array.from(fresh(second)));
      expect(Array.from(featureMatrix(shared, first))).toEqual(Array.from(fresh(first)));
      expect(Array.from(fresh(first))).not.toEqual(Array.from(fresh(second)));
    } finally {
      scratch.remove();
    }
  });
});
