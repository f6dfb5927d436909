import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateBasketBatch, type BasketBatch } from '../../../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../../../core/features/compute';
import {
  fitPriceTiers,
  fitThresholds,
  priceTiersDocumentProblems,
  priceTiersFromDocument,
  priceTiersToDocument,
  tierMargin,
  tierRuleLabel,
  type PriceTiers,
} from '../../../core/features/price-tiers';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC } from '../../../core/features/spec';
import { fitFeatureStatistics, statisticsFromDocument, type FeatureStatisticsDocument } from '../../../core/features/statistics';
import { outOfFoldFeatures } from '../../../core/features/training-matrix';
import { readGoldBaskets } from '../../../core/lake/gold-reader';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { trainInProcess } from '../../../core/training/in-process';
import { TRAINING_SPECIFICATION_VERSION } from '../../../core/training/port';
import { SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

/** A batch of baskets given as [label, product numbers]; every line's category codes are 1. */
function batchOf(baskets: ReadonlyArray<readonly [label: number, products: readonly number[]]>): BasketBatch {
  const lines = baskets.reduce((sum, [, products]) => sum + products.length, 0);
  const batch = allocateBasketBatch(baskets.length, lines);
  let line = 0;
  baskets.forEach(([label, products], index) => {
    batch.label[index] = label;
    batch.week[index] = 1;
    batch.lineStart[index] = line;
    for (const product of products) {
      batch.product[line] = product;
      batch.product10[line] = 1;
      batch.product20[line] = 1;
      batch.product30[line] = 1;
      batch.product40[line] = 1;
      batch.quantity[line] = 1;
      batch.spend[line] = 1;
      line += 1;
    }
  });
  batch.lineStart[baskets.length] = line;
  return batch;
}

const LA = 0;
const MM = 1;
const UM = 2;

describe('the tier search on baskets whose answer is known', () => {
  // products 1–3 are LA, 4–6 MM, 7–9 UM; labels follow the rule with thresholds -0.2 / 0.2
  const tierOf = (product: number): number => Math.floor((product - 1) / 3);
  const baskets: Array<[number, number[]]> = [];
  const combinations = [[1], [4], [7], [2, 5], [3, 8], [6, 9], [1, 2, 7], [4, 5, 9], [7, 8, 1], [2, 4, 6, 8], [3, 7, 9, 8, 5], [1, 4, 7], [2, 9], [5, 6], [1, 2, 3, 7, 8]];
  // each combination three times, its products rotated by a tier each time
  for (let rotation = 0; rotation < 3; rotation++) {
    for (const combination of combinations) {
      const products = combination.map((product) => ((product + rotation * 3 - 1) % 9) + 1);
      const score = products.reduce((sum, product) => sum + tierOf(product) - 1, 0) / products.length;
      baskets.push([tierRuleLabel(score, -0.2, 0.2), products]);
    }
  }
  const batch = batchOf(baskets);
  const rows = Int32Array.from(baskets.keys());

  it('finds every product\'s tier and thresholds that give every label', () => {
    const tiers = fitPriceTiers(batch, rows);
    expect(tiers.basketAgreement).toBe(1);
    for (let product = 1; product <= 9; product++) expect(tiers.productTier[product], `product ${product}`).toBe(tierOf(product));
    expect(tiers.productTier[0]).toBe(-1);
    expect(tierMargin(tiers, 0)).toBe(-1);
    for (let product = 1; product <= 9; product++) expect(tierMargin(tiers, product)).toBeGreaterThanOrEqual(1);
    for (const [label, products] of baskets) {
      const score = products.reduce((sum, product) => sum + tiers.productTier[product] - 1, 0) / products.length;
      expect(tierRuleLabel(score, tiers.lowerThreshold, tiers.upperThreshold)).toBe(label);
    }
    expect(tiers.tierPrior).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(Array.from(tiers.levelTierCounts.product10.subarray(3, 6))).toEqual([3, 3, 3]);
  });

  it('skips unlabelled baskets and is deterministic', () => {
    const withUnknown = batchOf([...baskets, [-1, [1, 1, 1, 1]]]);
    const first = fitPriceTiers(withUnknown, Int32Array.from({ length: withUnknown.size }, (_, index) => index));
    const second = fitPriceTiers(batch, rows);
    expect(priceTiersToDocument(first)).toEqual(priceTiersToDocument(second));
  });

  it('round-trips through its JSON document, which lists only products with a tier', () => {
    const tiers = fitPriceTiers(batch, rows);
    const document = JSON.parse(JSON.stringify(priceTiersToDocument(tiers))) as ReturnType<typeof priceTiersToDocument>;
    expect(document.products).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(priceTiersDocumentProblems(document)).toEqual([]);
    const back: PriceTiers = priceTiersFromDocument(document);
    expect(Array.from(back.productTier)).toEqual(Array.from(tiers.productTier));
    expect(Array.from(back.productAgreement)).toEqual(Array.from(tiers.productAgreement));
    expect(priceTiersDocumentProblems({ ...document, productTiers: [3], products: [2, 1] })).toEqual([
      'priceTiers.products must be product numbers, ascending',
      'priceTiers.productTiers must be one tier (0, 1 or 2) per product',
      'priceTiers.productAgreement must be three numbers per product',
    ]);
  });
});

describe('the thresholds', () => {
  it('cut halfway between the scores that separate the labels best', () => {
    // scores -1, -0.5, 0, 0.5, 1 with labels LA, LA, MM, UM, UM
    const thresholds = fitThresholds(Int32Array.from([-2, -1, 0, 1, 2]), Int32Array.from([2, 2, 2, 2, 2]), Int8Array.from([LA, LA, MM, UM, UM]));
    expect(thresholds).toEqual({ lower: -0.25, upper: 0.25 });
  });

  it('may leave a class empty when that agrees with more labels', () => {
    const thresholds = fitThresholds(Int32Array.from([-1, 0, 0, 1]), Int32Array.from([1, 1, 1, 1]), Int8Array.from([MM, UM, UM, UM]));
    expect(tierRuleLabel(-1, thresholds.lower, thresholds.upper)).toBe(MM);
    expect(tierRuleLabel(0, thresholds.lower, thresholds.upper)).toBe(UM);
  });
});

describe('price tiers on the real sample: fitted on training weeks only, out of fold for training rows', () => {
  const scratch = temporaryDirectory();
  let lakeDirectory: string;
  let batch: BasketBatch;
  const TEST_WEEK = 200611;
  const labelled = (test: boolean): Int32Array =>
    Int32Array.from({ length: batch.size }, (_, index) => index).filter((row) => batch.label[row] >= 0 && (batch.week[row] === TEST_WEEK) === test);

  beforeAll(async () => {
    lakeDirectory = path.join(scratch.path, 'lake');
    await ingest({ inputs: SAMPLE_FILES, lake: lakeDirectory });
    ({ batch } = await readGoldBaskets(await Lake.open(lakeDirectory)));
  });
  afterAll(() => scratch.remove());

  it('fits a rule the training labels follow (99% of them), with thresholds near -0.23 / 0.2', () => {
    const tiers = fitPriceTiers(batch, labelled(false));
    expect(tiers.basketAgreement).toBeGreaterThan(0.98);
    expect(tiers.lowerThreshold).toBeGreaterThan(-0.25);
    expect(tiers.lowerThreshold).toBeLessThan(-0.2);
    expect(tiers.upperThreshold).toBeGreaterThan(0.16);
    expect(tiers.upperThreshold).toBeLessThan(0.2);
    expect(tiers.sweeps).toBeLessThan(20);
  });

  it('learns nothing from the test week: its labels can change, the tiers do not; its own products get none', () => {
    const train = labelled(false);
    const before = priceTiersToDocument(fitPriceTiers(batch, train));
    const scrambled = { ...batch, label: batch.label.map((label, row) => (batch.week[row] === TEST_WEEK && label >= 0 ? (label + 1) % 3 : label)) };
    expect(priceTiersToDocument(fitPriceTiers(scrambled, train))).toEqual(before);
    const trainingProducts = new Set<number>();
    for (const row of train) for (let line = batch.lineStart[row]; line < batch.lineStart[row + 1]; line++) trainingProducts.add(batch.product[line]);
    const onlyInTest = new Set<number>();
    for (const row of labelled(true)) {
      for (let line = batch.lineStart[row]; line < batch.lineStart[row + 1]; line++) if (!trainingProducts.has(batch.product[line])) onlyInTest.add(batch.product[line]);
    }
    expect(onlyInTest.size).toBeGreaterThan(10);
    const tiered = new Set(before.products);
    expect([...onlyInTest].filter((product) => tiered.has(product))).toEqual([]);
    expect(before.products.length).toBe(trainingProducts.size);
  });

  it('describes training rows out of fold: in-fold tiers would give the rule nearly every training label', () => {
    const rows = labelled(false);
    const score = FEATURE_NAMES.indexOf('price_tier_score');
    const ruleAccuracy = (values: Float32Array, tiers: PriceTiers): number => {
      let correct = 0;
      rows.forEach((row, index) => {
        if (tierRuleLabel(values[index * FEATURE_COUNT + score], tiers.lowerThreshold, tiers.upperThreshold) === batch.label[row]) correct += 1;
      });
      return correct / rows.length;
    };
    const inFoldStatistics = fitFeatureStatistics(batch, rows);
    const inFold = ruleAccuracy(featureMatrix(new BasketFeatures(inFoldStatistics), batch, rows), inFoldStatistics.priceTiers);
    const outOfFold = outOfFoldFeatures(batch, rows);
    const held = ruleAccuracy(outOfFold.values, outOfFold.statistics.priceTiers);
    expect(inFold).toBeGreaterThan(0.98);
    // out of fold the rule does about as well as on the test week (0.94): not better
    expect(held).toBeLessThan(0.95);
    expect(held).toBeGreaterThan(0.85);
  });

  it('ships with a trained model: the artifact holds the tiers of the training and validation weeks, none of the test week', async () => {
    const lake = await Lake.open(lakeDirectory);
    const split = { trainWeeks: [200607, 200609], validationWeeks: [200610], testWeeks: [TEST_WEEK] };
    const trained = await trainInProcess({
      specificationVersion: TRAINING_SPECIFICATION_VERSION,
      name: 'price-tiers-test',
      dataset: { uri: lakeDirectory, version: lake.manifest.version },
      split,
      featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
      algorithm: 'lr',
      hyperparameters: { maxIterations: 30 },
      seed: 42,
    });
    const document = JSON.parse(JSON.stringify(trained.featureStatistics)) as FeatureStatisticsDocument;
    expect(document.weeks).toEqual([200607, 200609, 200610]);
    const expected = priceTiersToDocument(fitPriceTiers(batch, labelled(false)));
    expect(document.priceTiers).toEqual(expected);
    expect(statisticsFromDocument(document).priceTiers.lowerThreshold).toBe(expected.lowerThreshold);
  });
});
