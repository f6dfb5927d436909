/**
 * The generator's hidden product tiers and basket rule, measured the way the model measures them
 * (core/features/price-tiers.ts fitted on every labelled basket), agree with the real sample's: the
 * same thresholds, the same tier shares, baskets that mix tiers as much, and the same label shares by
 * basket length. So a model's numbers on generated data (`npm start`) say something about real data.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BasketBatch } from '../../../core/features/basket-batch';
import { fitPriceTiers, tierMargin, tierRuleLabel, type PriceTiers } from '../../../core/features/price-tiers';
import { TIER_RULE_THRESHOLDS } from '../../../core/generator/basket-synthesis';
import { generateLgsr } from '../../../core/generator/generator';
import { readGoldBaskets } from '../../../core/lake/gold-reader';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

interface Measured {
  readonly tiers: PriceTiers;
  /** Shares of the products whose tier wins by two baskets or more, per tier. */
  readonly productTierShares: number[];
  /** Per basket label: shares of its lines per tier (baskets of 3+ lines whose every product is sure). */
  readonly lineTierSharesByLabel: number[][];
  /** Per line count 1…4: label shares. */
  readonly labelSharesByLines: number[][];
}

const SURE_MARGIN = 2;

function measure(batch: BasketBatch): Measured {
  const rows = Int32Array.from({ length: batch.size }, (_, index) => index).filter((row) => batch.label[row] >= 0);
  const tiers = fitPriceTiers(batch, rows);
  const sure = (product: number): boolean => tierMargin(tiers, product) >= SURE_MARGIN;
  const productTiers = [0, 0, 0];
  for (let product = 0; product < tiers.productTier.length; product++) if (sure(product)) productTiers[tiers.productTier[product]]++;
  const lineTiers = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const labelsByLines = Array.from({ length: 4 }, () => [0, 0, 0]);
  for (const row of rows) {
    const lines = batch.lineStart[row + 1] - batch.lineStart[row];
    if (lines <= 4) labelsByLines[lines - 1][batch.label[row]]++;
    if (lines < 3) continue;
    const counts = [0, 0, 0];
    let allSure = true;
    for (let line = batch.lineStart[row]; line < batch.lineStart[row + 1]; line++) {
      if (!sure(batch.product[line])) allSure = false;
      else counts[tiers.productTier[batch.product[line]]]++;
    }
    if (allSure) counts.forEach((count, tier) => (lineTiers[batch.label[row]][tier] += count));
  }
  const normalised = (counts: number[]): number[] => counts.map((count) => count / counts.reduce((sum, value) => sum + value, 0));
  return { tiers, productTierShares: normalised(productTiers), lineTierSharesByLabel: lineTiers.map(normalised), labelSharesByLines: labelsByLines.map(normalised) };
}

const maxDifference = (left: readonly number[], right: readonly number[]): number => Math.max(...left.map((value, index) => Math.abs(value - right[index])));

describe('the generator\'s hidden tiers and basket rule, against the real sample\'s', () => {
  const scratch = temporaryDirectory();
  let real: Measured;
  let generated: Measured;

  beforeAll(async () => {
    await ingest({ inputs: SAMPLE_FILES, lake: path.join(scratch.path, 'real') });
    real = measure((await readGoldBaskets(await Lake.open(path.join(scratch.path, 'real')))).batch);
    // as much data as the sample: four weeks, about 105k rows
    const generatedDirectory = path.join(scratch.path, 'generated');
    await generateLgsr({ rows: 105_000, weeks: 4, seed: 42, out: `${generatedDirectory}/` });
    await ingest({ inputs: [generatedDirectory], lake: path.join(scratch.path, 'generated-lake') });
    generated = measure((await readGoldBaskets(await Lake.open(path.join(scratch.path, 'generated-lake')))).batch);
  });
  afterAll(() => scratch.remove());

  it('fits a rule that gives nearly every label, on both', () => {
    expect(real.tiers.basketAgreement).toBeGreaterThan(0.98);
    expect(generated.tiers.basketAgreement).toBeGreaterThan(0.98);
  });

  it('fits the same two thresholds on both, and the generator\'s own are the real ones', () => {
    expect(Math.abs(generated.tiers.lowerThreshold - real.tiers.lowerThreshold)).toBeLessThan(0.01);
    expect(Math.abs(generated.tiers.upperThreshold - real.tiers.upperThreshold)).toBeLessThan(0.01);
    expect(Math.abs(TIER_RULE_THRESHOLDS.lower - real.tiers.lowerThreshold)).toBeLessThan(0.01);
    expect(Math.abs(TIER_RULE_THRESHOLDS.upper - real.tiers.upperThreshold)).toBeLessThan(0.01);
    // the rule then labels every score a basket of up to 12 lines can have the same way
    const disagreements: string[] = [];
    for (let lines = 1; lines <= 12; lines++) {
      for (let difference = -lines; difference <= lines; difference++) {
        const score = difference / lines;
        const fromReal = tierRuleLabel(score, real.tiers.lowerThreshold, real.tiers.upperThreshold);
        if (tierRuleLabel(score, generated.tiers.lowerThreshold, generated.tiers.upperThreshold) !== fromReal) disagreements.push(`${difference}/${lines}`);
        if (tierRuleLabel(score, TIER_RULE_THRESHOLDS.lower, TIER_RULE_THRESHOLDS.upper) !== fromReal) disagreements.push(`${difference}/${lines} (generator)`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('puts as many products at each tier', () => {
    expect(maxDifference(generated.productTierShares, real.productTierShares)).toBeLessThan(0.05);
  });

  it('mixes tiers within a basket as much as the real baskets do', () => {
    for (let label = 0; label < 3; label++) {
      expect(maxDifference(generated.lineTierSharesByLabel[label], real.lineTierSharesByLabel[label])).toBeLessThan(0.07);
    }
  });

  it('gives short baskets the real label shares (the rule\'s signature: mostly MM alone, rarely MM with four lines)', () => {
    for (let lines = 0; lines < 4; lines++) expect(maxDifference(generated.labelSharesByLines[lines], real.labelSharesByLines[lines])).toBeLessThan(0.07);
  });
});
