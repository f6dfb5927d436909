/**
 * `npm run bench:features [-- rows]`: the feature function's speed on both paths — batch (gold →
 * matrix, target ≥ 200k baskets/s) and serving (one API basket → vector, target ≤ 10 µs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cachedSample } from './cached-sample';
import { basketBatchFromBaskets } from '../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../core/features/compute';
import { FEATURE_COUNT } from '../core/features/spec';
import { fitFeatureStatistics } from '../core/features/statistics';
import { readGoldBaskets } from '../core/lake/gold-reader';
import { ingest } from '../core/lake/ingest';
import { Lake } from '../core/lake/lake';
import { BASKET_MISSIONS, BASKET_TYPES, STORE_FORMATS, STORE_REGIONS, type Basket } from '../core/schema/lgsr';

async function bench(): Promise<void> {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const directory = await mkdtemp(path.join(tmpdir(), 'bench-features-'));
  try {
    await ingest({ inputs: [cachedSample(rows)], lake: directory });
    const { batch } = await readGoldBaskets(await Lake.open(directory));
    const all = Int32Array.from({ length: batch.size }, (_, index) => index);
    const features = new BasketFeatures(fitFeatureStatistics(batch, all));
    featureMatrix(features, batch, all.subarray(0, 10_000)); // warm-up
    let started = performance.now();
    featureMatrix(features, batch);
    let seconds = (performance.now() - started) / 1000;
    process.stdout.write(`batch: ${batch.size.toLocaleString('en')} baskets × ${FEATURE_COUNT} features in ${seconds.toFixed(3)} s = ${Math.round(batch.size / seconds).toLocaleString('en')} baskets/s\n`);

    // serving: API-shaped baskets (text codes) → batch of one → vector
    const baskets: Basket[] = [];
    for (let index = 0; index < 20_000; index++) {
      const basket = index % batch.size;
      const lines = [];
      for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) {
        lines.push({
          PROD_CODE: `PRD${String(batch.product[line]).padStart(7, '0')}`,
          PROD_CODE_10: `CL${String(batch.product10[line]).padStart(5, '0')}`,
          PROD_CODE_20: `DEP${String(batch.product20[line]).padStart(5, '0')}`,
          PROD_CODE_30: `G${String(batch.product30[line]).padStart(5, '0')}`,
          PROD_CODE_40: `D${String(batch.product40[line]).padStart(5, '0')}`,
          QUANTITY: batch.quantity[line],
          SPEND: batch.spend[line],
        });
      }
      baskets.push({
        context: {
          STORE_CODE: `STORE${String(batch.storeNumber[basket]).padStart(5, '0')}`,
          STORE_FORMAT: STORE_FORMATS[batch.storeFormat[basket] - 1] ?? 'LS',
          STORE_REGION: STORE_REGIONS[batch.storeRegion[basket] - 1] ?? 'E01',
          SHOP_WEEKDAY: batch.weekday[basket],
          SHOP_HOUR: batch.hour[basket],
          BASKET_TYPE: BASKET_TYPES[batch.basketType[basket] - 1] ?? 'XX',
          BASKET_DOMINANT_MISSION: BASKET_MISSIONS[batch.mission[basket] - 1] ?? 'XX',
        },
        lines,
      });
    }
    const out = new Float32Array(FEATURE_COUNT);
    for (let index = 0; index < 2_000; index++) features.compute(basketBatchFromBaskets([baskets[index]]), 0, out, 0);
    started = performance.now();
    for (const basket of baskets) features.compute(basketBatchFromBaskets([basket]), 0, out, 0);
    seconds = (performance.now() - started) / 1000;
    process.stdout.write(`serving: ${((seconds / baskets.length) * 1e6).toFixed(2)} µs per basket (parse + features, one at a time, ${baskets.length.toLocaleString('en')} baskets)\n`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench:features: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
